// Prepare-time work for the hand-written kernels: weight packing into the
// layouts the register tiles read, indirection tables, cache blocking.
#include <omp.h>

#include <algorithm>

#include "kernels/simd/kernels.hpp"

namespace convbench::simd {

DirectPlan plan_direct(const ConvDesc& c, const float* w, const float* bias, Act act) {
  const Tile t = gemm_tile();
  const int64_t icg = c.icg(), ocg = c.ocg();
  DirectPlan p;
  p.c = c;
  p.act = act;
  p.pointwise = c.kh == 1 && c.kw == 1 && c.sh == 1 && c.sw == 1 && c.ph == 0 && c.pw == 0 &&
                c.pb <= 0 && c.pr <= 0 && c.oh == c.ih && c.ow == c.iw;
  p.row_taps = !p.pointwise && c.g == 1 && icg < 16 && c.dw == 0 && c.kw * icg <= kMaxRowK && c.kh <= kMaxTapChunk;
  // The tile: the least work over the output channels in vector columns (the
  // last block's tile has only the vectors it needs), each weighted by what a
  // column costs on that tile, measured on pointwise layers of 16-1024 channels
  // (28x28 and 56x56, K = 24-128): 12x2v and 8x3v cost 1.03-1.07x a 6x4v column
  // on whole blocks; narrow last tiles cost more, most on 6 and 8 rows, whose
  // few FMAs per load leave their loads exposed (72 channels: 6x4v + 6x1v is 1.1x
  // 12x2v + 12x2v + 12x1v).
  struct Shape {
    int64_t mr, nv;
    double whole;
    double last[3];  // per column of a last tile of 1, 2, 3 vectors
  };
  std::vector<Shape> shapes = {{t.mr, t.nv, 1.0, {1.6, 1.3, 1.1}}};
  if (t.nv % 2 == 0) shapes.push_back({2 * t.mr, t.nv / 2, 1.05, {1.3, 1.3, 1.3}});
  if (t.mr3 > 0) shapes.push_back({t.mr3, 3, 1.05, {1.6, 1.5, 1.5}});
  auto cost = [&](const Shape& s) {
    const int64_t vectors = (ocg + t.lanes - 1) / t.lanes;
    const int64_t last = vectors % s.nv;
    return (vectors - last) * s.whole + (last > 0 ? last * s.last[last - 1] : 0.0);
  };
  const Shape* best = &shapes[0];
  for (const Shape& s : shapes)
    if (cost(s) < cost(*best) - 1e-9) best = &s;
  p.mr = best->mr;
  p.nv = best->nv;
  if (p.row_taps && t.mr_row_taps > 0 && t.nv % 2 == 0) p.mr = t.mr_row_taps, p.nv = t.nv / 2;
  p.nr = p.nv * t.lanes;
  const int64_t NR = p.nr;
  p.taps = c.kh * c.kw;
  p.ocb = (ocg + NR - 1) / NR;
  // One tap's weights (icg x NR floats per channel block), every block of a group.
  const int64_t per_tap = icg * NR * 4 * p.ocb;
  // The input the taps read, which each block reads again: a strided 1x1
  // convolution (ResNet's downsampling, 8 MiB of weights) reads a quarter of it.
  const int64_t input = c.mb * std::min(c.ih * c.iw, c.oh * c.ow * p.taps) * c.ic * 4;
  // Weights over half of a 1 MiB L2 and an input that fits in the other half
  // (the 7x7 and 14x14 layers of 256-1024 channels): channel blocks outermost,
  // so that each block's weights come from memory once and stay in L2 over all
  // the pixel tiles. Pixel tiles outermost read every block's weights once per
  // tile, which held a 512 -> 512 3x3 layer on 7x7 to 0.8x oneDNN.
  p.blocks_outer = !p.row_taps && per_tap * p.taps * c.g > (512 << 10) && input <= (512 << 10);
  // Passes: chunks of taps, or of a pointwise layer's input channels, whose
  // weights stay in half of L2: one block's, in even chunks, with blocks
  // outermost; else every block's. Each pass adds its partial sums to the
  // previous ones in dst.
  const auto even_chunk = [](int64_t steps, int64_t bytes_per_step, int64_t most) {
    const int64_t passes = std::max<int64_t>(1, (steps * bytes_per_step + (512 << 10) - 1) >> 19);
    return std::clamp<int64_t>((steps + passes - 1) / passes, 1, most);
  };
  const int64_t most_taps = std::min(p.taps, kMaxTapChunk);
  p.tap_chunk = p.row_taps       ? p.taps
                : p.blocks_outer ? even_chunk(p.taps, icg * NR * 4, most_taps)
                                 : std::clamp<int64_t>((512 << 10) / per_tap, 1, most_taps);
  p.k_chunk = icg;
  // Pixel tiles outermost: only weights over 1 MiB are split (Mask R-CNN's
  // 12544 -> 1024 box head on 1000 proposals, a 50 MB input), and not for one
  // pixel tile (a fully connected layer), whose weights are used once anyway and
  // stream from memory better whole.
  const int64_t pixels = c.mb * c.oh * c.ow;
  if (p.pointwise && p.blocks_outer)
    p.k_chunk = std::min(icg, (even_chunk(icg, NR * 4, icg) + 15) / 16 * 16);
  else if (p.pointwise && per_tap > (1 << 20) && pixels > p.mr)
    p.k_chunk = std::min(icg, std::max<int64_t>(16, (512 << 10) / (NR * 4 * p.ocb) / 16 * 16));
  p.wpack.assign(static_cast<size_t>(c.g * p.ocb * p.taps * icg * NR), 0.f);
  for (int64_t g = 0; g < c.g; ++g)
    for (int64_t o = 0; o < ocg; ++o)
      for (int64_t i = 0; i < icg; ++i)
        for (int64_t y = 0; y < c.kh; ++y)
          for (int64_t x = 0; x < c.kw; ++x) {
            const int64_t ob = o / NR, col = o % NR, tap = y * c.kw + x;
            p.wpack[(((g * p.ocb + ob) * p.taps + tap) * icg + i) * NR + col] =
                w[(((g * ocg + o) * icg + i) * c.kh + y) * c.kw + x];
          }
  p.bias.assign(static_cast<size_t>(c.g * p.ocb * NR), 0.f);
  if (bias)
    for (int64_t g = 0; g < c.g; ++g)
      for (int64_t o = 0; o < ocg; ++o) p.bias[g * p.ocb * NR + o] = bias[g * ocg + o];
  p.zeros.assign(static_cast<size_t>(p.row_taps ? c.kw * icg : icg), 0.f);
  if (p.row_taps) {
    p.off.resize(static_cast<size_t>(c.mb * c.oh * c.ow * c.kh));
    int64_t* o = p.off.data();
    for (int64_t n = 0; n < c.mb; ++n)
      for (int64_t oy = 0; oy < c.oh; ++oy)
        for (int64_t ox = 0; ox < c.ow; ++ox)
          for (int64_t y = 0; y < c.kh; ++y) {
            const int64_t iy = oy * c.sh - c.ph + y * (c.dh + 1), ix0 = ox * c.sw - c.pw;
            const int64_t row = (n * c.ih + iy) * c.iw * c.ic;
            if (iy < 0 || iy >= c.ih) {
              *o++ = -1;
            } else if (ix0 < 0 || ix0 + c.kw > c.iw) {
              *o++ = -2 - static_cast<int64_t>(p.clips.size());
              p.clips.push_back({row, ix0});
            } else {
              *o++ = row + ix0 * c.ic;
            }
          }
  } else if (!p.pointwise) {
    p.off.resize(static_cast<size_t>(c.mb * c.oh * c.ow * p.taps));
    int64_t* o = p.off.data();
    for (int64_t n = 0; n < c.mb; ++n)
      for (int64_t oy = 0; oy < c.oh; ++oy)
        for (int64_t ox = 0; ox < c.ow; ++ox)
          for (int64_t y = 0; y < c.kh; ++y)
            for (int64_t x = 0; x < c.kw; ++x) {
              const int64_t iy = oy * c.sh - c.ph + y * (c.dh + 1);
              const int64_t ix = ox * c.sw - c.pw + x * (c.dw + 1);
              *o++ = iy < 0 || iy >= c.ih || ix < 0 || ix >= c.iw
                         ? -1
                         : ((n * c.ih + iy) * c.iw + ix) * c.ic;
            }
    const int64_t P = c.mb * c.oh * c.ow;
    for (int64_t p0 = 0; p0 < P; p0 += p.mr) {
      p.tile_first.push_back(static_cast<int64_t>(p.tile_taps.size()));
      for (int64_t t = 0; t < p.taps; ++t)
        for (int64_t px = p0; px < std::min(P, p0 + p.mr); ++px)
          if (p.off[px * p.taps + t] >= 0) {
            p.tile_taps.push_back(static_cast<int32_t>(t));
            break;
          }
    }
    p.tile_first.push_back(static_cast<int64_t>(p.tile_taps.size()));
  }
  return p;
}

// Square kernels up to 3 x 3 at stride 1 or 2 on a multiple of 512 channels,
// where the pixels on the tensor are 2 or 4 KiB apart, and images narrow enough
// that three input rows of the widest tiles (8 outputs) fit the scratch.
bool dw_copy_fits(const ConvDesc& c) {
  if (!(c.kh == c.kw && c.kw <= 3 && c.sh == c.sw && (c.sw == 1 || c.sw == 2) && c.dh == 0 &&
        c.dw == 0 && c.ic % 512 == 0))
    return false;
  const int64_t xt = 8 / c.sw, width = ((c.ow + xt - 1) / xt * xt - 1) * c.sw + 3;
  return 3 * width * kDwBlock <= kDwScratch;
}

DwPlan plan_dw(const ConvDesc& c, const float* w, const float* bias, Act act) {
  const int64_t N = lanes();
  DwPlan p;
  p.c = c;
  p.act = act;
  p.cpad = (c.ic + N - 1) / N * N;
  p.wpack.assign(static_cast<size_t>(c.kh * c.kw * p.cpad), 0.f);
  for (int64_t ch = 0; ch < c.ic; ++ch)
    for (int64_t y = 0; y < c.kh; ++y)
      for (int64_t x = 0; x < c.kw; ++x)
        p.wpack[(y * c.kw + x) * p.cpad + ch] = w[(ch * c.kh + y) * c.kw + x];
  p.bias.assign(static_cast<size_t>(p.cpad), 0.f);
  if (bias) std::copy(bias, bias + c.ic, p.bias.begin());
  // Only on AMD CPUs: on the Zen 5 VM the copy ran those layers 1.1-1.4x faster
  // than tiles reading the tensor; on the Intel Xeon (Emerald Rapids) VM it was
  // no faster at stride 1 and 1.5x slower at stride 2 than the tiles and streamed
  // rows below (bench/results/2026-12-07-intel-xeon-2vcpu/NOTES.md).
  static const bool copy_wins = [] {
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") != 0;
  }();
  p.compact = copy_wins && dw_copy_fits(c);
  // Streamed tiles for kernels 4..9 wide; with AVX-512's 32 registers (tiles of 7
  // and 14 outputs) for 3 wide at stride 2 too, on rows that 7 divides and the
  // held-input tiles (4 outputs) do not: those computed 8 outputs for 7 on the
  // 14 -> 7 layers, half their tiles at the right edge on masked loads (1.4-1.7x
  // the streamed row on the Intel VM; at stride 1 the held pairs were as fast).
  const bool rows_of_7 = lanes() == 16 && c.sw == 2 && c.ow % 7 == 0 && c.ow % 4 != 0;
  p.streamed = !p.compact && c.dw == 0 && (c.sw == 1 || c.sw == 2) &&
               ((c.kw >= 4 && c.kw <= 9) || (c.kw == 3 && rows_of_7));
  return p;
}

FusedPlan plan_dw_pw_fused(const DwPlan& dw, int64_t mr) {
  const ConvDesc& c = dw.c;
  // Rows per step: enough pixels for several register tiles, and, where the
  // buffer stays within 96 KiB, a whole number of tiles and of depthwise row
  // pairs: one 56-pixel row leaves a 2-row tile that costs as much as a full one
  // (7 % of the pointwise work); six rows are 56 full tiles and three pairs.
  int64_t R = std::max<int64_t>(1, std::min<int64_t>(c.oh, (4 * mr + c.ow - 1) / c.ow));
  for (int64_t r = R; r <= c.oh && r * c.ow * c.ic * 4 <= (96 << 10); ++r)
    if ((r * c.ow) % mr == 0 && r % 2 == 0) {
      R = r;
      break;
    }
  FusedPlan f;
  f.rows = R;
  f.scratch.reserve(static_cast<size_t>(R * c.ow * c.ic));
  return f;
}

ConvDwPlan plan_conv_dw_fused(const DirectPlan& conv, const DwPlan& dw) {
  const ConvDesc& c = conv.c;
  const ConvDesc& d = dw.c;
  ConvDwPlan f;
  if (conv.blocks_outer || c.g != 1 || d.kh != 1 || d.sh != 1 || d.ph != 0 || d.pb > 0 ||
      d.ih != c.oh || d.iw != c.ow || d.ic != c.oc || d.mb != c.mb)
    return f;
  // Rows per step: as many as 192 KiB holds, preferring a whole number of
  // pixel tiles (a tile across two steps is computed by both).
  const int64_t row_bytes = c.ow * c.oc * 4;
  const int64_t most = std::clamp<int64_t>((192 << 10) / row_bytes, 1, c.oh);
  f.rows = most;
  for (int64_t r = most; r >= std::max<int64_t>(1, most / 2); --r)
    if ((r * c.ow) % conv.mr == 0) {
      f.rows = r;
      break;
    }
  f.dw = dw;
  f.dw.c.mb = 1;
  f.dw.c.ih = f.dw.c.oh = f.rows;
  f.scratch.reserve(static_cast<size_t>((f.rows * c.ow + 2 * conv.mr) * c.oc));
  f.ok = true;
  return f;
}

void Scratch::reserve(size_t floats_per_thread) {
  n_ = floats_per_thread;
  slots_.assign(static_cast<size_t>(omp_get_max_threads()), Buffer());
  // Each thread allocates its own slot: from its own malloc arena, so that two
  // threads' slots are not neighbours (on this VM two cores writing within some
  // 64 KiB of each other slow each other down; see the README).
#pragma omp parallel num_threads(static_cast<int>(slots_.size()))
  slots_[static_cast<size_t>(omp_get_thread_num())].resize(n_);
}

float* Scratch::get() {
  const auto t = static_cast<size_t>(omp_get_thread_num());
  if (t < slots_.size() && slots_[t].size() >= n_) return slots_[t].data();
  static thread_local Buffer spare;
  if (spare.size() < n_) spare.resize(n_);
  return spare.data();
}

}  // namespace convbench::simd
