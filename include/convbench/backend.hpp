// One registry of backends that tools, tests and benchmarks iterate.
// A backend prepares a layer once (packing, primitives, workspace), then runs it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "convbench/layer.hpp"
#include "convbench/buffer.hpp"
#include "convbench/data.hpp"

namespace convbench {

// int8: every convolution quantises its f32 input and dequantises its output
// (the reorders are the point); int8_chained: a network keeps s8/u8 tensors
// from layer to layer, with reorders only at its inputs and outputs (networks
// only, on backends that implement prepare_network).
enum class Precision { f32, bf16, int8, int8_chained };
std::string_view to_string(Precision p);
Precision parse_precision(std::string_view s);  // throws Error

// How a layer is run: the user tensors' layout, the arithmetic, and whether the
// activation is fused into the convolution or run as a pass of its own.
struct RunConfig {
  Layout layout = Layout::nhwc;
  Precision precision = Precision::f32;
  bool fuse_act = true;
  std::string str() const;  // "nhwc/f32" plus "/unfused"
};

// What one step of a prepared layer is, for per-layer-type profiles.
enum class StepType { conv, depthwise, pointwise, activation, reorder, join, other };
std::string_view to_string(StepType t);
// depthwise / pointwise / convolution, from what the stage computes.
StepType step_type(const Stage& s);

// A layer made ready to run: only run() is timed. A run is a fixed sequence of
// steps (reorders, convolutions, activations) that can also be timed one by one.
class Prepared {
 public:
  struct Step {
    std::string name;  // e.g. "stage0", "reorder:src", "act1"
    StepType type;
    std::string impl;  // what runs, e.g. "brgconv:avx512_core"
    std::function<void()> fn;
  };

  virtual ~Prepared() = default;
  // src and dst are the user tensors, in the layout the layer was prepared for.
  void run(const float* src, float* dst);
  // The same, recording each step's wall time in seconds into step_seconds.
  void run_timed(const float* src, float* dst, std::vector<double>& step_seconds);
  const std::vector<Step>& steps() const { return steps_; }
  // Every step's implementation, "name=impl" joined by " ".
  std::string impl() const;

  // Bytes the prepared layer holds: its packed weights and biases, and its
  // workspace (scratchpads, indirection tables, row buffers, im2col columns,
  // intermediate tensors). -1 where a library does not say.
  struct Memory {
    int64_t weights = -1, workspace = -1;
  };
  virtual Memory memory_use() const { return {}; }

  // For backends that surround a library call (a GEMM) with glue of their own:
  // while on, the seconds spent inside the library's calls are summed, so that
  // a harness can report what share of a run is the library itself. Off by
  // default: the timed loop pays nothing. library_seconds() < 0: not measured.
  void time_library(bool on) { lib_on_ = on, lib_seconds_ = 0; }
  double library_seconds() const { return lib_measured_ ? lib_seconds_ : -1; }

 protected:
  template <class F>
  void library_call(F&& f) {
    if (!lib_on_) return f();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    lib_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  bool lib_measured_ = false;  // set by backends that call library_call()

  std::vector<Step> steps_;
  const float* src_ = nullptr;  // valid while a run is in progress
  float* dst_ = nullptr;

 private:
  bool lib_on_ = false;
  double lib_seconds_ = 0;
};

// A layer run stage by stage (the reference, im2col, the SIMD kernels,
// XNNPACK): its stages, the tensors between them, where each stage reads and
// writes during a run, and the steps' names.
class StagedPrepared : public Prepared {
 protected:
  explicit StagedPrepared(const Layer& l);
  explicit StagedPrepared(std::vector<Stage> stages);
  const float* in(size_t i) const { return i == 0 ? src_ : tmp_[i - 1].data(); }
  float* out(size_t i) { return i + 1 == stages_.size() ? dst_ : tmp_[i].data(); }
  static std::string stage_name(size_t i) { return "stage" + std::to_string(i); }
  static std::string act_name(size_t i) { return "act" + std::to_string(i); }
  int64_t intermediate_bytes() const;
  // Stage i's output is never written (a fused step computes stage i + 1 from
  // stage i's input): its tensor is freed.
  void drop_intermediate(size_t i) { Buffer().swap(tmp_[i]); }

  std::vector<Stage> stages_;

 private:
  std::vector<Buffer> tmp_;  // the output of every stage but the last
};

struct Model;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Non-empty: why this backend cannot run on this machine or build.
  virtual std::string unavailable() const { return {}; }
  // Non-empty: why this backend refuses this problem or configuration.
  virtual std::string refuse(const Layer& l, const RunConfig& cfg) const = 0;
  virtual std::unique_ptr<Prepared> prepare(const Layer& l, const RunConfig& cfg,
                                            const LayerData& data) const = 0;

  // A whole network prepared at once, for configurations whose tensors between
  // layers are the backend's own (int8_chained). The runner gives, per node,
  // the layer data (convolutions), the largest |value| the node's output took
  // in calibration, and its f32 buffer where the network reads or returns one
  // (inputs, markers, outputs; null elsewhere). The result is what the runner
  // executes in order: (node, prepared), run with null src and dst. Empty: the
  // backend prepares layer by layer only.
  struct NetworkData {
    std::vector<LayerData> layers;
    std::vector<float> range;
    std::vector<float*> f32;
  };
  virtual std::vector<std::pair<size_t, std::unique_ptr<Prepared>>> prepare_network(
      const Model& m, const RunConfig& cfg, const NetworkData& data) const {
    return {};
  }
  // Two network layers, a depthwise one and the one that alone reads its output
  // (f32), as one prepared layer whose stages are theirs, where the backend
  // computes them together and the tensor between them never reaches memory;
  // data holds both stages' weights and biases. Null: the backend does not
  // fuse these, and the runner prepares each layer alone.
  virtual std::unique_ptr<Prepared> prepare_fused(const std::vector<Stage>& stages,
                                                  const RunConfig& cfg,
                                                  const LayerData& data) const {
    return nullptr;
  }
  // Library name and version, e.g. "oneDNN 2.6.3"; empty for our own code.
  virtual std::string version() const { return {}; }
  // Called by set_threads(); for libraries with their own thread pools.
  virtual void on_threads(int n) const {}
  // Largest acceptable normalised error against the reference (see tests).
  virtual double tolerance(const RunConfig& cfg) const;
};

// The median share, over `runs` runs, of a run's wall time spent inside the
// wrapped library's calls; negative when the backend does not measure it.
double library_share(Prepared& p, const float* src, float* dst, int runs = 5);

// In a fixed order: the reference comes first, as the oracle.
const std::vector<const Backend*>& backends();
// Throws Error naming the known backends when there is no such name.
const Backend& find_backend(std::string_view name);

// Peers at their best: OpenBLAS picks its kernels once, at load time, from its
// own CPU table, and 0.3.21 falls back to an SSE3 core (Prescott) on CPUs it
// does not know (Intel family 6 model 207, for one). When OPENBLAS_CORETYPE is
// unset and the detected core is below what the CPU runs, this sets it to the
// best core the CPU's flags allow and re-executes the program (argv as given);
// otherwise it returns. The core in use is in the backend's version string.
void use_best_openblas_core(char** argv);

// The one place the thread count is set: the OpenMP runtime shared by oneDNN,
// OpenBLAS and our kernels, and every backend's own pool.
void set_threads(int n);  // kernels/registry.cpp
int threads();
void record_threads(int n);  // what set_threads() calls to keep the count

}  // namespace convbench
