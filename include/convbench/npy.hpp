// numpy .npy files (format 1.0, float32, little-endian, C order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convbench {

// Throws Error when the file cannot be written completely.
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
// Reads what write_npy writes (and numpy's own float32 C-order files).
NpyArray read_npy(const std::string& path);

}  // namespace convbench
