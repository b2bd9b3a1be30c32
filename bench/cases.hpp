// What the benchmark binary runs: its own flags, turned into a list of named
// cases. Kept apart from main() so that tests can check names and flag errors.
#pragma once

#include <string>
#include <vector>

#include "convbench/backend.hpp"
#include "convbench/model.hpp"

namespace convbench {

struct BenchOptions {
  std::vector<int> ks;  // empty: the shapes as given (default shape: 1..9)
  std::vector<Kind> kinds{kAllKinds.begin(), kAllKinds.end()};
  std::vector<Act> acts{Act::relu, Act::elu, Act::tanh};  // the study's three
  std::vector<std::string> backends;  // empty: every available backend but ref
  std::vector<ConvDesc> shapes;       // empty: the default base layer
  std::vector<int> threads{1};
  std::vector<Precision> precisions{Precision::f32};
  std::vector<Layout> layouts{Layout::nhwc};
  std::vector<bool> fused{true};
  bool models = false;  // the phone study's 12 networks instead of single layers
  std::vector<Model> networks;  // --networks: network files instead of single layers
  std::vector<std::string> network_files;  // their paths, as given
  bool runner_overhead = false;  // the runner alone, on empty steps
  // benchdnn's notion: io rotates input/output buffers, wei prepared copies of
  // the layer (so weights come from memory), all both.
  enum class Cold { none, io, wei, all } cold = Cold::none;
  bool pin = false;
  bool act_each = false;
  bool bias = false;
  uint64_t seed = 1;
};

// One benchmark: a layer or a network, on a backend, in a configuration.
struct BenchCase {
  // <kind>/<act>/<backend>[:prec][:layout][:unfused]/<shape>/k:<k>[/threads:N], or for a
  // network file network/<net>/<backend>[:prec][:layout][:unfused][/threads:N]
  std::string name;
  Layer layer;       // for a study model: its first layer of the kind (for k and kind)
  bool is_model = false;
  Model model;
  std::string backend;
  RunConfig cfg;
  int threads = 1;
};

inline constexpr const char* kDefaultBase = "mb1ic64ih56oc64oh56";

// Substitutes a k x k kernel, keeping the base's output size: the padding is
// derived from it (total k-1 at stride 1, the extra row and column at the
// bottom/right for even k). Throws Error when k does not fit.
ConvDesc with_kernel(const ConvDesc& base, int k);

// Parses convbench's own flags (Google Benchmark's are handled by it). Throws
// Error naming an unknown flag or a bad value. `rest` receives argv entries for
// Google Benchmark (--benchmark_*, --v).
BenchOptions parse_bench_flags(const std::vector<std::string>& args,
                               std::vector<std::string>& rest);
std::string bench_flags_help();

// Every case the options describe; `skipped` receives one line per refused
// backend/configuration with the reason.
std::vector<BenchCase> make_cases(const BenchOptions& o, std::vector<std::string>& skipped);

}  // namespace convbench
