"""The tables of a convbench report, computed from loaded cases (cbreport.Case)
and the run's context: no files, no figures, no prose. tools/report renders
them; tests/python/test_tables.py checks them on stored runs."""
import collections
import math
import re

JUMP = 0.15  # a kernel size whose time is more than 15 % off the fitted line

FIT_HEADER = ["kind", "act", "backend", "threads", "points", "slope_us_per_tap", "intercept_us", "r2",
              "jumps_over_15pct"]
SEPARABLE_HEADER = ["kind", "act", "backend", "threads", "k", "speedup_over_normal", "mac_reduction",
                    "share_of_saving_realised"]
ACTIVATION_HEADER = ["kind", "backend", "k", "act", "fusion", "time_vs_none", "extra_us"]
VS_ONEDNN_HEADER = ["kind", "act", "backend", "threads", "k", "onednn_us", "backend_us", "speed_vs_onednn",
                    "shape"]
PRECISION_HEADER = ["kind", "backend", "layout", "k", "precision", "time_us", "reorder_us", "reorder_pct",
                    "speed_vs_f32"]
SCALING_HEADER = ["kind", "act", "backend", "k", "threads", "time_us", "speedup", "efficiency",
                  "probe_speedup", "speedup_vs_probe", "shape"]
NETWORK_HEADER = ["network", "kind", "act", "backend", "k", "threads", "latency_us", "images_per_s",
                  "speed_vs_onednn"]
ROOFLINE_HEADER = ["case", "precision", "AI", "gflops", "working_set_bytes", "fits_in", "roof_gflops",
                   "pct_of_roof"]


def base_shape(shape):
    """The shape with its kernel size and padding removed: what a k sweep shares."""
    return re.sub(r"(kh|kw|ph|pw)\d+", "", shape)


def linear_fit(xs, ys):
    """Least squares y = a + b x, with R^2; written out so that tests can redo it."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    b = sxy / sxx if sxx > 0 else 0.0
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return a, b, r2


def sweeps(layers):
    """Layer cases grouped by everything but k: (kind, act, variant, threads, base)."""
    g = collections.defaultdict(list)
    for c in layers:
        g[(c.kind, c.act, c.variant, c.threads, base_shape(c.shape))].append(c)
    for v in g.values():
        v.sort(key=lambda c: c.area)
    return g


def fit_rows(layers):
    rows = []
    for key, cs in sorted(sweeps(layers).items()):
        if len({c.area for c in cs}) < 3:
            continue
        xs = [c.area for c in cs]
        ys = [c.time * 1e6 for c in cs]
        a, b, r2 = linear_fit(xs, ys)
        jumps = [f"k{c.k}" for c, y in zip(cs, ys) if abs(y - (a + b * c.area)) > JUMP * (a + b * c.area)]
        rows.append([key[0], key[1], key[2], key[3], len(cs), b, a, r2, " ".join(jumps)])
    return rows


def fit_r2_from_k3(layers):
    """R^2 of each sweep fitted on k >= 3 only (the study's range)."""
    out = []
    for _, cs in sorted(sweeps(layers).items()):
        cs3 = [c for c in cs if c.k >= 3]
        if len({c.area for c in cs3}) >= 3:
            out.append(linear_fit([c.area for c in cs3], [c.time * 1e6 for c in cs3])[2])
    return out


def separable_rows(layers):
    idx = {(c.kind, c.act, c.variant, c.threads, base_shape(c.shape), c.k): c for c in layers}
    rows = []
    for (kind, act, var, thr, base, k), c in sorted(idx.items()):
        if kind == "normal":
            continue
        n = idx.get(("normal", act, var, thr, base, k))
        if not n or "MACs" not in c.counters:
            continue
        speed = n.time / c.time
        macs = n.counters["MACs"] / c.counters["MACs"]
        rows.append([kind, act, var, thr, k, speed, macs, speed / macs])
    return rows


def activation_rows(layers):
    idx = {}
    for c in layers:
        idx[(c.kind, c.backend, c.precision, c.layout, c.threads, base_shape(c.shape), c.k, c.act, c.fused)] = c
    rows = []
    for key, c in sorted(idx.items()):
        kind, be, prec, lay, thr, base, k, act, fused = key
        if act == "none":
            continue
        none = idx.get((kind, be, prec, lay, thr, base, k, "none", True))
        if none:
            rows.append([kind, be, k, act, "fused" if fused else "unfused", c.time / none.time,
                         (c.time - none.time) * 1e6])
    return rows


def vs_onednn_rows(layers):
    idx = {(c.kind, c.act, c.precision, c.layout, c.fused, c.threads, c.shape, c.k): c
           for c in layers if c.backend == "onednn"}
    rows = []
    for c in layers:
        if c.backend in ("onednn", "ref"):
            continue
        o = idx.get((c.kind, c.act, c.precision, c.layout, c.fused, c.threads, c.shape, c.k))
        if o:
            rows.append([c.kind, c.act, c.variant, c.threads, c.k, o.time * 1e6, c.time * 1e6,
                         o.time / c.time, c.shape])
    rows.sort(key=lambda r: (r[2], r[0], r[1], r[8], r[3], r[4]))
    return rows


def geomean_by_backend(rows):
    """Geometric mean of speed_vs_onednn per backend: {backend: (mean, count)}."""
    geo = collections.defaultdict(list)
    for r in rows:
        geo[r[2]].append(math.log(r[7]))
    return {v: (math.exp(sum(ls) / len(ls)), len(ls)) for v, ls in sorted(geo.items())}


def precision_rows(layers):
    groups = collections.defaultdict(dict)
    for c in layers:
        groups[(c.kind, c.act, c.backend, c.layout, c.fused, c.threads, c.shape, c.k)][c.precision] = c
    rows = []
    for key, byp in sorted(groups.items()):
        if len(byp) < 2 or "f32" not in byp:
            continue
        for p in ("f32", "bf16", "int8"):
            if p in byp:
                c = byp[p]
                re_us = c.counters.get("reorder_us", 0.0)
                rows.append([key[0], key[2], key[3], key[7], p, c.time * 1e6, re_us,
                             100 * re_us / (c.time * 1e6), byp["f32"].time / c.time])
    return rows


def scaling_rows(layers, ctx):
    """Speedup over one thread beside the FMA probe's own (what the machine allows)."""
    groups = collections.defaultdict(dict)
    for c in layers:
        groups[(c.kind, c.act, c.variant, c.shape, c.k)][c.threads] = c
    peak1 = float(ctx.get("peak_gflops_threads_1", 0) or 0)
    rows = []
    for key, byt in sorted(groups.items()):
        if 1 not in byt or len(byt) < 2:
            continue
        base = byt[1].time
        for t in sorted(byt):
            sp = base / byt[t].time
            pt = float(ctx.get(f"peak_gflops_threads_{t}", 0) or 0)
            probe = pt / peak1 if pt and peak1 else float("nan")
            rows.append([key[0], key[1], key[2], key[4], t, byt[t].time * 1e6, sp, sp / t, probe,
                         sp / probe, key[3]])
    return rows


def network_rows(models):
    net = lambda c: c.shape.split(":", 1)[1]  # noqa: E731  "study" or the network's name
    onednn = {(net(c), c.kind, c.act, c.precision, c.layout, c.fused, c.threads, c.k): c
              for c in models if c.backend == "onednn"}
    rows = []
    for c in models:
        o = onednn.get((net(c), c.kind, c.act, c.precision, c.layout, c.fused, c.threads, c.k))
        rows.append([net(c), c.kind, c.act, c.variant, c.k, c.threads, c.time * 1e6,
                     c.counters.get("images_per_s", 1 / c.time), o.time / c.time if o else float("nan")])
    rows.sort(key=lambda r: [str(v) for v in r[:6]])
    return rows


def roof_levels(ctx):
    """[(name, size_bytes, GB/s)] from L1 to DRAM, the levels the probe measured."""
    num = lambda k: float(ctx.get(k, 0) or 0)  # noqa: E731
    levels = [(name, num(f"{key}_bytes") if key != "dram" else float("inf"), num(f"{key}_gbs_threads_1"))
              for name, key in (("L1", "l1"), ("L2", "l2"), ("L3", "l3"), ("DRAM", "dram"))]
    return [lv for lv in levels if lv[2] > 0]


def roof_peaks(ctx):
    num = lambda k: float(ctx.get(k, 0) or 0)  # noqa: E731
    return {"f32": num("peak_gflops_threads_1"), "bf16": num("peak_bf16_gflops_threads_1"),
            "int8": num("peak_int8_gops_threads_1")}


def roofline_rows(layers, ctx):
    """Each single-thread case against the roof its working set (the minimum
    bytes) fits in, under its own precision's peak."""
    peaks, levels = roof_peaks(ctx), roof_levels(ctx)
    rows = []
    if not levels:
        return rows
    for c in layers:
        if "AI" not in c.counters or "FLOPS" not in c.counters or c.threads != 1 or not peaks.get(c.precision):
            continue
        ws = c.counters.get("bytes", 0)
        name, _, bw = next(lv for lv in levels if ws <= lv[1])
        ai, got = c.counters["AI"], c.counters["FLOPS"] / 1e9
        roof = min(peaks[c.precision], ai * bw)
        rows.append([c.name, c.precision, ai, got, int(ws), name, roof, 100 * got / roof])
    return rows
