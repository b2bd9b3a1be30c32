// The benchmark binary's names, filters and flags, and the machine probe.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "cases.hpp"
#include "probe.hpp"

namespace convbench {
namespace {

std::vector<BenchCase> cases_for(const std::vector<std::string>& args) {
  std::vector<std::string> rest, skipped;
  return make_cases(parse_bench_flags(args, rest), skipped);
}

void expect_flag_error(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> rest;
  try {
    parse_bench_flags(args, rest);
    ADD_FAILURE() << "accepted " << args.front();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(BenchCases, NamesFollowTheScheme) {
  const auto cs = cases_for({"--kinds=depthwise", "--acts=elu", "--backends=onednn", "--k=5"});
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].name, "depthwise/elu/onednn/mb1ic64ih56oc64oh56kh5ph2/k:5");
  const auto t = cases_for({"--kinds=normal", "--acts=relu", "--backends=onednn", "--k=3",
                            "--threads=1,2", "--precisions=f32,int8", "--layouts=nchw",
                            "--fusion=unfused"});
  std::vector<std::string> names;
  for (const auto& c : t) names.push_back(c.name);
  EXPECT_NE(std::find(names.begin(), names.end(),
                      "normal/relu/onednn:int8:nchw:unfused/mb1ic64ih56oc64oh56kh3ph1/k:3/threads:2"),
            names.end());
  const auto nsq = cases_for({"--kinds=normal", "--acts=relu", "--backends=ref",
                              "--shape=mb1ic3ih8iw9oc4kh3kw1"});
  ASSERT_EQ(nsq.size(), 1u);
  EXPECT_EQ(nsq[0].name.substr(nsq[0].name.size() - 6), "/k:3x1");
}

TEST(BenchCases, FilterByKernelSize) {
  const std::regex k3("/k:3(/|$)");
  int hits = 0;
  const auto cs = cases_for({"--backends=onednn", "--threads=1,2"});
  EXPECT_EQ(cs.size(), 4u * 3 * 9 * 2);
  for (const auto& c : cs) {
    const bool match = std::regex_search(c.name, k3);
    EXPECT_EQ(match, c.layer.shape.kh == 3) << c.name;
    hits += match;
  }
  EXPECT_EQ(hits, 4 * 3 * 2);
}

TEST(BenchCases, KernelSubstitutionKeepsTheOutput) {
  const ConvDesc base = ConvDesc::parse("mb1ic64ih56oc64oh56kh3");
  for (int k = 1; k <= 9; ++k) {
    const ConvDesc d = with_kernel(base, k);
    EXPECT_EQ(d.oh, 56);
    EXPECT_EQ(d.ph + d.pb, k - 1) << d.str();
    EXPECT_EQ(d.pb - d.ph, k % 2 == 0 ? 1 : 0) << d.str();  // the extra row at the bottom
  }
  const ConvDesc s2 = with_kernel(ConvDesc::parse("mb1ic8ih56oc8oh28kh3sh2"), 7);
  EXPECT_EQ(s2.oh, 28);
}

TEST(BenchCases, ModelsAreTheStudysTwelve) {
  const auto cs = cases_for({"--models", "--backends=onednn"});
  ASSERT_EQ(cs.size(), 12u);
  for (const auto& c : cs) {
    EXPECT_TRUE(c.is_model);
    EXPECT_EQ(c.model.nodes.size(), 7u);  // the input, the stem and five layers
    EXPECT_NE(c.name.find("/model:study/k:3"), std::string::npos) << c.name;
  }
}

TEST(BenchCases, RefusedCasesAreReportedNotRegistered) {
  std::vector<std::string> rest, skipped;
  const auto cs = make_cases(parse_bench_flags({"--backends=xnnpack,im2col_eigen", "--k=3",
                                                "--kinds=normal", "--acts=relu",
                                                "--precisions=bf16"}, rest), skipped);
  EXPECT_TRUE(cs.empty());
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[1].find("f32 only"), std::string::npos) << skipped[1];
}

TEST(BenchCases, FlagErrorsNameTheFlag) {
  expect_flag_error({"--bogus"}, "unknown flag '--bogus'");
  expect_flag_error({"--k=0"}, "--k: 0 is out of range");
  expect_flag_error({"--k=three"}, "--k: 'three' is not an integer");
  expect_flag_error({"--k="}, "--k needs at least one value");
  expect_flag_error({"--kinds=normal,diagonal"}, "--kinds: unknown kind 'diagonal'");
  expect_flag_error({"--acts=gelu"}, "--acts: unknown activation 'gelu'");
  expect_flag_error({"--backends=cudnn"}, "--backends: unknown backend 'cudnn'");
  expect_flag_error({"--shape=mb1ic3"}, "--shape mb1ic3: missing required field");
  expect_flag_error({"--shapes=/nonexistent/file"}, "cannot read shape file");
  expect_flag_error({"--threads=0"}, "--threads: 0 is out of range");
  expect_flag_error({"--fusion=maybe"}, "unknown fusion 'maybe'");
  expect_flag_error({"--precisions=fp8"}, "unknown precision 'fp8'");
  expect_flag_error({"--cold-cache=yes"}, "--cold-cache: unknown mode 'yes' (expected io, wei or all)");
  expect_flag_error({"--models", std::string("--networks=") + CONVBENCH_SOURCE_DIR + "/bench/networks/alexnet.net"},
                    "give at most one of --models and --networks");
  expect_flag_error({"--networks=/nonexistent.net"}, "--networks: /nonexistent.net: cannot open the network file");
  expect_flag_error({"--shape"}, "--shape needs a value");
  expect_flag_error({"stray"}, "unexpected argument 'stray'");
  std::vector<std::string> rest;
  parse_bench_flags({"--benchmark_filter=k:3", "--k=3"}, rest);
  EXPECT_EQ(rest, std::vector<std::string>{"--benchmark_filter=k:3"});
}

TEST(Probe, SaneAndCached) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("convbench-probe-" + std::to_string(::getpid()));
  setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  unsetenv("CONVBENCH_REPROBE");
  const MachineLimits a = probe_machine(1);
  EXPECT_FALSE(a.cached);
  EXPECT_FALSE(a.cpu.empty());
  EXPECT_GT(a.peak_gflops, 0.5);      // even a scalar FMA loop beats this
  EXPECT_LT(a.peak_gflops, 20000.0);  // and nothing on one core reaches this
  EXPECT_GT(a.dram_gbs, 0.1);
  EXPECT_LT(a.dram_gbs, 10000.0);
  const MachineLimits b = probe_machine(1);
  EXPECT_TRUE(b.cached);
  EXPECT_EQ(b.peak_gflops, a.peak_gflops);
  EXPECT_EQ(b.fma_isa, a.fma_isa);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace convbench
