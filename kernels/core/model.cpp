#include "convbench/model.hpp"

namespace convbench {

void Model::validate() const {
  if (layers.empty()) throw Error("model " + name + " has no layers");
  for (size_t i = 0; i + 1 < layers.size(); ++i) {
    const ConvDesc& a = layers[i].layer.shape;
    const ConvDesc& b = layers[i + 1].layer.shape;
    if (a.mb != b.mb || a.oc != b.ic || a.oh != b.ih || a.ow != b.iw)
      throw Error("model " + name + ": " + layers[i].name + " outputs " + std::to_string(a.oc) +
                  "x" + std::to_string(a.oh) + "x" + std::to_string(a.ow) + " but " +
                  layers[i + 1].name + " takes " + std::to_string(b.ic) + "x" +
                  std::to_string(b.ih) + "x" + std::to_string(b.iw));
  }
}

Model study_model(Kind kind, Act act, int k) {
  if (k < 1 || k > 9) throw Error("study models take k = 1..9 (got " + std::to_string(k) + ")");
  Model m;
  m.name = "study:" + std::string(to_string(kind)) + "/" + std::string(to_string(act)) + "/k" +
           std::to_string(k);
  Layer stem;
  stem.shape = ConvDesc::parse("mb1ic3ih224oc32oh112kh3sh2");
  stem.act = act;
  m.layers.push_back({"stem", stem});
  struct Spec { int64_t ic, oc, ih, oh; };
  const Spec specs[] = {{32, 64, 112, 56}, {64, 128, 56, 28}, {128, 256, 28, 14},
                        {256, 512, 14, 7}, {512, 512, 7, 7}};
  int n = 1;
  for (const Spec& s : specs) {
    Layer l;
    l.kind = kind;
    l.act = act;
    const int64_t st = s.ih == s.oh ? 1 : 2;
    // "Same" padding: the output size is kept and the padding derived from it.
    l.shape = ConvDesc::parse("mb1ic" + std::to_string(s.ic) + "ih" + std::to_string(s.ih) +
                              "oc" + std::to_string(s.oc) + "oh" + std::to_string(s.oh) + "kh" +
                              std::to_string(k) + "sh" + std::to_string(st));
    m.layers.push_back({"layer" + std::to_string(n++), l});
  }
  m.validate();
  return m;
}

Model shape_file_model(const std::string& path, Act act) {
  Model m;
  m.name = path;
  int n = 0;
  for (const ConvDesc& d : read_shape_file(path)) {
    Layer l;
    l.shape = d;
    l.act = act;
    m.layers.push_back({d.name.empty() ? "layer" + std::to_string(n) : d.name, l});
    ++n;
  }
  m.validate();
  return m;
}

}  // namespace convbench
