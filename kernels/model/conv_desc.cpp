// Parser, validator and printer for benchdnn-style convolution descriptors.
#include "convbench/conv_desc.hpp"

#include <array>
#include <cctype>
#include <fstream>
#include <sstream>

namespace convbench {
namespace {

// Largest value a single field may take: keeps every product of four fields
// inside int64 before the element-count checks run.
constexpr int64_t kMaxField = int64_t{1} << 24;

struct FieldSpec {
  const char* key;
  int64_t ConvDesc::*member;
  int64_t min;  // smallest legal value
};

constexpr std::array<FieldSpec, 16> kFields = {{
    {"g", &ConvDesc::g, 1},   {"mb", &ConvDesc::mb, 1}, {"ic", &ConvDesc::ic, 1},
    {"ih", &ConvDesc::ih, 1}, {"iw", &ConvDesc::iw, 1}, {"oc", &ConvDesc::oc, 1},
    {"oh", &ConvDesc::oh, 1}, {"ow", &ConvDesc::ow, 1}, {"kh", &ConvDesc::kh, 1},
    {"kw", &ConvDesc::kw, 1}, {"sh", &ConvDesc::sh, 1}, {"sw", &ConvDesc::sw, 1},
    {"ph", &ConvDesc::ph, 0}, {"pw", &ConvDesc::pw, 0}, {"dh", &ConvDesc::dh, 0},
    {"dw", &ConvDesc::dw, 0},
}};

int field_index(const std::string& key) {
  for (size_t i = 0; i < kFields.size(); ++i)
    if (key == kFields[i].key) return static_cast<int>(i);
  return -1;
}

bool is_3d_key(const std::string& key) {
  return key == "id" || key == "od" || key == "kd" || key == "sd" || key == "pd" || key == "dd";
}

bool name_char_ok(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
         c == '-' || c == '+';
}

std::string fmt_field(const char* key, int64_t v) { return std::string(key) + std::to_string(v); }

// Multiplies sizes, refusing overflow and anything above kMaxTensorElems.
int64_t checked_elems(std::initializer_list<int64_t> dims, const char* what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxTensorElems)
      throw Error(std::string("tensor ") + what + " is too large: more than " +
                  std::to_string(kMaxTensorElems) + " elements");
  }
  return n;
}

// One spatial side ('h' or 'w'): derives the output size or the leading padding,
// then the trailing padding, following benchdnn's rules.
struct Side {
  char s;
  int64_t i, k, st, d;
  int64_t o;
  bool o_given;
  int64_t p;
  bool p_given;
  int64_t p_end = 0;

  std::string f(const char* base, int64_t v) const {
    return std::string(1, base[0]) + s + std::to_string(v);
  }

  void resolve() {
    const int64_t ext = (k - 1) * (d + 1) + 1;
    if (!o_given) {
      if (i + 2 * p < ext)
        throw Error("kernel extent " + std::to_string(ext) + " (" + f("k", k) + " " +
                    f("d", d) + ") is larger than the padded input " + f("i", i) + " + 2*" +
                    f("p", p) + " = " + std::to_string(i + 2 * p));
      o = (i + 2 * p - ext) / st + 1;
    } else if (!p_given) {
      const int64_t total = (o - 1) * st - i + ext;
      p = total > 0 ? total / 2 : 0;
    }
    p_end = (o - 1) * st - i + ext - p;
    check(ext);
  }

  void check(int64_t ext) const {
    if (p >= ext)
      throw Error((p_given ? f("p", p) : f("o", o) + " needs padding " + std::to_string(p) +
                                             " at the " + (s == 'h' ? "top" : "left") + ", and " +
                                             f("p", p)) +
                  " is not smaller than the kernel extent " + std::to_string(ext) +
                  ": the first outputs would see only padding");
    if (p_end >= ext)
      throw Error(f("o", o) + " needs " + std::to_string(p_end) + " padding at the " +
                  (s == 'h' ? "bottom" : "right") + ", not smaller than the kernel extent " +
                  std::to_string(ext) + ": the last outputs would see only padding");
    if (p_end <= -st) {
      const int64_t natural = i + p >= ext ? (i + p - ext) / st + 1 : 0;
      throw Error(f("o", o) + " is smaller than " + f("i", i) + " " + f("k", k) + " " +
                  f("s", st) + " " + f("p", p) + " gives (" + f("o", natural) +
                  " without trailing padding)");
    }
  }
};

}  // namespace

void ConvDesc::validate() const {
  for (const auto& f : kFields) {
    const int64_t v = this->*f.member;
    if (v < f.min)
      throw Error(fmt_field(f.key, v) + ": " + f.key + " must be at least " +
                  std::to_string(f.min));
    if (v > kMaxField)
      throw Error(fmt_field(f.key, v) + ": " + f.key + " is too large (at most " +
                  std::to_string(kMaxField) + ")");
  }
  if (ic % g != 0)
    throw Error("g" + std::to_string(g) + " does not divide ic" + std::to_string(ic));
  if (oc % g != 0)
    throw Error("g" + std::to_string(g) + " does not divide oc" + std::to_string(oc));
  for (const Side& sd : {Side{'h', ih, kh, sh, dh, oh, true, ph, true, 0},
                         Side{'w', iw, kw, sw, dw, ow, true, pw, true, 0}}) {
    const int64_t ext = (sd.k - 1) * (sd.d + 1) + 1;
    const int64_t want_end = (sd.o - 1) * sd.st - sd.i + ext - sd.p;
    const int64_t have_end = sd.s == 'h' ? pb : pr;
    if (want_end != have_end)
      throw Error(std::string("inconsistent ") + (sd.s == 'h' ? "bottom" : "right") +
                  " padding " + std::to_string(have_end) + " (expected " +
                  std::to_string(want_end) + ")");
    sd.check(ext);
  }
  const int64_t src = checked_elems({mb, ic, ih, iw}, "src");
  const int64_t dst = checked_elems({mb, oc, oh, ow}, "dst");
  const int64_t wei = checked_elems({oc, ic / g, kh, kw}, "weights");
  // dst * (ic/g) * kh * kw cannot overflow: both factors are below 2^31.
  if (dst * (wei / oc) > kMaxMacs)
    throw Error("problem needs more than " + std::to_string(kMaxMacs) + " multiply-adds");
  if ((src + dst + wei) * int64_t{4} > kMaxFootprintBytes)
    throw Error("problem needs " + std::to_string((src + dst + wei) * 4 >> 20) +
                " MiB, above the " + std::to_string(kMaxFootprintBytes >> 20) + " MiB cap");
}

ConvDesc ConvDesc::parse(std::string_view text) {
  if (text.empty()) throw Error("empty descriptor");
  ConvDesc d;
  std::array<bool, kFields.size()> given{};
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '_') {
      ++pos;
      continue;
    }
    if (c == 'n') {  // the name runs to the end, optionally in double quotes
      std::string_view rest = text.substr(pos + 1);
      if (!rest.empty() && rest.front() == '"') {
        if (rest.size() < 2 || rest.back() != '"')
          throw Error("name at position " + std::to_string(pos) + " has no closing quote");
        rest = rest.substr(1, rest.size() - 2);
      }
      if (rest.empty()) throw Error("empty name after 'n' at position " + std::to_string(pos));
      for (char ch : rest)
        if (!name_char_ok(ch))
          throw Error(std::string("bad character '") + ch + "' in name \"" + std::string(rest) +
                      "\" (allowed: letters, digits, _ . : - +)");
      d.name = std::string(rest);
      break;
    }
    if (!std::islower(static_cast<unsigned char>(c)))
      throw Error(std::string("unexpected character '") + c + "' at position " +
                  std::to_string(pos) + " of \"" + std::string(text) + "\"");
    const size_t key_start = pos;
    while (pos < text.size() && std::islower(static_cast<unsigned char>(text[pos])) &&
           text[pos] != 'n')
      ++pos;
    const std::string key(text.substr(key_start, pos - key_start));
    int idx = field_index(key);
    if (idx < 0) {
      // "icx3": a known field followed by letters is a bad value, not an unknown field.
      for (size_t len : {size_t{2}, size_t{1}})
        if (key.size() > len && field_index(key.substr(0, len)) >= 0)
          throw Error("field '" + key.substr(0, len) + "' needs a non-negative integer, found '" +
                      key[len] + "'");
      if (is_3d_key(key))
        throw Error("field '" + key + "' is 3-D: convbench describes 2-D convolutions only");
      throw Error("unknown field '" + key + "' at position " + std::to_string(key_start) +
                  " of \"" + std::string(text) + "\"");
    }
    const size_t num_start = pos;
    int64_t v = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      v = v * 10 + (text[pos] - '0');
      if (v > kMaxField)
        throw Error("value of '" + key + "' is too large (at most " + std::to_string(kMaxField) +
                    ")");
      ++pos;
    }
    if (pos == num_start) {
      const std::string got = pos < text.size() ? std::string("'") + text[pos] + "'" : "the end";
      throw Error("field '" + key + "' needs a non-negative integer, found " + got);
    }
    if (given[idx]) throw Error("field '" + key + "' is given twice");
    given[idx] = true;
    d.*kFields[idx].member = v;
  }

  auto has = [&](const char* key) { return given[field_index(key)]; };
  for (const char* key : {"ic", "oc", "ih", "kh"})
    if (!has(key)) throw Error(std::string("missing required field '") + key + "'");
  for (const auto& f : kFields)
    if (given[&f - kFields.data()] && d.*f.member < f.min)
      throw Error(fmt_field(f.key, d.*f.member) + ": " + f.key + " must be at least " +
                  std::to_string(f.min));

  const bool has_w = has("iw") || has("ow") || has("kw") || has("sw") || has("pw") || has("dw");
  bool ow_given = has("ow"), pw_given = has("pw");
  if (!has_w) {
    d.iw = d.ih;
    d.kw = d.kh;
    d.sw = d.sh;
    d.dw = d.dh;
    d.pw = d.ph;
    d.ow = d.oh;
    ow_given = has("oh");
    pw_given = has("ph");
  } else {
    for (const char* key : {"iw", "kw"})
      if (!has(key))
        throw Error(std::string("missing required field '") + key +
                    "' (a w-side field was given, so the w side does not copy the h side)");
  }
  if (d.ic % d.g != 0)
    throw Error("g" + std::to_string(d.g) + " does not divide ic" + std::to_string(d.ic));
  if (d.oc % d.g != 0)
    throw Error("g" + std::to_string(d.g) + " does not divide oc" + std::to_string(d.oc));

  Side h{'h', d.ih, d.kh, d.sh, d.dh, d.oh, has("oh"), d.ph, has("ph")};
  Side w{'w', d.iw, d.kw, d.sw, d.dw, d.ow, ow_given, d.pw, pw_given};
  h.resolve();
  w.resolve();
  d.oh = h.o, d.ph = h.p, d.pb = h.p_end;
  d.ow = w.o, d.pw = w.p, d.pr = w.p_end;
  d.validate();
  return d;
}

ConvDesc ConvDesc::make(int64_t g, int64_t mb, int64_t ic, int64_t ih, int64_t iw, int64_t oc,
                        int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                        int64_t dh, int64_t dw, int64_t oh, int64_t ow) {
  ConvDesc d;
  d.g = g, d.mb = mb, d.ic = ic, d.ih = ih, d.iw = iw, d.oc = oc, d.kh = kh, d.kw = kw;
  d.sh = sh, d.sw = sw, d.ph = ph, d.pw = pw, d.dh = dh, d.dw = dw;
  for (const auto& f : kFields) {
    const int64_t v = d.*f.member;
    if ((v < f.min && f.member != &ConvDesc::oh && f.member != &ConvDesc::ow) || v > kMaxField)
      throw Error(fmt_field(f.key, v) + ": out of range");
  }
  if (oh < 0 || ow < 0) throw Error("negative output size");
  Side h{'h', ih, kh, sh, dh, oh, oh > 0, ph, true};
  Side w{'w', iw, kw, sw, dw, ow, ow > 0, pw, true};
  h.resolve();
  w.resolve();
  d.oh = h.o, d.pb = h.p_end, d.ow = w.o, d.pr = w.p_end;
  d.validate();
  return d;
}

std::string ConvDesc::str() const {
  std::ostringstream s;
  const bool square = iw == ih && ow == oh && kw == kh && sw == sh && pw == ph && dw == dh;
  if (g != 1) s << "g" << g;
  s << "mb" << mb << "ic" << ic << "ih" << ih;
  if (!square) s << "iw" << iw;
  s << "oc" << oc << "oh" << oh;
  if (!square) s << "ow" << ow;
  s << "kh" << kh;
  if (!square) s << "kw" << kw;
  if (sh != 1) s << "sh" << sh;
  if (!square && sw != 1) s << "sw" << sw;
  s << "ph" << ph;
  if (!square) s << "pw" << pw;
  if (dh != 0) s << "dh" << dh;
  if (!square && dw != 0) s << "dw" << dw;
  if (!name.empty()) s << "n\"" << name << "\"";
  return s.str();
}

bool ConvDesc::operator==(const ConvDesc& o) const {
  return g == o.g && mb == o.mb && ic == o.ic && ih == o.ih && iw == o.iw && oc == o.oc &&
         oh == o.oh && ow == o.ow && kh == o.kh && kw == o.kw && sh == o.sh && sw == o.sw &&
         ph == o.ph && pw == o.pw && pb == o.pb && pr == o.pr && dh == o.dh && dw == o.dw &&
         name == o.name;
}

std::vector<ConvDesc> read_shape_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read shape file " + path);
  std::vector<ConvDesc> out;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const size_t a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos) continue;
    const size_t b = line.find_last_not_of(" \t\r");
    try {
      out.push_back(ConvDesc::parse(std::string_view(line).substr(a, b - a + 1)));
    } catch (const Error& e) {
      throw Error(path + ":" + std::to_string(no) + ": " + e.what());
    }
  }
  if (out.empty()) throw Error("shape file " + path + " holds no descriptor");
  return out;
}

}  // namespace convbench
