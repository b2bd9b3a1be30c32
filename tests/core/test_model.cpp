// Networks as graphs: the text form parses and prints back, validation names
// the first problem, and the runner's output on every backend matches the
// reference backend's run of the same network (residual adds, concats, shape
// markers, strides), with buffers shared once their last reader has run.
#include <gtest/gtest.h>

#include <cmath>

#include "convbench/model.hpp"
#include "convbench/reference.hpp"
#include "runner.hpp"

namespace convbench {
namespace {

// A small residual block and an inception-style concat, with a shape marker,
// ending in two fully connected layers on a batch of two (oneDNN runs them as
// one image of width two; chained int8 then sees fc's tensor only through views).
const char* kNet = R"(# a marker, a residual block and an inception-style concat
net tiny
input data 2x3x12x10
conv stem data normal/relu+bias/mb2ic3ih12iw10oc8oh6ow5kh3kw3sh2sw2ph1pw1
shape pool stem 2x8x3x3 maxpool 2x2 s2 (not run)
conv a pool normal/relu/mb2ic8ih3iw3oc8oh3ow3kh3kw3ph1pw1
conv b a normal/none+bias/mb2ic8ih3iw3oc8oh3ow3kh1kw1
add res b,pool relu
conv br1 res normal/relu/mb2ic8ih3iw3oc5oh3ow3kh1kw1
conv br2 res depthwise/elu/mb2ic8ih3iw3oc7oh3ow3kh3kw3ph1pw1
conv br3 res spatial/tanh/mb2ic8ih3iw3oc3oh3ow3kh3kw3ph1pw1
concat cat br1,br2,br3 2x15x3x3
conv head cat normal/none/mb2ic15ih3iw3oc4oh1ow1kh3kw3
conv fc head normal/elu+bias/mb2ic4ih1iw1oc6oh1ow1kh1kw1
conv fc2 fc normal/none/mb2ic6ih1iw1oc3oh1ow1kh1kw1
)";

TEST(Model, ParsesAndPrintsBack) {
  const Model m = parse_network(kNet, "tiny.net");
  EXPECT_EQ(m.name, "tiny");
  ASSERT_EQ(m.nodes.size(), 13u);
  EXPECT_EQ(dims_str(m.nodes[5].dims), "2x8x3x3");    // the add
  EXPECT_EQ(dims_str(m.nodes[9].dims), "2x15x3x3");   // the concat
  EXPECT_EQ(m.outputs(), std::vector<size_t>{12});
  const Model again = parse_network(m.str(), "again");
  EXPECT_EQ(again.str(), m.str());
  // A network that ends in a pooling marker: the output is the convolution the
  // marker names (the marker's own data is drawn, so comparing it proves nothing).
  const Model pooled = parse_network(std::string(kNet) + "shape gap fc2 2x3x1x1 pool\n", "pooled.net");
  EXPECT_EQ(pooled.outputs(), std::vector<size_t>{12});
}

TEST(Model, ChainsAreGraphs) {
  const Model m = study_model(Kind::depthwise, Act::relu, 3);
  ASSERT_EQ(m.nodes.size(), 7u);
  EXPECT_EQ(m.nodes[0].op, NodeOp::input);
  EXPECT_EQ(dims_str(m.nodes.back().dims), "1x512x7x7");
  EXPECT_EQ(parse_network(m.str(), "x").str(), m.str());
}

void expect_error(const std::string& text, const std::string& needle) {
  try {
    parse_network(text, "bad.net");
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message: " << e.what() << "\nwanted: " << needle;
  }
}

TEST(Model, ValidationNamesTheFirstProblem) {
  const std::string in = "input x 1x4x8x8\n";
  const std::string c = "normal/relu/mb1ic4ih8oc4oh8kh3";
  expect_error(in + "conv a y " + c + "\n", "conv 'a' (line 2) reads 'y', which no node defines");
  expect_error(in + "conv a b " + c + "\nconv b a " + c + "\nconv c x " + c + "\n",
               "has a cycle: ");
  expect_error(in + "conv a x normal/relu/mb1ic4ih9oc4oh9kh3\n",
               "conv 'a' (line 2) takes 1x4x9x9 (mb ic ih iw of");
  expect_error(in + "conv a x " + c + "\nconv b x normal/relu/mb1ic4ih8oc4oh4kh3sh2\nadd s a,b\n",
               "add 's' (line 4): inputs of different sizes: 'a' 1x4x8x8, 'b' 1x4x4x4");
  expect_error(in + "conv a x " + c + "\nconv b x " + c + "\nconcat s a,b 1x9x8x8\n",
               "channels a 4 + b 4 = 8 (output 1x8x8x8), but it declares 1x9x8x8");
  expect_error(in + "conv a x " + c + "\nconv b x normal/relu/mb1ic4ih8oc4oh4kh3sh2\nconcat s a,b\n",
               "concat 's' (line 4): inputs of different sizes (N, H and W must agree)");
  expect_error(in + "conv a x " + c + "\nconv a x " + c + "\n", "the name is already used (line 2)");
  expect_error(in + "pool p x 1x4x4x4\n", "bad.net:2: unknown node type 'pool'");
  expect_error(in + "shape p x 1x4x4\n", "bad.net:2: '1x4x4' is not NxCxHxW");
  expect_error(in + "conv a x normal/gelu/mb1ic4ih8oc4oh8kh3\n", "bad.net:2: unknown activation 'gelu'");
  expect_error(in + "add s x\n", "takes two or more inputs, got 1");
  expect_error(in, "has no convolution");
  expect_error("conv a x " + c + "\n", "reads 'x', which no node defines");
}

// The network with plain loops, independent of the runner: every node's
// tensor in `layout`, with the runner's data.
std::vector<std::vector<float>> network_ref(const Model& m, Layout layout, uint64_t seed) {
  std::vector<std::vector<float>> t(m.nodes.size());
  for (size_t i : m.order) {
    const Node& n = m.nodes[i];
    const Dims& d = n.dims;
    auto at = [&](const Dims& e, int64_t b, int64_t c, int64_t y, int64_t x) {
      return offset(layout, e[1], e[2], e[3], b, c, y, x);
    };
    switch (n.op) {
      case NodeOp::input:
      case NodeOp::shape: t[i] = network_tensor(d, layout, seed, i); break;
      case NodeOp::conv:
        t[i] = layer_ref(n.layer, layout, network_layer_data(n.layer, seed + 1 + i),
                         t[m.in[i][0]].data());
        break;
      case NodeOp::add:
        t[i].assign(t[m.in[i][0]].size(), 0.f);
        for (size_t j : m.in[i])
          for (size_t k = 0; k < t[i].size(); ++k) t[i][k] += t[j][k];
        for (float& v : t[i]) v = apply_act_ref(n.act, v);
        break;
      case NodeOp::concat: {
        t[i].assign(static_cast<size_t>(d[0] * d[1] * d[2] * d[3]), 0.f);
        int64_t c0 = 0;
        for (size_t j : m.in[i]) {
          const Dims& e = m.nodes[j].dims;
          for (int64_t b = 0; b < e[0]; ++b)
            for (int64_t c = 0; c < e[1]; ++c)
              for (int64_t y = 0; y < e[2]; ++y)
                for (int64_t x = 0; x < e[3]; ++x)
                  t[i][at(d, b, c0 + c, y, x)] = t[j][at(e, b, c, y, x)];
          c0 += e[1];
        }
        break;
      }
    }
  }
  return t;
}

TEST(ModelRunner, EveryBackendMatchesPlainLoopsOnAGraph) {
  const Model m = parse_network(kNet, "tiny.net");
  const uint64_t seed = 7;
  int checked = 0;
  for (Layout layout : {Layout::nhwc, Layout::nchw}) {
    const std::vector<std::vector<float>> ref = network_ref(m, layout, seed);
    const std::vector<std::pair<size_t, const float*>> want = {{m.outputs()[0], ref[m.outputs()[0]].data()}};
    const Dims& d = m.nodes[want[0].first].dims;
    const int64_t n = d[0] * d[1] * d[2] * d[3];
    for (const Backend* b : backends())
      for (Precision prec : {Precision::f32, Precision::bf16, Precision::int8, Precision::int8_chained})
        for (int threads : {1, 3}) {
          const RunConfig cfg{layout, prec, true};
          set_threads(threads);
          std::unique_ptr<ModelRunner> r;
          try {
            r = std::make_unique<ModelRunner>(m, *b, cfg, seed);
          } catch (const Error& e) {
            continue;  // refused or unavailable: the message names why
          }
          r->run();
          const float* y = r->outputs()[0].second;
          double err = 0, scale = 1;
          for (int64_t i = 0; i < n; ++i) {
            ASSERT_FALSE(std::isnan(y[i])) << b->name() << " " << cfg.str() << " seed " << seed;
            scale = std::max(scale, std::fabs(static_cast<double>(want[0].second[i])));
            err = std::max(err, std::fabs(static_cast<double>(y[i]) - want[0].second[i]));
          }
          EXPECT_LE(err / scale, b->tolerance(cfg))
              << b->name() << " " << cfg.str() << " threads " << threads << " seed " << seed;
          ++checked;
        }
  }
  set_threads(1);
  EXPECT_GE(checked, 20);
}

// Chained int8 on oneDNN: s8/u8 from layer to layer, so the only reorders are
// the quantising ones at the input and the marker and the dequantising one at
// the output; dequant-mode int8 has one per convolution and more. The output is
// checked against plain loops above.
TEST(ModelRunner, ChainedInt8ReordersOnlyAtTheEdges) {
  const Model m = parse_network(kNet, "tiny.net");
  auto reorders = [&](Precision p, Layout layout) {
    ModelRunner r(m, find_backend("onednn"), {layout, p, true}, 7);
    int n = 0;
    for (const auto& e : r.execs())
      for (const auto& st : e.p->steps()) n += st.type == StepType::reorder;
    return n;
  };
  for (Layout layout : {Layout::nhwc, Layout::nchw}) {
    const int chained = reorders(Precision::int8_chained, layout);
    EXPECT_EQ(chained, 3) << to_string(layout);  // input, marker, output
    EXPECT_GT(reorders(Precision::int8, layout), 9) << to_string(layout);  // one per convolution at least
  }
  // Refused where it has no meaning, with the reason.
  try {
    ModelRunner r(m, find_backend("hand_nhwc"), {Layout::nhwc, Precision::int8_chained, true}, 7);
    ADD_FAILURE() << "hand_nhwc accepted int8_chained";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("int8"), std::string::npos) << e.what();
  }
}

// Depthwise then pointwise pairs, as MobileNets have them: a stride-1 and a
// stride-2 depthwise layer each read by one pointwise layer alone (fused by
// hand_fused_nhwc, with the depthwise activation differing from the pointwise
// one), and one read twice (not fused: its tensor is needed).
const char* kPairs = R"(net pairs
input data 1x5x9x11
conv dw1 data normal/relu+bias/g5mb1ic5ih9iw11oc5oh9ow11kh3kw3ph1pw1
conv pw1 dw1 normal/none+bias/mb1ic5ih9iw11oc24oh9ow11kh1kw1
conv dw2 pw1 normal/hardswish+bias/g24mb1ic24ih9iw11oc24oh5ow6kh3kw3sh2sw2ph1pw1
conv pw2 dw2 normal/relu/mb1ic24ih5iw6oc40oh5ow6kh1kw1
conv dw3 pw2 normal/elu/g40mb1ic40ih5iw6oc40oh5ow6kh5kw5ph2pw2
conv pw3 dw3 normal/none+bias/mb1ic40ih5iw6oc16oh5ow6kh1kw1
concat cat dw3,pw3
)";

TEST(ModelRunner, FusedPairsMatchPlainLoops) {
  const Model m = parse_network(kPairs, "pairs.net");
  const uint64_t seed = 11;
  const std::vector<std::vector<float>> ref = network_ref(m, Layout::nhwc, seed);
  const size_t out = m.outputs()[0];
  for (int threads : {1, 3}) {
    set_threads(threads);
    ModelRunner r(m, find_backend("hand_fused_nhwc"), {Layout::nhwc, Precision::f32, true}, seed);
    std::vector<std::string> fused;
    for (const ModelRunner::Exec& e : r.execs())
      if (e.fused_from != ModelRunner::Exec::kNone)
        fused.push_back(m.nodes[e.fused_from].name + "+" + m.nodes[e.node].name);
    EXPECT_EQ(fused, (std::vector<std::string>{"dw1+pw1", "dw2+pw2"})) << "threads " << threads;
    r.run();
    const float* y = r.outputs()[0].second;
    double err = 0, scale = 1;
    for (size_t k = 0; k < ref[out].size(); ++k) {
      scale = std::max(scale, std::fabs(static_cast<double>(ref[out][k])));
      err = std::max(err, std::fabs(static_cast<double>(y[k]) - ref[out][k]));
    }
    EXPECT_LE(err / scale, 1e-5) << "threads " << threads << " seed " << seed;
  }
  set_threads(1);
  // Layer by layer (hand_nhwc), the two fused depthwise tensors get buffers.
  ModelRunner apart(m, find_backend("hand_nhwc"), {Layout::nhwc, Precision::f32, true}, seed);
  EXPECT_EQ(apart.execs().size(), 7u);
  ModelRunner together(m, find_backend("hand_fused_nhwc"), {Layout::nhwc, Precision::f32, true},
                       seed);
  EXPECT_EQ(together.execs().size(), 5u);
}

TEST(ModelRunner, BuffersAreReusedAfterTheirLastReader) {
  const Model m = study_model(Kind::normal, Act::relu, 3);
  ModelRunner r(m, find_backend("ref"), {Layout::nhwc, Precision::f32, true}, 1);
  // input 3x224x224; outputs of stem (32x112x112), 64x56x56, 128x28x28, 256x14x14,
  // 512x7x7, 512x7x7: a chain needs the input, the output, and two buffers that
  // alternate (the largest two intermediates).
  const int64_t f = 4;
  const int64_t input = 3 * 224 * 224 * f, stem = 32 * 112 * 112 * f, l1 = 64 * 56 * 56 * f,
                out = 512 * 7 * 7 * f;
  EXPECT_EQ(r.activation_bytes(), input + stem + l1 + out);
  EXPECT_EQ(r.activation_bytes_unshared(),
            input + stem + l1 + (128 * 28 * 28 + 256 * 14 * 14 + 512 * 7 * 7) * f + out);
}

}  // namespace
}  // namespace convbench
