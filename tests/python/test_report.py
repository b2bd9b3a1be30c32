"""tools/report and tools/compare on JSON that the real benchmark binary writes
in this test run (no hand-written fixtures): the figures exist, and the fit,
speedup and ratio numbers match a computation redone here from the JSON."""
import csv
import json
import math
import os
import statistics
import subprocess

import numpy as np
import pytest

BIN = os.environ.get("CONVBENCH_BIN", "build/bin")
TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "tools")
SHAPE = "mb1ic8ih14oc16oh14kh3"


def bench(out, *args, env=None):
    subprocess.run([os.path.join(BIN, "convbench"), f"--shape={SHAPE}", "--benchmark_min_time=0.01",
                    f"--benchmark_out={out}", "--benchmark_out_format=json", *args],
                   check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    env = dict(os.environ, XDG_CACHE_HOME=str(d / "cache"))
    bench(d / "sweep.json", "--k=1,2,3,4", "--acts=relu,none", "--backends=onednn,hand_nhwc",
          "--fusion=fused,unfused", env=env)
    bench(d / "prec.json", "--k=3", "--kinds=normal,depthwise", "--acts=relu", "--backends=onednn",
          "--precisions=f32,int8", "--layouts=nchw", env=env)
    p = subprocess.run([os.path.join(TOOLS, "report"), str(d)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return d


def cases(run_dir):
    out = {}
    for f in ("sweep.json", "prec.json"):
        for b in json.loads((run_dir / f).read_text())["benchmarks"]:
            out[b["name"]] = b
    return out


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_figures_exist(run_dir):
    for name in ("time_vs_k_relu.png", "time_per_tap_relu.png", "separable_relu.png", "roofline.png",
                 "vs_onednn.png", "activation_cost.png", "precisions.png"):
        path = run_dir / name
        assert path.exists() and path.stat().st_size > 1000, name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (run_dir / "report.md").read_text()
    assert "## Findings" in md and "Separable convolutions 1.5-3x faster" in md
    assert "INT8 faster than FP32?" in md
    for name in ("time_vs_k_relu.png", "roofline.png", "fit.csv"):
        assert f"({name})" in md


def test_fit_matches_numpy(run_dir):
    c = cases(run_dir)
    fits = rows(run_dir / "fit.csv")
    assert fits
    for r in fits:
        pts = [(int(n.split("/k:")[1].split("/")[0]), b["real_time"]) for n, b in c.items()
               if n.startswith(f"{r['kind']}/{r['act']}/{r['backend']}/")]
        areas = np.array([k * k for k, _ in pts], float)
        times = np.array([t for _, t in pts])
        slope, intercept = np.polyfit(areas, times, 1)
        pred = intercept + slope * areas
        r2 = 1 - ((times - pred) ** 2).sum() / ((times - times.mean()) ** 2).sum()
        assert float(r["slope_us_per_tap"]) == pytest.approx(slope, rel=1e-6, abs=1e-9)
        assert float(r["intercept_us"]) == pytest.approx(intercept, rel=1e-6, abs=1e-6)
        assert float(r["r2"]) == pytest.approx(r2, rel=1e-6, abs=1e-9)
        jumps = {f"k{int(math.isqrt(int(a)))}" for a, t, p in zip(areas, times, pred) if abs(t - p) > 0.15 * p}
        assert set(r["jumps_over_15pct"].split()) == jumps


def test_separable_and_onednn_ratios(run_dir):
    c = cases(run_dir)

    def t(kind, act, backend, k):
        return next(b["real_time"] for n, b in c.items()
                    if n.startswith(f"{kind}/{act}/{backend}/") and f"/k:{k}/" in n)

    for r in rows(run_dir / "separable.csv"):
        want = t("normal", r["act"], r["backend"], r["k"]) / t(r["kind"], r["act"], r["backend"], r["k"])
        assert float(r["speedup_over_normal"]) == pytest.approx(want, rel=1e-9)
    vs = rows(run_dir / "vs_onednn.csv")
    assert vs
    for r in vs:
        same_config = "onednn" + r["backend"][len(r["backend"].split(":")[0]):]  # e.g. onednn:unfused
        want = t(r["kind"], r["act"], same_config, r["k"]) / t(r["kind"], r["act"], r["backend"], r["k"])
        assert float(r["speed_vs_onednn"]) == pytest.approx(want, rel=1e-9)


def test_precision_reorder_share(run_dir):
    c = cases(run_dir)
    for r in rows(run_dir / "precisions.csv"):
        seg = r["backend"] + (":int8" if r["precision"] == "int8" else "") + ":" + r["layout"]
        b = next(b for n, b in c.items() if n.startswith(f"{r['kind']}/relu/{seg}/") and "/k:3/" in n)
        assert float(r["reorder_pct"]) == pytest.approx(100 * b["reorder_us"] / b["real_time"], rel=1e-6)


def test_scaling_against_one_thread_and_probe(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    j = tmp_path / "threads.json"
    bench(j, "--k=3", "--kinds=normal", "--acts=relu", "--backends=onednn,hand_nhwc", "--threads=1,2",
          env=env)
    p = subprocess.run([os.path.join(TOOLS, "report"), str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    data = json.loads(j.read_text())
    t = {b["name"]: b["real_time"] for b in data["benchmarks"]}
    ctx = data["context"]
    out = rows(tmp_path / "scaling.csv")
    assert {r["backend"] for r in out} == {"onednn", "hand_nhwc"} and {r["threads"] for r in out} == {"1", "2"}
    for r in out:
        name = f"normal/relu/{r['backend']}/{r['shape']}/k:3/threads:{{}}/real_time"
        want = t[name.format(1)] / t[name.format(r["threads"])]
        assert float(r["speedup"]) == pytest.approx(want, rel=1e-9)
        assert float(r["efficiency"]) == pytest.approx(want / int(r["threads"]), rel=1e-9)
        probe = float(ctx[f"peak_gflops_threads_{r['threads']}"]) / float(ctx["peak_gflops_threads_1"])
        assert float(r["probe_speedup"]) == pytest.approx(probe, rel=1e-9)
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## Thread scaling" in (tmp_path / "report.md").read_text()


def test_compare_geomean_and_significance(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    common = ["--k=1,3", "--kinds=normal", "--acts=relu", "--benchmark_repetitions=9"]
    bench(a, *common, "--backends=onednn", env=env)
    bench(b, *common, "--backends=onednn,hand_nhwc", env=env)
    p = subprocess.run([os.path.join(TOOLS, "compare"), str(a), str(b), "--csv", str(tmp_path / "c.csv")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    ja = json.loads(a.read_text())["benchmarks"]
    jb = json.loads(b.read_text())["benchmarks"]

    def medians(js):
        by = {}
        for x in js:
            if x.get("run_type") == "iteration":
                by.setdefault(x["run_name"], []).append(x["real_time"])
        return {k: statistics.median(v) for k, v in by.items()}

    ma, mb = medians(ja), medians(jb)
    ratios = [mb[n] / ma[n] for n in ma if n in mb]
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    out = rows(tmp_path / "c.csv")
    assert float(out[-1]["ratio"]) == pytest.approx(geo, rel=1e-9)
    assert all(r["p_value"] != "" for r in out[:-1])
    assert "case(s) only in contender" in p.stdout and "hand_nhwc" in p.stdout


@pytest.mark.parametrize("tool", ["report", "compare"])
def test_bad_input_exits_2(tool, tmp_path):
    notjson = tmp_path / "x.json"
    notjson.write_text("not json")
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    empty = tmp_path / "empty.json"
    empty.write_text('{"context": {}, "benchmarks": []}')
    missing = str(tmp_path / "missing.json")
    for args, needle in (([missing], "no such file"), ([str(notjson)], "not readable JSON"),
                         ([str(other)], "not Google Benchmark JSON"), ([str(empty)], "no convbench benchmark results")):
        if tool == "compare":
            args = args + args
        p = subprocess.run([os.path.join(TOOLS, tool)] + args, capture_output=True, text=True)
        assert p.returncode == 2, (args, p.stderr)
        assert needle in p.stderr and p.stdout == ""


def test_compare_mismatched_runs(tmp_path, run_dir):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    a = tmp_path / "a.json"
    bench(a, "--k=5", "--kinds=spatial", "--acts=elu", "--backends=onednn", env=env)
    p = subprocess.run([os.path.join(TOOLS, "compare"), str(a), str(run_dir / "prec.json")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "share no case" in p.stderr and p.stdout == ""
