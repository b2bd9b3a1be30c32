#include "convbench/model.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace convbench {

std::string_view to_string(NodeOp op) {
  switch (op) {
    case NodeOp::input: return "input";
    case NodeOp::conv: return "conv";
    case NodeOp::add: return "add";
    case NodeOp::concat: return "concat";
    case NodeOp::shape: return "shape";
  }
  return "?";
}

std::string dims_str(const Dims& d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]) + "x" +
         std::to_string(d[3]);
}

Dims parse_dims(std::string_view s) {
  Dims d{};
  size_t k = 0, i = 0;
  while (k < 4) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i || j - i > 9) break;
    d[k++] = std::stoll(std::string(s.substr(i, j - i)));
    if (j == s.size() || k == 4) {
      i = j;
      break;
    }
    if (s[j] != 'x') break;
    i = j + 1;
  }
  if (k != 4 || i != s.size())
    throw Error("'" + std::string(s) + "' is not NxCxHxW (four positive integers)");
  for (int64_t v : d)
    if (v < 1) throw Error("'" + std::string(s) + "': every dimension must be at least 1");
  if (d[0] * d[1] * d[2] * d[3] > kMaxTensorElems)
    throw Error("'" + std::string(s) + "': more than 2^31 elements");
  return d;
}

namespace {

std::string where(const Model& m, const Node& n) {
  return "network " + m.name + ": " + std::string(to_string(n.op)) + " '" + n.name + "'" +
         (n.line > 0 ? " (line " + std::to_string(n.line) + ")" : "");
}

Dims conv_in(const ConvDesc& c) { return {c.mb, c.ic, c.ih, c.iw}; }
Dims conv_out(const ConvDesc& c) { return {c.mb, c.oc, c.oh, c.ow}; }

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c == ',' || c == '#' || std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

void Model::validate() {
  if (name.empty()) name = "unnamed";
  std::map<std::string, size_t> idx;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (!valid_name(n.name))
      throw Error(where(*this, n) + ": a name may not be empty or hold spaces, commas or '#'");
    if (!idx.emplace(n.name, i).second)
      throw Error(where(*this, n) + ": the name is already used (line " +
                  std::to_string(nodes[idx[n.name]].line) + ")");
  }
  in.assign(nodes.size(), {});
  size_t n_inputs = 0, n_convs = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    const size_t want = n.op == NodeOp::input ? 0 : (n.op == NodeOp::conv || n.op == NodeOp::shape) ? 1 : 2;
    if (n.op == NodeOp::add || n.op == NodeOp::concat ? n.inputs.size() < want : n.inputs.size() != want)
      throw Error(where(*this, n) + ": takes " +
                  (want == 0 ? "no input" : want == 1 ? "one input" : "two or more inputs") +
                  ", got " + std::to_string(n.inputs.size()));
    for (const std::string& s : n.inputs) {
      auto it = idx.find(s);
      if (it == idx.end()) throw Error(where(*this, n) + " reads '" + s + "', which no node defines");
      in[i].push_back(it->second);
    }
    n_inputs += n.op == NodeOp::input;
    n_convs += n.op == NodeOp::conv;
  }
  if (nodes.empty() || n_inputs == 0) throw Error("network " + name + " has no input node");
  if (n_convs == 0) throw Error("network " + name + " has no convolution");

  // Kahn's algorithm, taking nodes in file order where there is a choice.
  std::vector<size_t> indeg(nodes.size(), 0);
  std::vector<std::vector<size_t>> readers(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    for (size_t j : in[i]) ++indeg[i], readers[j].push_back(i);
  order.clear();
  std::vector<size_t> ready;
  for (size_t i = nodes.size(); i-- > 0;)
    if (indeg[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    const size_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (size_t r : readers[i])
      if (--indeg[r] == 0) {
        ready.push_back(r);
        std::sort(ready.begin(), ready.end(), std::greater<size_t>());
      }
  }
  if (order.size() != nodes.size()) {
    // Walk inputs from a node left over until one repeats: that is a cycle.
    size_t cur = 0;
    while (indeg[cur] == 0) ++cur;
    std::vector<size_t> path;
    std::vector<int> pos(nodes.size(), -1);
    while (pos[cur] < 0) {
      pos[cur] = static_cast<int>(path.size());
      path.push_back(cur);
      for (size_t j : in[cur])
        if (indeg[j] > 0) {
          cur = j;
          break;
        }
    }
    std::string cyc;
    for (size_t k = path.size(); k-- > static_cast<size_t>(pos[cur]);)
      cyc += nodes[path[k]].name + " -> ";
    throw Error("network " + name + " has a cycle: " + cyc + nodes[cur].name);
  }

  for (size_t i : order) {
    Node& n = nodes[i];
    auto from = [&](size_t k) -> const Node& { return nodes[in[i][k]]; };
    switch (n.op) {
      case NodeOp::input:
      case NodeOp::shape:
        break;  // declared, checked when read
      case NodeOp::conv: {
        try {
          n.layer.stages();
        } catch (const Error& e) {
          throw Error(where(*this, n) + ": " + e.what());
        }
        const Dims want = conv_in(n.layer.shape);
        if (want != from(0).dims)
          throw Error(where(*this, n) + " takes " + dims_str(want) + " (mb ic ih iw of " +
                      n.layer.shape.str() + ") but '" + from(0).name + "' gives " +
                      dims_str(from(0).dims));
        n.dims = conv_out(n.layer.shape);
        break;
      }
      case NodeOp::add:
        for (size_t k = 1; k < in[i].size(); ++k)
          if (from(k).dims != from(0).dims)
            throw Error(where(*this, n) + ": inputs of different sizes: '" + from(0).name + "' " +
                        dims_str(from(0).dims) + ", '" + from(k).name + "' " + dims_str(from(k).dims));
        n.dims = from(0).dims;
        break;
      case NodeOp::concat: {
        Dims d = from(0).dims;
        std::string sum = from(0).name + " " + std::to_string(d[1]);
        for (size_t k = 1; k < in[i].size(); ++k) {
          const Dims& e = from(k).dims;
          if (e[0] != d[0] || e[2] != d[2] || e[3] != d[3])
            throw Error(where(*this, n) + ": inputs of different sizes (N, H and W must agree): '" +
                        from(0).name + "' " + dims_str(from(0).dims) + ", '" + from(k).name + "' " +
                        dims_str(e));
          d[1] += e[1];
          sum += " + " + from(k).name + " " + std::to_string(e[1]);
        }
        if (n.dims != Dims{} && n.dims != d)
          throw Error(where(*this, n) + ": channels " + sum + " = " + std::to_string(d[1]) +
                      " (output " + dims_str(d) + "), but it declares " + dims_str(n.dims));
        if (d[0] * d[1] * d[2] * d[3] > kMaxTensorElems)
          throw Error(where(*this, n) + ": more than 2^31 elements");
        n.dims = d;
        break;
      }
    }
  }
}

std::vector<size_t> Model::outputs() const {
  // A marker's data is drawn, not computed: an unread marker (a network that
  // ends in a pooling) stands for the computed tensor it names, which is then
  // the output.
  std::vector<bool> read(nodes.size(), false);
  for (const auto& v : in)
    for (size_t j : v) read[j] = true;
  std::vector<bool> is_out(nodes.size(), false);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (read[i] || nodes[i].op == NodeOp::input) continue;
    size_t j = i;
    while (nodes[j].op == NodeOp::shape && !in[j].empty()) j = in[j][0];
    if (nodes[j].op != NodeOp::input && nodes[j].op != NodeOp::shape) is_out[j] = true;
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (is_out[i]) out.push_back(i);
  return out;
}

std::string Model::str() const {
  std::string s = "net " + name + "\n";
  for (const Node& n : nodes) {
    std::string ins;
    for (const std::string& i : n.inputs) ins += (ins.empty() ? "" : ",") + i;
    s += std::string(to_string(n.op)) + " " + n.name;
    switch (n.op) {
      case NodeOp::input: s += " " + dims_str(n.dims); break;
      case NodeOp::conv: s += " " + ins + " " + n.layer.str(); break;
      case NodeOp::add: s += " " + ins + (n.act != Act::none ? " " + std::string(to_string(n.act)) : ""); break;
      case NodeOp::concat: s += " " + ins + (n.dims != Dims{} ? " " + dims_str(n.dims) : ""); break;
      case NodeOp::shape: s += " " + ins + " " + dims_str(n.dims) + (n.what.empty() ? "" : " " + n.what); break;
    }
    s += "\n";
  }
  return s;
}

void Model::add_input(const std::string& node, const Dims& d) {
  Node n;
  n.name = node, n.op = NodeOp::input, n.dims = d;
  nodes.push_back(std::move(n));
}

void Model::add_layer(const std::string& node, const Layer& l) {
  Node n;
  n.name = node, n.op = NodeOp::conv, n.layer = l;
  n.inputs = {nodes.back().name};
  nodes.push_back(std::move(n));
}

Model parse_network(std::string_view text, const std::string& origin) {
  Model m;
  std::istringstream lines{std::string(text)};
  std::string line;
  int no = 0;
  while (std::getline(lines, line)) {
    ++no;
    const std::string at = origin + ":" + std::to_string(no) + ": ";
    if (const size_t h = line.find('#'); h != std::string::npos) line.erase(h);
    std::istringstream ws(line);
    std::vector<std::string> t;
    for (std::string w; ws >> w;) t.push_back(w);
    if (t.empty()) continue;
    auto split = [](const std::string& s) {
      std::vector<std::string> out;
      std::stringstream ss(s);
      for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
      return out;
    };
    try {
      if (t[0] == "net") {
        if (t.size() != 2) throw Error("expected: net NAME");
        if (!m.nodes.empty() || !m.name.empty()) throw Error("'net' must come first, once");
        m.name = t[1];
        continue;
      }
      Node n;
      n.line = no;
      if (t.size() < 2) throw Error("'" + t[0] + "' needs a name");
      n.name = t[1];
      auto need = [&](size_t lo, size_t hi, const char* form) {
        if (t.size() < lo || t.size() > hi) throw Error(std::string("expected: ") + form);
      };
      if (t[0] == "input") {
        need(3, 3, "input NAME NxCxHxW");
        n.op = NodeOp::input, n.dims = parse_dims(t[2]);
      } else if (t[0] == "conv") {
        need(4, 4, "conv NAME INPUT KIND/ACT[+each][+bias]/DESCRIPTOR");
        n.op = NodeOp::conv, n.inputs = {t[2]}, n.layer = Layer::parse(t[3]);
      } else if (t[0] == "add") {
        need(3, 4, "add NAME IN1,IN2[,...] [ACT]");
        n.op = NodeOp::add, n.inputs = split(t[2]);
        if (t.size() == 4) n.act = parse_act(t[3]);
      } else if (t[0] == "concat") {
        need(3, 4, "concat NAME IN1,IN2[,...] [NxCxHxW]");
        n.op = NodeOp::concat, n.inputs = split(t[2]);
        if (t.size() == 4) n.dims = parse_dims(t[3]);
      } else if (t[0] == "shape") {
        need(4, 1000, "shape NAME INPUT NxCxHxW [WHAT...]");
        n.op = NodeOp::shape, n.inputs = {t[2]}, n.dims = parse_dims(t[3]);
        for (size_t k = 4; k < t.size(); ++k) n.what += (k > 4 ? " " : "") + t[k];
      } else {
        throw Error("unknown node type '" + t[0] + "' (expected net, input, conv, add, concat or shape)");
      }
      m.nodes.push_back(std::move(n));
    } catch (const Error& e) {
      throw Error(at + e.what());
    }
  }
  if (m.name.empty()) {
    const size_t slash = origin.find_last_of('/');
    m.name = origin.substr(slash == std::string::npos ? 0 : slash + 1);
  }
  m.validate();
  return m;
}

Model read_network_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(path + ": cannot open the network file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_network(ss.str(), path);
}

Model study_model(Kind kind, Act act, int k) {
  if (k < 1 || k > 9) throw Error("study models take k = 1..9 (got " + std::to_string(k) + ")");
  Model m;
  m.name = "study:" + std::string(to_string(kind)) + "/" + std::string(to_string(act)) + "/k" +
           std::to_string(k);
  Layer stem;
  stem.shape = ConvDesc::parse("mb1ic3ih224oc32oh112kh3sh2");
  stem.act = act;
  m.add_input("data", conv_in(stem.shape));
  m.add_layer("stem", stem);
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
    m.add_layer("layer" + std::to_string(n++), l);
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
    if (m.nodes.empty()) m.add_input("data", conv_in(d));
    m.add_layer(d.name.empty() ? "layer" + std::to_string(n) : d.name, l);
    ++n;
  }
  m.validate();
  return m;
}

}  // namespace convbench
