// The ordered list of backends (oneDNN's cpu_convolution_list, in spirit):
// adding a kernel is adding one line here.
#include <omp.h>

#include "convbench/backend.hpp"

namespace convbench {

const Backend& reference_backend();
const Backend& onednn_backend();
const Backend& onednn_plain_backend();
const Backend& im2col_openblas_backend();
const Backend& im2col_eigen_backend();
const Backend& xnnpack_backend();
const Backend& direct_nhwc_backend();
const Backend& hand_nhwc_backend();
const Backend& hand_fused_nhwc_backend();

const std::vector<const Backend*>& backends() {
  static const std::vector<const Backend*> list = {
      &reference_backend(),
      &onednn_backend(),
      &onednn_plain_backend(),
      &im2col_openblas_backend(),
      &im2col_eigen_backend(),
      &xnnpack_backend(),
      &direct_nhwc_backend(),
      &hand_nhwc_backend(),
      &hand_fused_nhwc_backend(),
  };
  return list;
}

void set_threads(int n) {
  if (n < 1) throw Error("thread count must be at least 1 (got " + std::to_string(n) + ")");
  record_threads(n);
  omp_set_num_threads(n);
  for (const Backend* b : backends()) b->on_threads(n);
}

const Backend& find_backend(std::string_view name) {
  std::string known;
  for (const Backend* b : backends()) {
    if (b->name() == name) return *b;
    known += (known.empty() ? "" : ", ") + std::string(b->name());
  }
  throw Error("unknown backend '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace convbench
