// The descriptor: benchdnn's rules case by case, round trips, and every refusal.
#include <gtest/gtest.h>

#include <random>

#include "convbench/conv_desc.hpp"

namespace convbench {
namespace {

ConvDesc P(const char* s) { return ConvDesc::parse(s); }

// Parsing must fail and the message must name the problem.
void expect_error(const std::string& text, const std::string& needle) {
  try {
    ConvDesc::parse(text);
    ADD_FAILURE() << "\"" << text << "\" parsed, expected an error mentioning \"" << needle
                  << "\"";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "\"" << text << "\": message \"" << e.what() << "\" does not mention \"" << needle
        << "\"";
  }
}

TEST(ConvDesc, DefaultLayer) {
  const ConvDesc d = P("mb1ic64ih56oc64oh56kh3");
  EXPECT_EQ(d.g, 1);
  EXPECT_EQ(d.mb, 1);
  EXPECT_EQ(d.iw, 56);
  EXPECT_EQ(d.ow, 56);
  EXPECT_EQ(d.kw, 3);
  EXPECT_EQ(d.ph, 1);  // derived from the output size
  EXPECT_EQ(d.pb, 1);
  EXPECT_EQ(d.pw, 1);
  EXPECT_EQ(d.pr, 1);
  EXPECT_EQ(d.str(), "mb1ic64ih56oc64oh56kh3ph1");
}

TEST(ConvDesc, MissingMbIsOneNotBenchdnnsTwo) { EXPECT_EQ(P("ic3ih5oc3kh3").mb, 1); }

TEST(ConvDesc, UnderscoresAreIgnored) {
  EXPECT_EQ(P("mb2_ic16ih10_oc8oh10_kh3_ph1"), P("mb2ic16ih10oc8oh10kh3ph1"));
}

TEST(ConvDesc, WSideCopiesHSideWhenNoWFieldIsGiven) {
  const ConvDesc d = P("ic8ih20oc8kh5sh2ph2dh1");
  EXPECT_EQ(d.iw, 20);
  EXPECT_EQ(d.kw, 5);
  EXPECT_EQ(d.sw, 2);
  EXPECT_EQ(d.pw, 2);
  EXPECT_EQ(d.dw, 1);
  EXPECT_EQ(d.ow, d.oh);
}

TEST(ConvDesc, AnyWFieldStopsTheCopy) {
  const ConvDesc d = P("ic8ih20iw30oc8kh3kw5");
  EXPECT_EQ(d.iw, 30);
  EXPECT_EQ(d.kw, 5);
  EXPECT_EQ(d.sw, 1);  // defaults, not copies
  EXPECT_EQ(d.pw, 0);
  EXPECT_EQ(d.ow, 26);
  EXPECT_EQ(d.oh, 18);
  expect_error("ic8ih20iw30oc8kh3", "missing required field 'kw'");
  expect_error("ic8ih20oc8kh3kw3", "missing required field 'iw'");
}

TEST(ConvDesc, OutputFromPaddingMissingPaddingIsZero) {
  EXPECT_EQ(P("ic1ih10oc1kh3").oh, 8);
  EXPECT_EQ(P("ic1ih10oc1kh3ph1").oh, 10);
  EXPECT_EQ(P("ic1ih10oc1kh3sh2ph1").oh, 5);
  EXPECT_EQ(P("ic1ih10oc1kh3dh1").oh, 6);  // extent 5
  EXPECT_EQ(P("ic1ih10oc1kh3dh1").ext_h(), 5);
}

TEST(ConvDesc, PaddingFromOutputSize) {
  // 56 -> 56 with k = 1..9: total padding k-1, the extra row at the bottom for even k.
  for (int k = 1; k <= 9; ++k) {
    const ConvDesc d = P(("ic4ih56oc4oh56kh" + std::to_string(k)).c_str());
    EXPECT_EQ(d.ph + d.pb, k - 1) << d.str();
    EXPECT_EQ(d.ph, (k - 1) / 2) << d.str();
    EXPECT_EQ(d.pb, k / 2) << d.str();
  }
  // Strided "same": 56 -> 28 with k3 needs one row in all, at the bottom.
  const ConvDesc s = P("ic4ih56oc4oh28kh3sh2");
  EXPECT_EQ(s.ph, 0);
  EXPECT_EQ(s.pb, 1);
}

TEST(ConvDesc, BottomPaddingFollowsOutputAndMayDiffer) {
  const ConvDesc d = P("ic1ih10oc1oh10kh3ph0");
  EXPECT_EQ(d.ph, 0);
  EXPECT_EQ(d.pb, 2);
  // Stride leftovers give a negative trailing padding: rows no window reaches.
  const ConvDesc e = P("ic1ih5oc1kh2sh2");
  EXPECT_EQ(e.oh, 2);
  EXPECT_EQ(e.pb, -1);
}

TEST(ConvDesc, Dh0MeansNoDilation) {
  EXPECT_EQ(P("ic1ih9oc1kh3dh0").ext_h(), 3);
  EXPECT_EQ(P("ic1ih9oc1kh3dh0"), P("ic1ih9oc1kh3"));
}

TEST(ConvDesc, Names) {
  EXPECT_EQ(P("ic3ih224oc64oh112kh7sh2ph3n\"resnet_50:conv1\"").name, "resnet_50:conv1");
  EXPECT_EQ(P("ic3ih224oc64oh112kh7sh2ph3_nconv1").name, "conv1");
  EXPECT_EQ(P("ic3ih8oc3kh3n\"a\"").str(), "mb1ic3ih8oc3oh6kh3ph0n\"a\"");
}

TEST(ConvDesc, CanonicalFormIsMinimalAndExplicit) {
  EXPECT_EQ(P("g4mb2ic8ih9iw7oc8oh9ow7kh3kw1sh1ph1pw0").str(),
            "g4mb2ic8ih9iw7oc8oh9ow7kh3kw1ph1pw0");
  EXPECT_EQ(P("ic8ih9oc8kh3sh2dh1").str(), "mb1ic8ih9oc8oh3kh3sh2ph0dh1");
}

TEST(ConvDesc, RoundTripsOverRandomShapes) {
  const uint64_t seed = 20261122;
  std::mt19937_64 rng(seed);
  auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    const int g = r(1, 3);
    std::string s = "g" + std::to_string(g) + "mb" + std::to_string(r(1, 3)) + "ic" +
                    std::to_string(g * r(1, 5)) + "ih" + std::to_string(r(1, 20));
    if (r(0, 1)) s += "iw" + std::to_string(r(1, 20)) + "kw" + std::to_string(r(1, 5));
    s += "oc" + std::to_string(g * r(1, 5)) + "kh" + std::to_string(r(1, 5));
    if (r(0, 1)) s += "sh" + std::to_string(r(1, 3));
    if (r(0, 1)) s += "ph" + std::to_string(r(0, 3));
    if (r(0, 1)) s += "dh" + std::to_string(r(0, 2));
    ConvDesc d;
    try {
      d = ConvDesc::parse(s);
    } catch (const Error&) {
      continue;  // tiny inputs with big kernels are rightly refused
    }
    ++parsed;
    const ConvDesc back = ConvDesc::parse(d.str());
    ASSERT_EQ(back, d) << "seed " << seed << " case " << i << ": " << s << " -> " << d.str()
                       << " -> " << back.str();
    ASSERT_EQ(back.str(), d.str());
  }
  EXPECT_GT(parsed, 1000) << "seed " << seed;
}

TEST(ConvDesc, MakeAgreesWithParse) {
  EXPECT_EQ(ConvDesc::make(1, 1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 0, 0),
            P("mb1ic64ih56oc64oh56kh3ph1"));
  EXPECT_EQ(ConvDesc::make(1, 1, 8, 10, 12, 8, 4, 1, 1, 1, 1, 0, 0, 0, 10, 12),
            P("mb1ic8ih10iw12oc8oh10ow12kh4kw1ph1pw0"));
}

TEST(ConvDesc, BadInput) {
  expect_error("", "empty descriptor");
  expect_error("mb1ic64ih56oc64xx3kh3", "unknown field 'xx'");
  expect_error("ic3id5ih5oc3kh3", "3-D");
  expect_error("IC3ih5oc3kh3", "unexpected character 'I'");
  expect_error("ic3 ih5oc3kh3", "unexpected character ' '");
  expect_error("ih5oc3kh3", "missing required field 'ic'");
  expect_error("ic3ih5kh3", "missing required field 'oc'");
  expect_error("ic3oc3kh3", "missing required field 'ih'");
  expect_error("ic3ih5oc3", "missing required field 'kh'");
  expect_error("ic0ih5oc3kh3", "ic must be at least 1");
  expect_error("ic3ih5oc3kh3sh0", "sh must be at least 1");
  expect_error("ic3ih5oc3kh3oh0", "oh must be at least 1");
  expect_error("icxih5oc3kh3", "field 'ic' needs a non-negative integer, found 'x'");
  expect_error("ic3ih5oc3kh3ph-1", "field 'ph' needs a non-negative integer, found '-'");
  expect_error("ic3ih5oc3kh", "field 'kh' needs a non-negative integer, found the end");
  expect_error("ic3ic4ih5oc3kh3", "field 'ic' is given twice");
  expect_error("g2ic3ih5oc4kh3", "g2 does not divide ic3");
  expect_error("g2ic4ih5oc3kh3", "g2 does not divide oc3");
  expect_error("ic3ih2oc3kh3", "kernel extent 3");
  expect_error("ic3ih5oc3kh3dh2", "kernel extent 7");
  expect_error("ic3ih5oc3kh3ph3", "ph3 is not smaller than the kernel extent 3");
  expect_error("ic3ih5oc3oh12kh3ph1", "oh12 needs 8 padding at the bottom");
  expect_error("ic3ih5oc3oh12kh3", "oh12 needs padding 4 at the top");
  expect_error("ic3ih56oc3oh10kh3ph1", "oh10 is smaller than");
  expect_error("ic3ih99999999oc3kh3", "too large");
  expect_error("mb4096ic4096ih4096oc1kh1", "tensor src is too large");
  expect_error("mb4ic1024ih512oc1024kh1", "MiB cap");
  expect_error("ic3ih5oc3kh3n\"unterminated", "no closing quote");
  expect_error("ic3ih5oc3kh3n", "empty name");
  expect_error("ic3ih5oc3kh3n\"a/b\"", "bad character '/'");
}

}  // namespace
}  // namespace convbench
