"""The benchmark binary and the profile tool, run for real on small shapes:
names, filters, counter arithmetic and the profile's sum rule. No timing is
asserted: only how the reported numbers relate to each other."""
import json
import os
import re
import subprocess

import pytest

BIN = os.environ.get("CONVBENCH_BIN", "build/bin")
SHAPE = "mb1ic8ih12oc16oh12kh3"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out.json"
    env = dict(os.environ, XDG_CACHE_HOME=str(out.parent / "cache"))
    subprocess.run([os.path.join(BIN, "convbench"), f"--shape={SHAPE}", "--k=1,3",
                    "--kinds=normal,depthwise", "--acts=relu", "--backends=ref,onednn",
                    "--layouts=nchw", "--benchmark_min_time=0.01",
                    f"--benchmark_out={out}", "--benchmark_out_format=json"],
                   check=True, capture_output=True, env=env)
    return json.loads(out.read_text())


def test_names_and_kernel_filter(run):
    names = [b["name"] for b in run["benchmarks"]]
    assert len(names) == 2 * 2 * 2
    pattern = re.compile(r"^(normal|depthwise)/relu/(ref|onednn):nchw/mb1ic8ih12oc16oh12kh[13]ph[01]/k:[13]/real_time$")
    for n in names:
        assert pattern.match(n), n
    assert sum(1 for n in names if re.search(r"/k:3(/|$)", n)) == 4


def test_counter_arithmetic(run):
    peak = float(run["context"]["peak_gflops_threads_1"])
    for b in run["benchmarks"]:
        seconds = b["real_time"] * 1e-6  # the unit is microseconds
        assert b["time_unit"] == "us"
        flops = 2 * b["MACs"]
        assert b["FLOPS"] == pytest.approx(flops / seconds, rel=1e-6)
        assert b["FLOPS_eff"] == pytest.approx(2 * b["MACs_eff"] / seconds, rel=1e-6)
        assert b["MACs_eff"] <= b["MACs"]
        assert b["AI"] == pytest.approx(flops / b["bytes"], rel=1e-6)
        k = int(re.search(r"/k:(\d+)", b["name"]).group(1))
        assert b["us_per_tap"] == pytest.approx(b["real_time"] / (k * k), rel=1e-6)
        assert b["peak_pct"] == pytest.approx(100 * b["FLOPS"] / (peak * 1e9), rel=1e-6)
        assert b["reorder_pct"] == pytest.approx(100 * b["reorder_us"] / b["real_time"], rel=1e-6)
        if b["name"].split("/")[2].startswith("onednn"):
            assert b["reorder_us"] > 0  # NCHW user tensors, oneDNN's NHWC inside
            assert "reorder:src" in b["label"]


def test_context(run):
    ctx = run["context"]
    for key in ("convbench_cpu", "peak_gflops_threads_1", "dram_gbs_threads_1", "compiler",
                "build_flags", "version_onednn", "threads", "pinning", "cpufreq_governor",
                "env_OPENBLAS_CORETYPE"):
        assert key in ctx, key


@pytest.mark.parametrize("args,needle", [
    (["--bogus"], "unknown flag '--bogus'"),
    (["--k=0"], "out of range"),
    (["--kinds=circle"], "unknown kind 'circle'"),
    (["--benchmark_nonsense=1"], "benchmark_nonsense"),
])
def test_flag_errors_exit_2(args, needle):
    p = subprocess.run([os.path.join(BIN, "convbench")] + args, capture_output=True, text=True)
    assert p.returncode == 2, p
    assert needle in p.stderr
    assert p.stdout == ""


def test_profile_sum_rule_arithmetic(tmp_path):
    shapes = tmp_path / "net.txt"
    shapes.write_text("# a tiny chain\nmb1ic4ih10oc8oh10kh3n\"a\"\ng8mb1ic8ih10oc8oh5kh3sh2n\"b\"\nmb1ic8ih5oc6oh5kh1n\"c\"\n")
    p = subprocess.run([os.path.join(BIN, "convbench-profile"), "--shapes", str(shapes),
                        "--layout", "nchw", "--iters", "20", "--json"],
                       check=True, capture_output=True, text=True)
    j = json.loads(p.stdout)
    steps = j["steps"]
    assert [s["layer"] for s in steps if s["type"] != "reorder"] == ["a", "b", "c"]
    assert {s["type"] for s in steps} >= {"convolution", "depthwise", "pointwise", "reorder"}
    total = sum(s["median_us"] for s in steps)
    assert j["sum_of_steps_us"] == pytest.approx(total, rel=1e-9)
    assert sum(s["share"] for s in steps) == pytest.approx(1.0, rel=1e-9)
    for t in j["types"]:
        mine = [s for s in steps if s["type"] == t["type"]]
        assert t["count"] == len(mine)
        assert t["total_us"] == pytest.approx(sum(s["median_us"] for s in mine), rel=1e-9)
        assert t["avg_us"] == pytest.approx(t["total_us"] / t["count"], rel=1e-9)
    lat = j["latency_us"]
    assert lat["min"] <= lat["p10"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert j["sum_ratio"] == pytest.approx(total / lat["median"], rel=1e-9)
    assert j["sum_rule_ok"] == (abs(j["sum_ratio"] - 1) <= 0.05)
    assert j["throughput_per_s"] == pytest.approx(1e6 / lat["median"], rel=1e-9)


def test_profile_bad_input(tmp_path):
    p = subprocess.run([os.path.join(BIN, "convbench-profile"), "--model", "study:round/relu"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "unknown kind 'round'" in p.stderr and p.stdout == ""
    bad = tmp_path / "bad.txt"
    bad.write_text("mb1ic4ih10oc8kh3\nmb1ic9ih10oc8kh3\n")
    p = subprocess.run([os.path.join(BIN, "convbench-profile"), "--shapes", str(bad)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "do not chain" not in p.stdout
    assert "takes 1x9x10x10" in p.stderr
