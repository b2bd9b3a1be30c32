// One grouped 2-D convolution problem, written and printed in benchdnn's
// problem-descriptor syntax: g mb ic ih iw oc oh ow kh kw sh sw ph pw dh dw n"name".
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace convbench {

// Every user-facing error (bad descriptor, bad option, refused problem) is one of
// these; tools print what() and exit with status 2.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Largest tensor (elements) and total footprint (bytes) convbench will describe.
// Checked before anything is allocated.
inline constexpr int64_t kMaxTensorElems = int64_t{1} << 31;
inline constexpr int64_t kMaxFootprintBytes = int64_t{8} << 30;
inline constexpr int64_t kMaxMacs = int64_t{1} << 52;  // keeps every cost sum inside int64

struct ConvDesc {
  int64_t g = 1, mb = 1;
  int64_t ic = 0, ih = 0, iw = 0;
  int64_t oc = 0, oh = 0, ow = 0;
  int64_t kh = 0, kw = 0;
  int64_t sh = 1, sw = 1;
  int64_t ph = 0, pw = 0;  // top / left padding
  int64_t pb = 0, pr = 0;  // bottom / right padding, derived from the output size
  int64_t dh = 0, dw = 0;  // oneDNN convention: 0 means dense
  std::string name;

  // Parses a descriptor; throws Error naming the bad part.
  static ConvDesc parse(std::string_view text);

  // Builds from explicit fields (output size and bottom/right padding derived
  // from the top/left padding when oh/ow are 0); validates like parse().
  static ConvDesc make(int64_t g, int64_t mb, int64_t ic, int64_t ih, int64_t iw,
                       int64_t oc, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                       int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                       int64_t oh = 0, int64_t ow = 0);

  // Canonical form; parse(str()) == *this.
  std::string str() const;

  int64_t ext_h() const { return (kh - 1) * (dh + 1) + 1; }
  int64_t ext_w() const { return (kw - 1) * (dw + 1) + 1; }
  int64_t icg() const { return ic / g; }
  int64_t ocg() const { return oc / g; }
  bool is_depthwise() const { return g == ic && g == oc; }

  int64_t src_elems() const { return mb * ic * ih * iw; }
  int64_t dst_elems() const { return mb * oc * oh * ow; }
  int64_t wei_elems() const { return oc * icg() * kh * kw; }

  // Re-checks every invariant; throws Error. parse() and make() call it.
  void validate() const;

  bool operator==(const ConvDesc& o) const;
  bool operator!=(const ConvDesc& o) const { return !(*this == o); }
};

// The top (left) padding that gives `out` outputs from `in` inputs at this
// stride and kernel extent, any odd row (column) going to the bottom (right):
// "same" padding where out = ceil(in / stride). Never negative.
inline int64_t same_pad_begin(int64_t in, int64_t out, int64_t stride, int64_t ext) {
  const int64_t total = (out - 1) * stride + ext - in;
  return total > 0 ? total / 2 : 0;
}

// A benchdnn-style batch file: one descriptor per line, '#' starts a comment.
// Throws Error naming the file and line of the first bad descriptor.
std::vector<ConvDesc> read_shape_file(const std::string& path);

}  // namespace convbench
