#include "convbench/npy.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include "convbench/conv_desc.hpp"

namespace convbench {

static_assert(sizeof(float) == 4, "npy writer assumes 32-bit float");

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  std::string tuple;
  int64_t n = 1;
  for (int64_t s : shape) {
    tuple += (tuple.empty() ? "" : ", ") + std::to_string(s);
    n *= s;
  }
  if (shape.size() == 1) tuple += ",";
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + tuple + ")";
  dict += ", }";
  // Magic (6) + version (2) + length (2) + dict + padding + '\n', a multiple of 64.
  const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  const uint16_t hlen = static_cast<uint16_t>(dict.size());

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) throw Error("cannot write " + path + ": " + std::strerror(errno));
  const unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                  static_cast<unsigned char>(hlen & 0xff),
                                  static_cast<unsigned char>(hlen >> 8)};
  bool ok = std::fwrite(head, 1, 10, f.get()) == 10 &&
            std::fwrite(dict.data(), 1, dict.size(), f.get()) == dict.size() &&
            std::fwrite(data, sizeof(float), static_cast<size_t>(n), f.get()) ==
                static_cast<size_t>(n);
  ok = (std::fclose(f.release()) == 0) && ok;
  if (!ok) throw Error("cannot write " + path + ": short write");
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  unsigned char head[10];
  in.read(reinterpret_cast<char*>(head), 10);
  if (!in || std::memcmp(head, "\x93NUMPY", 6) != 0 || head[6] != 1)
    throw Error(path + " is not a version-1 .npy file");
  std::string dict(head[8] | (head[9] << 8), ' ');
  in.read(dict.data(), static_cast<std::streamsize>(dict.size()));
  if (dict.find("'descr': '<f4'") == std::string::npos ||
      dict.find("'fortran_order': False") == std::string::npos)
    throw Error(path + " is not a float32 C-order array");
  NpyArray a;
  const size_t open = dict.find("'shape': (");
  if (open == std::string::npos) throw Error(path + ": no shape in header");
  int64_t n = 1;
  for (size_t p = open + 10; dict[p] != ')';) {
    if (dict[p] == ',' || dict[p] == ' ') {
      ++p;
      continue;
    }
    size_t used = 0;
    a.shape.push_back(std::stoll(dict.substr(p), &used));
    n *= a.shape.back();
    p += used;
  }
  a.data.resize(static_cast<size_t>(n));
  in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(n * 4));
  if (!in) throw Error(path + ": truncated data");
  return a;
}

}  // namespace convbench
