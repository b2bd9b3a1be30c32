// The classic baseline: im2col, then one library GEMM per image and group.
// NCHW is Caffe's form (weights [oc][K] times columns [K][oh*ow]); NHWC builds
// rows [oh*ow][K] and multiplies by weights packed once to [K][oc]. 1x1 stride-1
// unpadded stages skip im2col. Depthwise stages run the same way with one GEMM
// per channel (Caffe's group loop): the honest GEMM equivalent, and slow.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "convbench/backend.hpp"
#include "convbench/buffer.hpp"
#include "gemm.hpp"
#include "kernels/simd/kernels.hpp"

namespace convbench {
namespace {

struct StageRun {
  Stage st;
  Layout layout;
  int64_t K;                  // icg * kh * kw
  bool direct;                // 1x1, stride 1, no padding, g = 1: no im2col
  std::vector<float> wei;     // NCHW: [oc][K] (PyTorch's); NHWC: [g][K][ocg]
  std::vector<float> bias;
  Buffer col;
};

class Im2colPrepared final : public StagedPrepared {
 public:
  Im2colPrepared(const Layer& l, const RunConfig& cfg, const LayerData& data, Sgemm gemm,
                 const std::string& lib)
      : StagedPrepared(l), gemm_(std::move(gemm)) {
    lib_measured_ = true;
    const std::vector<Stage>& st = stages_;
    for (size_t i = 0; i < st.size(); ++i) {
      const ConvDesc& c = st[i].conv;
      StageRun r{st[i], cfg.layout, c.icg() * c.kh * c.kw, false, {}, {}, {}};
      r.direct = c.kh == 1 && c.kw == 1 && c.sh == 1 && c.sw == 1 && c.ph == 0 && c.pw == 0 &&
                 c.pb == 0 && c.pr == 0 && c.g == 1;
      if (cfg.layout == Layout::nchw) {
        r.wei = data.weights[i];
        if (!r.direct) r.col.resize(static_cast<size_t>(r.K * c.oh * c.ow));
      } else {
        r.wei.resize(data.weights[i].size());
        const int64_t ocg = c.ocg(), icg = c.icg();
        for (int64_t g = 0; g < c.g; ++g)
          for (int64_t o = 0; o < ocg; ++o)
            for (int64_t ic = 0; ic < icg; ++ic)
              for (int64_t y = 0; y < c.kh; ++y)
                for (int64_t x = 0; x < c.kw; ++x)
                  r.wei[(g * r.K + (y * c.kw + x) * icg + ic) * ocg + o] =
                      data.weights[i][(((g * ocg + o) * icg + ic) * c.kh + y) * c.kw + x];
        if (!r.direct) r.col.resize(static_cast<size_t>(c.g * c.oh * c.ow * r.K));
      }
      if (st[i].bias) r.bias = data.biases[i];
      runs_.push_back(std::move(r));
    }
    for (size_t i = 0; i < runs_.size(); ++i) {
      const StageRun& r = runs_[i];
      const bool fused_act = cfg.fuse_act || r.st.act == Act::none;
      const std::string impl = std::string(r.direct ? "" : "im2col_") +
                               std::string(to_string(cfg.layout)) + "+" + lib +
                               (r.st.conv.g > 1 ? " x" + std::to_string(r.st.conv.g) + " groups" : "") +
                               (fused_act && r.st.act != Act::none ? " +" + std::string(to_string(r.st.act)) : "") +
                               (!r.bias.empty() || (fused_act && r.st.act != Act::none)
                                    ? " (epilogue bias_act_rows__" + simd::isa() + ")"
                                    : "");
      steps_.push_back({stage_name(i), step_type(r.st), impl,
                        [this, i, fused_act] { stage(i, fused_act); }});
      if (!fused_act)
        steps_.push_back({act_name(i), StepType::activation,
                          "act_" + std::string(to_string(r.st.act)) + "__" + simd::isa(),
                          [this, i] { act(i); }});
    }
  }

 public:
  Memory memory_use() const override {
    Memory m{0, 0};
    for (const StageRun& r : runs_) {
      m.weights += static_cast<int64_t>((r.wei.size() + r.bias.size()) * sizeof(float));
      m.workspace += static_cast<int64_t>(r.col.size() * sizeof(float));
    }
    m.workspace += intermediate_bytes();
    return m;
  }

 private:
  void stage(size_t i, bool with_act) {
    StageRun& r = runs_[i];
    const ConvDesc& c = r.st.conv;
    const int64_t P = c.oh * c.ow, icg = c.icg(), ocg = c.ocg();
    const float* x = in(i);
    float* y = out(i);
    for (int64_t n = 0; n < c.mb; ++n) {
      const float* xn = x + n * c.ic * c.ih * c.iw;
      float* yn = y + n * c.oc * P;
      for (int64_t g = 0; g < c.g; ++g) {
        if (r.layout == Layout::nchw) {
          const float* B = xn;
          if (!r.direct) {
            im2col_nchw(c, xn + g * icg * c.ih * c.iw, r.col.data());
            B = r.col.data();
          }
          library_call([&] {
            gemm_.fn(ocg, P, r.K, r.wei.data() + g * ocg * r.K, r.K, B, P, yn + g * ocg * P, P);
          });
        } else {
          const float* A = xn;
          if (!r.direct) {
            if (g == 0) im2col_nhwc(c, xn, r.col.data());  // every group in one pass
            A = r.col.data() + g * P * r.K;
          }
          library_call([&] {
            gemm_.fn(P, ocg, r.K, A, r.direct ? c.ic : r.K, r.wei.data() + g * r.K * ocg, ocg,
                     yn + g * ocg, c.oc);
          });
        }
      }
    }
    if (!r.bias.empty() || (with_act && r.st.act != Act::none)) epilogue(i, with_act);
  }

  // Bias and activation in one vectorised pass over the output: per channel a
  // row of the NCHW output, a column of the NHWC one.
  void epilogue(size_t i, bool with_act) {
    const StageRun& r = runs_[i];
    const ConvDesc& c = r.st.conv;
    const Act a = with_act ? r.st.act : Act::none;
    const float* bias = r.bias.empty() ? nullptr : r.bias.data();
    const int64_t P = c.oh * c.ow;
    if (r.layout == Layout::nchw) {
      // mb images of oc rows: the bias of row n*oc + o is bias[o].
      for (int64_t n = 0; n < c.mb; ++n)
        simd::bias_act_rows(a, out(i) + n * c.oc * P, c.oc, P, P, nullptr, bias);
    } else {
      simd::bias_act_rows(a, out(i), c.mb * P, c.oc, c.oc, bias, nullptr);
    }
  }

  // Element-wise, so any split into rows will do.
  void act(size_t i) {
    const ConvDesc& c = runs_[i].st.conv;
    simd::bias_act_rows(runs_[i].st.act, out(i), c.mb * c.oc, c.oh * c.ow, c.oh * c.ow, nullptr,
                        nullptr);
  }

  // col[(ic*kh + y)*kw + x][oy*ow + ox] for one group's channels.
  static void im2col_nchw(const ConvDesc& c, const float* x, float* col) {
    const int64_t P = c.oh * c.ow;
#pragma omp parallel for collapse(2)
    for (int64_t ic = 0; ic < c.icg(); ++ic)
      for (int64_t ky = 0; ky < c.kh; ++ky)
        for (int64_t kx = 0; kx < c.kw; ++kx) {
          float* row = col + ((ic * c.kh + ky) * c.kw + kx) * P;
          const float* plane = x + ic * c.ih * c.iw;
          for (int64_t oy = 0; oy < c.oh; ++oy) {
            const int64_t iy = oy * c.sh - c.ph + ky * (c.dh + 1);
            float* r = row + oy * c.ow;
            if (iy < 0 || iy >= c.ih) {
              std::fill(r, r + c.ow, 0.f);
              continue;
            }
            for (int64_t ox = 0; ox < c.ow; ++ox) {
              const int64_t ix = ox * c.sw - c.pw + kx * (c.dw + 1);
              r[ox] = ix >= 0 && ix < c.iw ? plane[iy * c.iw + ix] : 0.f;
            }
          }
        }
  }

  // col[g][oy*ow + ox][(y*kw + x)*icg + ic] for every group, an output row at a
  // time: the row's input offsets (-1 in the padding) are worked out once, then
  // each group's part of the columns is written in order while the row's input
  // rows stay in cache. With one channel per group, the tap arithmetic per float
  // had cost four times the GEMMs.
  static void im2col_nhwc(const ConvDesc& c, const float* x, float* col) {
    const int64_t icg = c.icg(), taps = c.kh * c.kw, K = icg * taps, P = c.oh * c.ow;
#pragma omp parallel
    {
      std::vector<int64_t> off(static_cast<size_t>(c.ow * taps));
#pragma omp for
      for (int64_t oy = 0; oy < c.oh; ++oy) {
        int64_t* o = off.data();
        for (int64_t ox = 0; ox < c.ow; ++ox)
          for (int64_t ky = 0; ky < c.kh; ++ky) {
            const int64_t iy = oy * c.sh - c.ph + ky * (c.dh + 1);
            for (int64_t kx = 0; kx < c.kw; ++kx) {
              const int64_t ix = ox * c.sw - c.pw + kx * (c.dw + 1);
              *o++ = iy < 0 || iy >= c.ih || ix < 0 || ix >= c.iw ? -1 : (iy * c.iw + ix) * c.ic;
            }
          }
        for (int64_t g = 0; g < c.g; ++g) {
          float* d = col + (g * P + oy * c.ow) * K;
          const float* xg = x + g * icg;
          if (icg == 1) {
            for (size_t j = 0; j < off.size(); ++j) d[j] = off[j] < 0 ? 0.f : xg[off[j]];
            continue;
          }
          for (size_t j = 0; j < off.size(); ++j, d += icg)
            if (off[j] < 0) std::fill(d, d + icg, 0.f);
            else std::copy(xg + off[j], xg + off[j] + icg, d);
        }
      }
    }
  }

  Sgemm gemm_;
  std::vector<StageRun> runs_;
};

class Im2colBackend final : public Backend {
 public:
  Im2colBackend(const char* name, const char* lib, Sgemm (*get)()) : name_(name), lib_(lib), get_(get) {}
  std::string_view name() const override { return name_; }
  std::string version() const override { return get_().version; }
  std::string refuse(const Layer& l, const RunConfig& cfg) const override {
    l.stages();
    if (cfg.precision != Precision::f32) return "im2col + sgemm computes in f32 only";
    return {};
  }
  std::unique_ptr<Prepared> prepare(const Layer& l, const RunConfig& cfg,
                                    const LayerData& data) const override {
    return std::make_unique<Im2colPrepared>(l, cfg, data, get_(), lib_);
  }
  void on_threads(int n) const override {
    if (std::string_view(lib_) == "openblas_sgemm") openblas_set_num_threads(n);
  }

 private:
  const char* name_;
  const char* lib_;
  Sgemm (*get_)();
};

}  // namespace

const Backend& im2col_openblas_backend() {
  static const Im2colBackend b("im2col_openblas", "openblas_sgemm", openblas_sgemm);
  return b;
}

const Backend& im2col_eigen_backend() {
  static const Im2colBackend b("im2col_eigen", "eigen_gemm", eigen_sgemm);
  return b;
}

}  // namespace convbench
