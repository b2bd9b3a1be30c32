// libFuzzer target: any byte string either parses into a descriptor that prints
// and parses back to itself, or is refused with convbench::Error. Nothing else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "convbench/conv_desc.hpp"
#include "convbench/cost.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  convbench::ConvDesc d;
  try {
    d = convbench::ConvDesc::parse(text);
  } catch (const convbench::Error&) {
    return 0;
  }
  if (convbench::ConvDesc::parse(d.str()) != d) std::abort();
  if (convbench::conv_macs_effective(d) > convbench::conv_macs(d)) std::abort();
  for (convbench::Kind k : convbench::kAllKinds) {
    convbench::Layer l;
    l.kind = k;
    l.shape = d;
    try {
      (void)convbench::layer_cost(l);
    } catch (const convbench::Error&) {
    }
  }
  return 0;
}
