// Hand-written NHWC f32 convolution kernels, written once with Highway and
// compiled for every x86 target (SSE4, AVX2, AVX-512, ...); the best one the CPU
// runs is chosen at run time. CONVBENCH_MAX_ISA=sse4|avx2|avx512 caps it, as
// ONEDNN_MAX_CPU_ISA does for oneDNN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "convbench/buffer.hpp"
#include "convbench/layer.hpp"

namespace convbench::simd {

// Packed weights, 64-byte aligned: a full AVX-512 vector load never straddles
// two cache lines.
using Packed = Buffer;

// Register tile of the GEMM-shaped kernels on the dispatched target: MR output
// pixels x NR output channels (NR = NV vectors).
struct Tile {
  int mr, nv, lanes;
  int mr_row_taps;  // rows of the narrow tile of row-tap plans; 0: the usual tile
  int mr3;          // rows of the 3-vector tile; 0 where the target has none
  int nr() const { return nv * lanes; }
};
Tile gemm_tile();
int lanes();
std::string isa();  // the dispatched target, e.g. "AVX3" (AVX-512)

// Per-thread scratch of a run, allocated at prepare for the thread count set
// then, so that a timed run allocates nothing. Each thread allocates (and first
// touches) its own slot. Threads beyond that count (raised after prepare) fall
// back to a thread-local buffer.
class Scratch {
 public:
  void reserve(size_t floats_per_thread);
  float* get();  // the calling thread's slot; call inside the parallel region
  int64_t bytes() const { return static_cast<int64_t>(n_ * slots_.size() * sizeof(float)); }

 private:
  size_t n_ = 0;
  std::vector<Buffer> slots_;
};

// --- Direct convolution as an implicit GEMM over an indirection table ---------
// out[p][g*ocg + o] = sum over taps t, channels c of in[off[p][t] + g*icg + c] *
// w[g][o][c][t]. An offset of -1 reads zeros (padding).
struct DirectPlan {
  ConvDesc c;
  int64_t taps = 0;
  std::vector<int64_t> off;  // [mb*oh*ow][taps], element offsets into the input
  Packed wpack;              // [g][ocb][taps][icg][NR], zero-padded
  Packed bias;               // [g][ocb*NR], zero-padded (zeros when no bias)
  std::vector<float> zeros;  // icg zeros for padded taps
  int64_t ocb = 0;           // output-channel blocks per group
  int64_t tap_chunk = 0;     // taps per pass, so that one pass's weights stay in L2
                             // (at most kMaxTapChunk)
  Act act = Act::none;
  bool pointwise = false;    // 1x1, stride 1, no padding: rows are the input itself
  // The register tile, MR pixels x NV vectors (NR = NV x lanes output channels
  // per block): the target's usual one, twice the pixels on half the vectors, or
  // 3 vectors, whichever costs least for the channel count (see plan_direct).
  int64_t mr = 0;
  int64_t nv = 0;
  int64_t nr = 0;
  // Few input channels (a stem: 3 x 7 x 7 taps): a tap is a whole kernel row,
  // K = kw x icg contiguous NHWC values read in place (copied with zeros only
  // where the row is clipped by padding), one pass of kh taps, instead of
  // kh x kw taps of K = icg. off then holds [mb*oh*ow][kh]: the row's offset,
  // -1 for a row wholly in padding, -2 - i for a row that padding clips, where
  // clips[i] says where its input row starts (no divisions at run time).
  bool row_taps = false;
  struct Clip {
    int64_t row;  // element offset of input row (n, iy, x = 0)
    int64_t ix0;  // the kernel row's first input column, < 0 or past iw - kw
  };
  std::vector<Clip> clips;
  // Per pixel tile of MR pixels (the table path): the taps that read the input
  // for at least one of its pixels, ascending, tile_taps[tile_first[i] ..
  // tile_first[i+1]). A tap wholly in the padding adds only zeros: on a 7x7
  // image a 3x3 kernel's border tiles skip a tenth of the FMAs, a 7x7 kernel's a
  // quarter (oneDNN's brgconv skips them too).
  std::vector<int32_t> tile_taps;
  std::vector<int64_t> tile_first;
  // Weights over half of L2 and an input that fits in the other half: channel
  // blocks outer, so that each block's weights are read from memory once and
  // stay in L2 over all pixel tiles, not once per pixel tile.
  bool blocks_outer = false;
  // Pointwise: input channels per pass, so that a pass's weights stay in L2
  // (one block's with blocks_outer; otherwise all of them unless they exceed
  // 1 MiB: Mask R-CNN's 12544 -> 1024 layer).
  int64_t k_chunk = 0;
};
// A pass's row pointers (tap_chunk x MR) live on the run's stack.
constexpr int64_t kMaxTapChunk = 128;
// The longest kernel row of a row-tap plan (kw x icg floats).
constexpr int64_t kMaxRowK = 256;
DirectPlan plan_direct(const ConvDesc& c, const float* w_oihw, const float* bias, Act act);
// All of one stage: the passes over tap chunks, each parallel over pixel tiles
// x channel blocks (OpenMP, static schedule).
void run_direct(const DirectPlan& p, const float* src, float* dst);

// --- Depthwise, vectorised over channels ------------------------------------
struct DwPlan {
  ConvDesc c;
  int64_t cpad = 0;          // channels rounded up to the vector width
  Packed wpack;              // [kh][kw][cpad]
  Packed bias;               // [cpad]
  Act act = Act::none;
  bool compact = false;      // through a zero-padded copy (depthwise.cc): see plan_dw
  bool streamed = false;     // streamed tiles of 7 or 14 outputs (dw_streamed-inl.h): see plan_dw
};
// The compact path's channel block and its scratch, floats (24 KiB: half an L1).
constexpr int64_t kDwBlock = 64, kDwScratch = 6144;
// Whether the compact path can take the layer (plan_dw takes it only on AMD CPUs).
bool dw_copy_fits(const ConvDesc& c);
DwPlan plan_dw(const ConvDesc& c, const float* w_oihw, const float* bias, Act act);
void run_dw(const DwPlan& p, const float* src, float* dst);

// --- Fused depthwise then pointwise, a group of output rows at a time ---------
// The depthwise rows land in a per-thread buffer (at most 96 KiB, in L2) and feed
// the pointwise GEMM directly: the intermediate tensor never goes to memory.
struct FusedPlan {
  int64_t rows = 0;  // output rows per step
  Scratch scratch;   // rows * ow * ic floats per thread
};
FusedPlan plan_dw_pw_fused(const DwPlan& dw, int64_t tile_rows);  // the pointwise tile's pixels
void run_dw_pw_fused(const DwPlan& dw, const DirectPlan& pw, FusedPlan& f, const float* src,
                     float* dst);

// --- Fused convolution then 1 x k depthwise, a group of output rows at a time --
// The spatial kind's k x 1 convolution rows land in a per-thread buffer (at
// most 192 KiB, in L2) and the 1 x k depthwise reads them there: unfused, the
// depthwise stage read the whole intermediate back from L3 (1.6 MB on the
// study's first layer) and at two threads took longer than at one.
struct ConvDwPlan {
  bool ok = false;    // the pair can be fused (see plan_conv_dw_fused)
  int64_t rows = 0;   // output rows per step
  DwPlan dw;          // the depthwise stage over one step's rows (c.mb = 1, c.ih = c.oh = rows)
  Scratch scratch;    // (rows * ow + 2 * MR) * oc floats per thread
};
// ok only where each depthwise output row reads one convolution row (1 x k,
// stride 1 and no padding vertically) and the convolution runs every channel
// block per pixel tile (not blocks_outer).
ConvDwPlan plan_conv_dw_fused(const DirectPlan& conv, const DwPlan& dw);
void run_conv_dw_fused(const DirectPlan& conv, ConvDwPlan& f, const float* src, float* dst);

// --- Activations, vectorised (the same code the epilogues use) ------------------
void act_inplace(Act a, float* x, int64_t n);
// y[r][j] = act(y[r][j] + col_bias[j]) or act(y[r][j] + row_bias[r]) for
// r < rows, j < cols, row stride ld; at most one bias, the other null. Parallel over rows (OpenMP). The epilogue
// that library GEMMs lack: bias and activation in one vectorised pass.
void bias_act_rows(Act a, float* y, int64_t rows, int64_t cols, int64_t ld,
                   const float* col_bias, const float* row_bias);

// Applies the CONVBENCH_MAX_ISA cap once; safe to call repeatedly.
void apply_isa_cap();

}  // namespace convbench::simd
