#include "cases.hpp"

#include <algorithm>
#include <sstream>

namespace convbench {
namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

int parse_int(const std::string& flag, const std::string& v, int lo, int hi) {
  size_t used = 0;
  long n = 0;
  try {
    n = std::stol(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty())
    throw Error(flag + ": '" + v + "' is not an integer");
  if (n < lo || n > hi)
    throw Error(flag + ": " + v + " is out of range (" + std::to_string(lo) + ".." +
                std::to_string(hi) + ")");
  return static_cast<int>(n);
}

template <class T, class F>
std::vector<T> parse_list(const std::string& flag, const std::string& v, F parse_one) {
  std::vector<T> out;
  for (const std::string& item : split(v)) {
    try {
      out.push_back(parse_one(item));
    } catch (const Error& e) {
      throw Error(flag + ": " + e.what());
    }
  }
  if (out.empty()) throw Error(flag + " needs at least one value");
  return out;
}

std::string backend_segment(const std::string& backend, const RunConfig& cfg) {
  std::string s = backend;
  if (cfg.precision != Precision::f32) s += ":" + std::string(to_string(cfg.precision));
  if (cfg.layout != Layout::nhwc) s += ":" + std::string(to_string(cfg.layout));
  if (!cfg.fuse_act) s += ":unfused";
  return s;
}

std::string k_segment(const ConvDesc& d) {
  return d.kh == d.kw ? "k:" + std::to_string(d.kh)
                      : "k:" + std::to_string(d.kh) + "x" + std::to_string(d.kw);
}

}  // namespace

ConvDesc with_kernel(const ConvDesc& base, int k) {
  const int64_t exth = (k - 1) * (base.dh + 1) + 1, extw = (k - 1) * (base.dw + 1) + 1;
  const int64_t ph = same_pad_begin(base.ih, base.oh, base.sh, exth);
  const int64_t pw = same_pad_begin(base.iw, base.ow, base.sw, extw);
  ConvDesc d = ConvDesc::make(base.g, base.mb, base.ic, base.ih, base.iw, base.oc, k, k, base.sh,
                              base.sw, ph, pw, base.dh, base.dw, base.oh, base.ow);
  d.name = base.name;
  return d;
}

std::string bench_flags_help() {
  return R"(convbench's own flags (Google Benchmark's --benchmark_* flags work too):
  --k=3,5              kernel sizes substituted into every shape (default 1..9
                       for the default shape; shapes given are used as they are)
  --kinds=LIST         normal,spatial,depthwise,dw_spatial (default: all)
  --acts=LIST          none,relu,elu,tanh,hardswish,hardsigmoid (default:
                       relu,elu,tanh, the study's three)
  --backends=LIST      registry names (default: every available one but ref)
  --shape=DESCRIPTOR   a base layer, repeatable (default mb1ic64ih56oc64oh56)
  --shapes=FILE        benchdnn batch file: one descriptor per line, # comments
  --threads=1,2        thread counts
  --precisions=LIST    f32,bf16,int8,int8_chained (default f32; int8_chained:
                       networks on oneDNN only)
  --layouts=LIST       nhwc,nchw: layout of the user tensors (default nhwc)
  --fusion=LIST        fused,unfused activation (default fused)
  --models             the phone study's 12 networks instead of single layers
  --networks=FILE,...  network files (bench/networks/*.net) instead of single
                       layers: one case per network x backend x precision x
                       layout x fusion x threads
  --runner-overhead    time the network runner alone: every step of the
                       networks (--networks, default the study's normal/relu)
                       does nothing; reports ns_per_step
  --act-each           activation after every stage
  --bias               a bias per stage
  --cold-cache[=MODE]  io (default): rotate input/output buffers larger than the
                       last-level cache; wei: rotate prepared copies of the layer
                       or network, so weights come from memory; all: both
  --pin                bind OpenMP threads to cores (OMP_PROC_BIND=close)
  --seed=N             data seed (default 1)
)";
}

BenchOptions parse_bench_flags(const std::vector<std::string>& args,
                               std::vector<std::string>& rest) {
  BenchOptions o;
  bool shapes_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--benchmark_", 0) == 0 || a.rfind("--v=", 0) == 0) {
      rest.push_back(a);
      continue;
    }
    if (a.rfind("--", 0) != 0) throw Error("unexpected argument '" + a + "'");
    std::string name = a, value;
    bool has_value = false;
    if (const size_t eq = a.find('='); eq != std::string::npos)
      name = a.substr(0, eq), value = a.substr(eq + 1), has_value = true;
    auto need = [&]() -> const std::string& {
      if (!has_value) {
        if (i + 1 >= args.size()) throw Error(name + " needs a value");
        value = args[++i];
        has_value = true;
      }
      return value;
    };
    auto flag_only = [&] {
      if (has_value) throw Error(name + " takes no value");
    };
    if (name == "--k") {
      o.ks = parse_list<int>(name, need(), [&](const std::string& s) { return parse_int(name, s, 1, 64); });
    } else if (name == "--kinds") {
      o.kinds = parse_list<Kind>(name, need(), [](const std::string& s) { return parse_kind(s); });
    } else if (name == "--acts") {
      o.acts = parse_list<Act>(name, need(), [](const std::string& s) { return parse_act(s); });
    } else if (name == "--backends") {
      o.backends = parse_list<std::string>(name, need(), [](const std::string& s) {
        return std::string(find_backend(s).name());
      });
    } else if (name == "--shape") {
      const std::string& v = need();
      try {
        if (!shapes_given) o.shapes.clear();
        o.shapes.push_back(ConvDesc::parse(v));
      } catch (const Error& e) {
        throw Error("--shape " + v + ": " + e.what());
      }
      shapes_given = true;
    } else if (name == "--shapes") {
      if (!shapes_given) o.shapes.clear();
      for (const ConvDesc& d : read_shape_file(need())) o.shapes.push_back(d);
      shapes_given = true;
    } else if (name == "--threads") {
      o.threads = parse_list<int>(name, need(), [&](const std::string& s) { return parse_int(name, s, 1, 1024); });
    } else if (name == "--precisions") {
      o.precisions = parse_list<Precision>(name, need(), [](const std::string& s) { return parse_precision(s); });
    } else if (name == "--layouts") {
      o.layouts = parse_list<Layout>(name, need(), [](const std::string& s) { return parse_layout(s); });
    } else if (name == "--fusion") {
      o.fused = parse_list<bool>(name, need(), [](const std::string& s) {
        if (s == "fused") return true;
        if (s == "unfused") return false;
        throw Error("unknown fusion '" + s + "' (expected fused or unfused)");
      });
    } else if (name == "--networks") {
      for (const std::string& f : split(need())) {
        try {
          o.networks.push_back(read_network_file(f));
        } catch (const Error& e) {
          throw Error("--networks: " + std::string(e.what()));
        }
        o.network_files.push_back(f);
      }
      if (o.networks.empty()) throw Error("--networks needs at least one file");
    } else if (name == "--seed") {
      o.seed = static_cast<uint64_t>(parse_int(name, need(), 0, 1 << 30));
    } else if (name == "--runner-overhead") {
      flag_only(), o.runner_overhead = true;
    } else if (name == "--models") {
      flag_only(), o.models = true;
    } else if (name == "--cold-cache") {
      const std::string v = has_value ? value : "io";
      if (v == "io") o.cold = BenchOptions::Cold::io;
      else if (v == "wei") o.cold = BenchOptions::Cold::wei;
      else if (v == "all") o.cold = BenchOptions::Cold::all;
      else throw Error("--cold-cache: unknown mode '" + v + "' (expected io, wei or all)");
    } else if (name == "--pin") {
      flag_only(), o.pin = true;
    } else if (name == "--act-each") {
      flag_only(), o.act_each = true;
    } else if (name == "--bias") {
      flag_only(), o.bias = true;
    } else {
      throw Error("unknown flag '" + name + "' (see --help)");
    }
  }
  if (o.models && !o.networks.empty()) throw Error("give at most one of --models and --networks");
  if (o.models && o.ks.empty()) o.ks = {3};
  if (!shapes_given && o.ks.empty()) o.ks = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  if (o.backends.empty())
    for (const Backend* b : backends())
      if (b->name() != "ref" && b->unavailable().empty()) o.backends.emplace_back(b->name());
  return o;
}

std::vector<BenchCase> make_cases(const BenchOptions& o, std::vector<std::string>& skipped) {
  std::vector<ConvDesc> bases = o.shapes;
  if (bases.empty()) bases.push_back(ConvDesc::parse(std::string(kDefaultBase) + "kh3"));
  std::vector<BenchCase> out;
  auto add = [&](BenchCase c, const std::string& shape_seg, const ConvDesc& kdesc) {
    const Backend& b = find_backend(c.backend);
    std::string why = b.unavailable();
    if (why.empty()) {
      if (c.is_model) {
        for (const Node& n : c.model.nodes)
          if (n.op == NodeOp::conv)
            if (why = b.refuse(n.layer, c.cfg); !why.empty()) {
              why = n.name + ": " + why;
              break;
            }
      } else {
        why = b.refuse(c.layer, c.cfg);
      }
    }
    c.name = shape_seg.rfind("net:", 0) == 0
                 ? "network/" + shape_seg.substr(4) + "/" + backend_segment(c.backend, c.cfg)
                 : std::string(to_string(c.layer.kind)) + "/" + std::string(to_string(c.layer.act)) +
                       "/" + backend_segment(c.backend, c.cfg) + "/" + shape_seg + "/" +
                       k_segment(kdesc);
    if (o.threads.size() > 1 || c.threads != 1) c.name += "/threads:" + std::to_string(c.threads);
    if (!why.empty()) {
      skipped.push_back(c.name + ": " + why);
      return;
    }
    out.push_back(std::move(c));
  };
  if (!o.networks.empty()) {
    for (const Model& net : o.networks)
      for (const std::string& backend : o.backends)
        for (Precision prec : o.precisions)
          for (Layout layout : o.layouts)
            for (bool fuse : o.fused)
              for (int threads : o.threads) {
                BenchCase c;
                c.is_model = true;
                c.model = net;
                for (const Node& n : net.nodes)
                  if (n.op == NodeOp::conv) {
                    c.layer = n.layer;
                    break;
                  }
                c.backend = backend, c.cfg = RunConfig{layout, prec, fuse}, c.threads = threads;
                add(std::move(c), "net:" + net.name, ConvDesc{});
              }
    return out;
  }
  for (Kind kind : o.kinds)
    for (Act act : o.acts)
      for (const std::string& backend : o.backends)
        for (Precision prec : o.precisions)
          for (Layout layout : o.layouts)
            for (bool fuse : o.fused) {
              if (!fuse && act == Act::none) continue;
              const RunConfig cfg{layout, prec, fuse};
              for (int threads : o.threads) {
                if (o.models) {
                  for (int k : o.ks) {
                    BenchCase c;
                    c.is_model = true;
                    c.model = study_model(kind, act, k);
                    for (Node& n : c.model.nodes)
                      n.layer.act_each = o.act_each, n.layer.bias = o.bias;
                    c.layer = c.model.nodes[2].layer;  // data, stem, then the kind's first
                    c.backend = backend, c.cfg = cfg, c.threads = threads;
                    const ConvDesc kdesc = c.layer.shape;
                    add(std::move(c), "model:study", kdesc);
                  }
                  continue;
                }
                for (const ConvDesc& base : bases) {
                  std::vector<ConvDesc> shapes;
                  if (o.ks.empty()) {
                    shapes.push_back(base);
                  } else {
                    for (int k : o.ks) {
                      try {
                        shapes.push_back(with_kernel(base, k));
                      } catch (const Error& e) {
                        skipped.push_back(base.str() + " with k" + std::to_string(k) + ": " + e.what());
                      }
                    }
                  }
                  for (const ConvDesc& s : shapes) {
                    BenchCase c;
                    c.layer.kind = kind, c.layer.act = act, c.layer.shape = s;
                    c.layer.act_each = o.act_each, c.layer.bias = o.bias;
                    c.backend = backend, c.cfg = cfg, c.threads = threads;
                    try {
                      c.layer.stages();
                    } catch (const Error& e) {
                      skipped.push_back(c.layer.str() + ": " + e.what());
                      continue;
                    }
                    add(std::move(c), s.str(), s);  // s outlives the move: it is in `shapes`
                  }
                }
              }
            }
  return out;
}

}  // namespace convbench
