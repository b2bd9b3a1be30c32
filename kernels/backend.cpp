#include "convbench/backend.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace convbench {

std::string_view to_string(Precision p) {
  switch (p) {
    case Precision::f32: return "f32";
    case Precision::bf16: return "bf16";
    case Precision::int8: return "int8";
    case Precision::int8_chained: return "int8_chained";
  }
  return "?";
}

Precision parse_precision(std::string_view s) {
  for (Precision p : {Precision::f32, Precision::bf16, Precision::int8, Precision::int8_chained})
    if (s == to_string(p)) return p;
  throw Error("unknown precision '" + std::string(s) +
              "' (expected f32, bf16, int8 or int8_chained)");
}

std::string RunConfig::str() const {
  return std::string(to_string(layout)) + "/" + std::string(to_string(precision)) +
         (fuse_act ? "" : "/unfused");
}

std::string_view to_string(StepType t) {
  switch (t) {
    case StepType::conv: return "convolution";
    case StepType::depthwise: return "depthwise";
    case StepType::pointwise: return "pointwise";
    case StepType::activation: return "activation";
    case StepType::reorder: return "reorder";
    case StepType::join: return "join";
    case StepType::other: return "other";
  }
  return "?";
}

StepType step_type(const Stage& s) {
  if (s.conv.is_depthwise()) return StepType::depthwise;
  if (s.conv.kh == 1 && s.conv.kw == 1 && s.conv.g == 1) return StepType::pointwise;
  return StepType::conv;
}

void Prepared::run(const float* src, float* dst) {
  src_ = src;
  dst_ = dst;
  for (const Step& s : steps_) s.fn();
}

void Prepared::run_timed(const float* src, float* dst, std::vector<double>& step_seconds) {
  using clock = std::chrono::steady_clock;
  src_ = src;
  dst_ = dst;
  step_seconds.assign(steps_.size(), 0.0);
  auto t = clock::now();
  for (size_t i = 0; i < steps_.size(); ++i) {
    steps_[i].fn();
    const auto now = clock::now();
    step_seconds[i] = std::chrono::duration<double>(now - t).count();
    t = now;
  }
}

double library_share(Prepared& p, const float* src, float* dst, int runs) {
  if (p.library_seconds() < 0) return -1;
  std::vector<double> share;
  for (int r = 0; r < runs; ++r) {
    p.time_library(true);
    const auto t0 = std::chrono::steady_clock::now();
    p.run(src, dst);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    share.push_back(p.library_seconds() / s);
  }
  p.time_library(false);
  std::sort(share.begin(), share.end());
  return share[share.size() / 2];
}

StagedPrepared::StagedPrepared(const Layer& l) : StagedPrepared(l.stages()) {}

StagedPrepared::StagedPrepared(std::vector<Stage> stages) : stages_(std::move(stages)) {
  for (size_t i = 0; i + 1 < stages_.size(); ++i)
    tmp_.emplace_back(static_cast<size_t>(stages_[i].conv.dst_elems()));
}

int64_t StagedPrepared::intermediate_bytes() const {
  int64_t n = 0;
  for (const Buffer& t : tmp_) n += static_cast<int64_t>(t.size() * sizeof(float));
  return n;
}

std::string Prepared::impl() const {
  std::string s;
  for (const Step& st : steps_) s += (s.empty() ? "" : " ") + st.name + "=" + st.impl;
  return s;
}

// Normalised error bounds, max|y - ref| / max(1, largest pre-activation value),
// by precision:
// f32: the data are multiples of 1/8, so every convolution sum is exact in float
//      and differences come only from vectorised activations (a few ulp);
// bf16: 8 significant bits for intermediates: 2^-8 relative per rounding, a few
//      roundings per layer;
// int8: 7 bits per quantised tensor (max-abs scaling), errors add per stage;
// int8_chained: every tensor of a network quantised, so errors add per layer
//      (the test network needs 0.016; the zoo's worst, Mask R-CNN, 0.091:
//      bench/results/2026-12-01-intel-xeon-2vcpu/studies/studies_accuracy.csv).
double Backend::tolerance(const RunConfig& cfg) const {
  switch (cfg.precision) {
    case Precision::f32: return 1e-5;
    case Precision::bf16: return 1e-2;
    case Precision::int8: return 5e-2;
    case Precision::int8_chained: return 1e-1;
  }
  return 0;
}

namespace {
int g_threads = 1;
}

void record_threads(int n) { g_threads = n; }

int threads() { return g_threads; }

}  // namespace convbench
