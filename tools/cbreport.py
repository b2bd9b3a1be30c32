"""Shared reading of convbench's Google Benchmark JSON, for tools/report and
tools/compare. Only numpy is needed here; plotting stays in tools/report."""
import json
import os
import re
import statistics
import sys

NAME_RE = re.compile(
    r"^(?P<kind>normal|spatial|depthwise|dw_spatial)/(?P<act>none|relu|elu|tanh)/"
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
            found = sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".json"))
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


def load_runs(paths):
    """Cases by name, and the context of the first file. Raises InputError."""
    cases, context = {}, None
    for f in json_files(paths):
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
