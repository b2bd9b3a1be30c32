"""The report's tables (tools/cbtables.py) on small stored runs that the real
benchmark binary wrote (tests/python/fixtures/, regenerate with
tests/python/fixtures/make-fixtures): each number is recomputed here from the
JSON, independently of the code under test. No binary is run."""
import json
import math
import os
import statistics
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import cbreport  # noqa: E402
import cbtables as T  # noqa: E402

FIX = os.path.join(HERE, "fixtures")


def load(name):
    cases, ctx = cbreport.load_runs([os.path.join(FIX, name)])
    vals = list(cases.values())
    return [c for c in vals if not c.is_model], [c for c in vals if c.is_model], ctx


def raw(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def medians(name):
    by = {}
    for b in raw(name)["benchmarks"]:
        if b.get("run_type", "iteration") == "iteration":
            by.setdefault(b["run_name"], []).append(b["real_time"])
    return {k: statistics.median(v) for k, v in by.items()}


def t(meds, prefix, k=None, threads=None):
    hits = [v for n, v in meds.items() if n.startswith(prefix) and (k is None or f"/k:{k}/" in n)
            and (threads is None or f"/threads:{threads}/" in n)]
    assert len(hits) == 1, (prefix, k, hits)
    return hits[0]


def test_fit_rows_match_numpy():
    layers, _, _ = load("sweep.json")
    meds = medians("sweep.json")
    rows = T.fit_rows(layers)
    assert rows
    for kind, act, backend, threads, points, slope, intercept, r2, jumps in rows:
        pts = [(int(n.split("/k:")[1].split("/")[0]), v) for n, v in meds.items()
               if n.startswith(f"{kind}/{act}/{backend}/") and
               (f"/threads:{threads}/" in n or (threads == 1 and "/threads:" not in n))]
        areas = np.array([k * k for k, _ in pts], float)
        times = np.array([v for _, v in pts])
        s, i = np.polyfit(areas, times, 1)
        pred = i + s * areas
        want_r2 = 1 - ((times - pred) ** 2).sum() / ((times - times.mean()) ** 2).sum()
        assert points == len(pts)
        assert slope == pytest.approx(s, rel=1e-6, abs=1e-9)
        assert intercept == pytest.approx(i, rel=1e-6, abs=1e-6)
        assert r2 == pytest.approx(want_r2, rel=1e-6, abs=1e-9)
        want_jumps = {f"k{int(math.isqrt(int(a)))}" for a, y, p in zip(areas, times, pred) if abs(y - p) > 0.15 * p}
        assert set(jumps.split()) == want_jumps


def test_separable_vs_onednn_and_activation_rows():
    layers, _, _ = load("sweep.json")
    meds = medians("sweep.json")
    sep = T.separable_rows(layers)
    assert sep
    for kind, act, backend, threads, k, speed, macs, share in sep:
        want = t(meds, f"normal/{act}/{backend}/", k, threads) / t(meds, f"{kind}/{act}/{backend}/", k, threads)
        assert speed == pytest.approx(want, rel=1e-9)
        assert share == pytest.approx(speed / macs, rel=1e-12)
    vs = T.vs_onednn_rows(layers)
    assert vs and all(r[2] != "onednn" for r in vs)
    for kind, act, backend, threads, k, o_us, b_us, speed, shape in vs:
        assert speed == pytest.approx(o_us / b_us, rel=1e-12)
    act_rows = T.activation_rows(layers)
    assert {r[4] for r in act_rows} == {"fused", "unfused"}
    for kind, backend, k, act, fusion, ratio, extra in act_rows:
        seg = backend + (":unfused" if fusion == "unfused" else "")
        with_act = [v for n, v in meds.items() if n.startswith(f"{kind}/{act}/{seg}/") and f"/k:{k}/" in n]
        none = [v for n, v in meds.items() if n.startswith(f"{kind}/none/{backend}/") and f"/k:{k}/" in n]
        # the row is one of the thread counts' pairs
        assert any(ratio == pytest.approx(x / y, rel=1e-9) and extra == pytest.approx(x - y, rel=1e-9)
                   for x in with_act for y in none), (kind, backend, k, act, fusion)


def test_scaling_rows_against_the_probe():
    layers, _, ctx = load("sweep.json")
    rows = T.scaling_rows(layers, ctx)
    assert rows and {r[4] for r in rows} == {1, 2}
    probe2 = float(ctx["peak_gflops_threads_2"]) / float(ctx["peak_gflops_threads_1"])
    for kind, act, backend, k, threads, us, sp, eff, probe, vs_probe, shape in rows:
        assert eff == pytest.approx(sp / threads)
        assert probe == pytest.approx(1.0 if threads == 1 else probe2)


def test_precision_rows_reorder_share():
    layers, _, _ = load("precisions.json")
    rows = T.precision_rows(layers)
    assert {r[4] for r in rows} >= {"f32", "int8"}
    by = {(c.kind, c.precision, c.layout): c for c in layers}
    for kind, backend, layout, k, prec, us, re_us, re_pct, speed in rows:
        c = by[(kind, prec, layout)]
        assert re_pct == pytest.approx(100 * c.counters["reorder_us"] / (c.time * 1e6), rel=1e-9)
        assert speed == pytest.approx(by[(kind, "f32", layout)].time / c.time, rel=1e-12)


def test_network_rows_and_case_table():
    cases, ctx = cbreport.load_runs([os.path.join(FIX, "networks.json"), os.path.join(FIX, "models.json")])
    models = [c for c in cases.values() if c.is_model]
    rows = T.network_rows(models)
    assert {r[0] for r in rows} == {"tiny", "study"}
    for net, kind, act, backend, k, threads, us, ips, speed in rows:
        if backend == "onednn":
            assert speed == 1.0
        assert ips == pytest.approx(1e6 / us, rel=1e-3)
    table = cbreport.case_rows({c.name: c for c in models}, ctx)
    assert [r["name"] for r in table] == sorted(c.name for c in models)
    tiny = next(r for r in table if r["kind"] == "network")
    assert tiny["command"].startswith("build/bin/convbench --networks=") and "--backends=" in tiny["command"]
    assert tiny["act_bytes"] > 0 and tiny["weights_bytes"] > 0


def test_descriptor_fields_and_roofline():
    assert cbreport.desc_fields("mb1ic64ih56oc64oh56kh3ph1") == {
        "g": 1, "mb": 1, "ic": 64, "ih": 56, "iw": 56, "oc": 64, "oh": 56, "ow": 56, "kh": 3, "kw": 3,
        "sh": 1, "sw": 1, "ph": 1, "pw": 1, "dh": 0, "dw": 0}
    f = cbreport.desc_fields("g3mb2ic6ih15iw13oc12oh8ow7kh3kw1sh2sw2ph1pw0dh1")
    assert (f["g"], f["iw"], f["ow"], f["kw"], f["sw"], f["pw"], f["dh"], f["dw"]) == (3, 13, 7, 1, 2, 0, 1, 0)
    layers, _, ctx = load("sweep.json")
    rows = T.roofline_rows(layers, ctx)
    assert rows
    levels = T.roof_levels(ctx)
    for name, prec, ai, gf, ws, level, roof, pct in rows:
        fits = next(lv for lv in levels if ws <= lv[1])
        assert level == fits[0]
        assert roof == pytest.approx(min(float(ctx["peak_gflops_threads_1"]), ai * fits[2]))
        assert pct == pytest.approx(100 * gf / roof)
