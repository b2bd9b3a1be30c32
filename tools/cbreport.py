"""Shared reading of convbench's Google Benchmark JSON, for tools/report and
tools/compare. Only numpy is needed here; plotting stays in tools/report."""
import json
import os
import re
import statistics
import sys

NAME_RE = re.compile(
    r"^(?P<kind>normal|spatial|depthwise|dw_spatial)/(?P<act>none|relu|elu|tanh|hardswish|hardsigmoid)/"
    r"(?P<backend>[^/]+)/(?P<shape>[^/]+)/k:(?P<k>\d+)(?:x(?P<kw>\d+))?"
    r"(?:/threads:(?P<threads>\d+))?(?:/real_time)?$")
# A network file's case: network/<net>/<backend>[:prec][:layout][:unfused][/threads:N].
NET_RE = re.compile(r"^network/(?P<net>[^/]+)/(?P<backend>[^/]+)(?:/threads:(?P<threads>\d+))?(?:/real_time)?$")
TO_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class InputError(Exception):
    """Bad input: the tools print it and exit with status 2."""


def fail(prog, msg):
    print(f"{prog}: error: {msg}", file=sys.stderr)
    sys.exit(2)


def json_files(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            # cases.json is tools/report's own table, not a benchmark run.
            found = sorted(os.path.join(p, f) for f in os.listdir(p)
                           if f.endswith(".json") and f != "cases.json")
            if not found:
                raise InputError(f"{p}: no .json files in this folder")
            files += found
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return files


class Case:
    """One benchmark case: its parsed name, counters, and the times of its runs."""

    def __init__(self, name, m):
        self.name = name
        g = m.groupdict()
        if "net" in g:  # a network file: no kind, activation or kernel size of its own
            g = dict(g, kind="network", act="-", shape="model:" + g["net"], k="0", kw=None)
        m = g
        self.kind, self.act, self.shape = m["kind"], m["act"], m["shape"]
        seg = m["backend"].split(":")
        self.backend = seg[0]
        self.precision = next((s for s in seg[1:] if s in ("f32", "bf16", "int8")), "f32")
        self.layout = next((s for s in seg[1:] if s in ("nchw", "nhwc")), "nhwc")
        self.fused = "unfused" not in seg[1:]
        self.variant = m["backend"]  # backend with its precision/layout/fusion
        self.k = int(m["k"])
        self.kw = int(m["kw"]) if m["kw"] else self.k
        self.threads = int(m["threads"] or 1)
        self.is_model = self.shape.startswith("model:")
        self.times = []  # seconds per iteration, one per repetition
        self.counters = {}
        self.label = ""

    @property
    def time(self):
        return statistics.median(self.times)

    @property
    def area(self):
        return self.k * self.kw

    def key(self):
        """What identifies a case across runs."""
        return self.name


DESC_FIELDS = ("g", "mb", "ic", "ih", "iw", "oc", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw")


def desc_fields(shape):
    """Every field of a canonical descriptor (the w side copies the h side when
    the descriptor gives none of it, as benchdnn reads it); {} for a network."""
    if shape.startswith("model:"):
        return {}
    f = {k: int(v) for k, v in re.findall(r"(mb|ic|ih|iw|oc|oh|ow|kh|kw|sh|sw|ph|pw|dh|dw|g)(\d+)", shape)}
    f.setdefault("g", 1), f.setdefault("mb", 1), f.setdefault("sh", 1), f.setdefault("dh", 0)
    if "iw" not in f:
        for h, w in (("ih", "iw"), ("oh", "ow"), ("kh", "kw"), ("sh", "sw"), ("ph", "pw"), ("dh", "dw")):
            f[w] = f.get(h, 0)
    f.setdefault("sw", 1), f.setdefault("dw", 0)
    return f


CASE_COLUMNS = (["name", "kind", "act", "backend", "precision", "layout", "fusion", "threads"] +
                list(DESC_FIELDS) + ["k", "median_us", "min_us", "cv", "repetitions", "FLOPS", "peak_pct",
                                     "reorder_pct", "prepare_ms", "gemm_pct", "weights_bytes",
                                     "workspace_bytes", "rss_growth_bytes", "act_bytes", "impl", "command"])


def command(c, ctx):
    """The convbench command line that runs this case alone."""
    args = ["build/bin/convbench"]
    if c.kind == "network":
        files = [f for f in ctx.get("network_files", "").split(",") if f]
        net = c.shape.split(":", 1)[1]
        path = next((f for f in files if os.path.basename(f) == net + ".net"), f"bench/networks/{net}.net")
        args.append(f"--networks={path}")
    elif c.is_model:
        args += ["--models", f"--kinds={c.kind}", f"--acts={c.act}", f"--k={c.k}"]
    else:
        args += [f"--kinds={c.kind}", f"--acts={c.act}", f"--shape={c.shape}"]
    args += [f"--backends={c.backend}", f"--precisions={c.precision}", f"--layouts={c.layout}",
             f"--fusion={'fused' if c.fused else 'unfused'}", f"--threads={c.threads}"]
    if ctx.get("act_each") == "yes":
        args.append("--act-each")
    if ctx.get("bias") == "yes":
        args.append("--bias")
    if ctx.get("seed", "1") != "1":
        args.append(f"--seed={ctx['seed']}")
    return " ".join(args)


def case_rows(cases, ctx):
    """One flat row per case: CASE_COLUMNS."""
    rows = []
    for c in sorted(cases.values(), key=lambda c: c.name):
        t = c.times
        med = statistics.median(t)
        cv = statistics.stdev(t) / statistics.mean(t) if len(t) > 1 else 0.0
        f = desc_fields(c.shape)
        row = {"name": c.name, "kind": c.kind, "act": c.act, "backend": c.backend,
               "precision": c.precision, "layout": c.layout, "fusion": "fused" if c.fused else "unfused",
               "threads": c.threads, "k": c.k, "median_us": med * 1e6, "min_us": min(t) * 1e6, "cv": cv,
               "repetitions": len(t), "impl": c.label, "command": command(c, ctx)}
        for k in DESC_FIELDS:
            row[k] = f.get(k, "")
        for k in ("FLOPS", "peak_pct", "reorder_pct", "prepare_ms", "gemm_pct", "weights_bytes",
                  "workspace_bytes", "rss_growth_bytes", "act_bytes"):
            row[k] = c.counters.get(k, "")
        rows.append(row)
    return rows


def read_case_table(path, cases):
    """A cases.csv that tools/report wrote: one median per case."""
    import csv
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: not readable ({e})")
    if not rows or "name" not in rows[0] or "median_us" not in rows[0]:
        raise InputError(f"{path}: not a convbench cases table (no 'name' and 'median_us' columns)")
    for r in rows:
        m = NAME_RE.match(r["name"]) or NET_RE.match(r["name"])
        if not m:
            continue
        c = cases.get(r["name"]) or Case(r["name"], m)
        cases[r["name"]] = c
        try:
            c.times.append(float(r["median_us"]) * 1e-6)
        except ValueError:
            raise InputError(f"{path}: case {r['name']}: median_us '{r['median_us']}' is not a number")
        c.label = r.get("impl", "")


def load_runs(paths):
    """Cases by name, and the context of the first file. Raises InputError."""
    cases, context = {}, None
    for f in json_files(paths):
        if f.endswith(".csv"):
            context = context or {}
            read_case_table(f, cases)
            continue
        try:
            with open(f) as fh:
                data = json.load(fh)
        except (OSError, json.JSONDecodeError) as e:
            raise InputError(f"{f}: not readable JSON ({e})")
        if not isinstance(data, dict) or "benchmarks" not in data or "context" not in data:
            raise InputError(f"{f}: not Google Benchmark JSON (no 'context' and 'benchmarks')")
        context = context or data["context"]
        for b in data["benchmarks"]:
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            name = b.get("run_name", b["name"])
            m = NAME_RE.match(name) or NET_RE.match(name)
            if not m:
                continue  # not a convbench case
            c = cases.get(name) or Case(name, m)
            cases[name] = c
            c.times.append(b["real_time"] * TO_SECONDS[b.get("time_unit", "ns")])
            c.label = b.get("label", "")
            for key, v in b.items():
                if isinstance(v, (int, float)) and key not in ("real_time", "cpu_time", "iterations",
                                                               "repetitions", "repetition_index",
                                                               "threads", "family_index",
                                                               "per_family_instance_index"):
                    c.counters[key] = v
    if not cases:
        raise InputError("no convbench benchmark results in " + ", ".join(paths))
    return cases, context
