// One registry of backends that tools, tests and benchmarks iterate.
// A backend prepares a layer once (packing, primitives, workspace), then runs it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "convbench/layer.hpp"
#include "convbench/reference.hpp"

namespace convbench {

// A layer made ready to run: only run() is timed.
class Prepared {
 public:
  virtual ~Prepared() = default;
  // src and dst are the user tensors, in the layout the layer was prepared for.
  virtual void run(const float* src, float* dst) = 0;
  // What actually runs, stage by stage (e.g. "ref_direct:nchw").
  virtual std::string impl() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Non-empty: why this backend cannot run on this machine or build.
  virtual std::string unavailable() const { return {}; }
  // Non-empty: why this backend refuses this problem.
  virtual std::string refuse(const Layer& l, Layout layout) const = 0;
  virtual std::unique_ptr<Prepared> prepare(const Layer& l, Layout layout,
                                            const LayerData& data) const = 0;
};

// In a fixed order: the reference comes first, as the oracle.
const std::vector<const Backend*>& backends();
// Throws Error naming the known backends when there is no such name.
const Backend& find_backend(std::string_view name);

}  // namespace convbench
