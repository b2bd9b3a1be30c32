// Tensor storage for benchmarks and backends: 64-byte aligned, as frameworks
// allocate tensors (oneDNN's own memory objects, MNN: 64 bytes; ZenDNN: 4 KiB).
// A std::vector<float> of a layer's size comes from mmap at a page offset of 16
// bytes, so every 64-byte vector access of every backend straddles two cache
// lines: a cost no real deployment pays (the 3x3 depthwise stage ran 40 % slower
// on it). Tests keep plain vectors on purpose: the kernels must accept any
// float-aligned pointer.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace convbench {

template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t{64}); }
  bool operator==(const Aligned64&) const { return true; }
  bool operator!=(const Aligned64&) const { return false; }
};

using Buffer = std::vector<float, Aligned64<float>>;

}  // namespace convbench
