"""tools/studies end to end: real convbench-profile runs of a small network in
every configuration the studies group uses, then the tables checked against
the JSON they come from; bad input exits 2 and writes nothing."""
import csv
import json
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("CONVBENCH_BIN", os.path.join(ROOT, "build", "bin"))
STUDIES = os.path.join(ROOT, "tools", "studies")

# A residual block, a concat, a marker, h-swish and a fully connected layer on a batch.
NET = """net tiny
input data 1x3x16x16
conv stem data normal/hardswish+bias/mb1ic3ih16iw16oc8oh8ow8kh3kw3sh2sw2ph1pw1
conv a stem normal/relu/mb1ic8ih8iw8oc8oh8ow8kh3kw3ph1pw1
conv b a depthwise/none+bias/mb1ic8ih8iw8oc8oh8ow8kh3kw3ph1pw1
add res b,stem relu
conv br1 res normal/hardswish/mb1ic8ih8iw8oc5oh8ow8kh1kw1
conv br2 res normal/relu/mb1ic8ih8iw8oc3oh8ow8kh1kw1
concat cat br1,br2 1x8x8x8
shape gap cat 1x8x1x1 GlobalAveragePool
conv fc gap normal/none+bias/mb1ic8ih1iw1oc10oh1ow1kh1kw1
"""

CONFIGS = [  # (precision, layout, threads, unfused, backend)
    ("f32", "nhwc", 1, False, "onednn"), ("f32", "nchw", 1, False, "onednn"),
    ("int8", "nhwc", 1, False, "onednn"), ("int8", "nchw", 1, False, "onednn"),
    ("int8_chained", "nhwc", 1, False, "onednn"), ("int8_chained", "nchw", 1, False, "onednn"),
    ("f32", "nhwc", 2, False, "onednn"), ("int8", "nhwc", 2, False, "onednn"),
    ("f32", "nhwc", 1, True, "onednn"), ("int8", "nhwc", 1, True, "onednn"),
    ("f32", "nhwc", 1, False, "hand_fused_nhwc"), ("f32", "nhwc", 2, False, "hand_fused_nhwc"),
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("studies")
    net = d / "tiny.net"
    net.write_text(NET)
    for prec, layout, t, unf, backend in CONFIGS:
        args = [os.path.join(BIN, "convbench-profile"), "--json", "--network", str(net), "--backend", backend,
                "--precision", prec, "--layout", layout, "--threads", str(t), "--iters", "3", "--warmup", "1"]
        if unf:
            args.append("--unfused")
        if prec != "f32" and layout == "nhwc" and t == 1 and not unf:
            args += ["--check", "--check-backend", "onednn"]
        p = subprocess.run(args, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        name = f"tiny__{backend}_{prec}_{layout}_t{t}{'_unfused' if unf else ''}.json"
        (d / name).write_text(p.stdout)
    (d / "tiny__onednn_bf16_nhwc_t1.json").write_text(json.dumps({"skipped": "no bf16 here", "args": []}))
    p = subprocess.run([STUDIES, str(d), "--maskrcnn", "tiny", "--mobilenetv3", "tiny"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return d


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def profile(d, name):
    return json.loads((d / name).read_text())


def test_table1_ratios_are_the_runs_rates(run_dir):
    t1 = {(r["network"], r["threads"]): r for r in rows(run_dir / "studies_table1_precisions.csv")}
    for t in (1, 2):
        f32 = profile(run_dir, f"tiny__onednn_f32_nhwc_t{t}.json")["throughput_per_s"]
        i8 = profile(run_dir, f"tiny__onednn_int8_nhwc_t{t}.json")["throughput_per_s"]
        hand = profile(run_dir, f"tiny__hand_fused_nhwc_f32_nhwc_t{t}.json")["throughput_per_s"]
        r = t1[("tiny", str(t))]
        assert float(r["FP32 img/s"]) == pytest.approx(f32)
        assert float(r["INT8/FP32"]) == pytest.approx(i8 / f32)
        assert float(r["hand FP32/oneDNN FP32"]) == pytest.approx(hand / f32)
        assert r["BF16 img/s"] == ""  # skipped, not made up


def test_chained_has_fewer_reorders_and_the_tables_count_them(run_dir):
    lay = {(r["precision"]): r for r in rows(run_dir / "studies_layouts.csv")}
    dq = profile(run_dir, "tiny__onednn_int8_nhwc_t1.json")
    ch = profile(run_dir, "tiny__onednn_int8_chained_nhwc_t1.json")
    n_dq = sum(s["type"] == "reorder" for s in dq["steps"])
    n_ch = sum(s["type"] == "reorder" for s in ch["steps"])
    assert int(lay["INT8 dequant"]["NHWC reorders"]) == n_dq
    assert int(lay["INT8 chained"]["NHWC reorders"]) == n_ch
    assert n_ch == 3  # the input, the marker, the output
    assert n_ch < n_dq
    v3 = {(r["configuration"], r["threads"]): r for r in rows(run_dir / "studies_004_mobilenetv3.csv")}
    assert int(v3[("INT8 chained", "1")]["reorders"]) == n_ch
    unf = profile(run_dir, "tiny__onednn_f32_nhwc_t1_unfused.json")
    acts = sum(s["type"] == "activation" for s in unf["steps"])
    assert acts >= 4 and int(v3[("FP32 unfused", "1")]["activation passes"]) == acts


def test_by_type_shares_add_up_and_impls_are_listed(run_dir):
    by_type = rows(run_dir / "studies_000_by_type.csv")
    assert sum(float(r["FP32 share %"]) for r in by_type if r["FP32 share %"]) == pytest.approx(100, abs=0.01)
    impls = rows(run_dir / "studies_table2_impls.csv")
    f32 = profile(run_dir, "tiny__onednn_f32_nhwc_t1.json")
    assert {r["layer"] for r in impls} >= {lr["layer"] for lr in f32["layers"]}
    assert all(r["FP32"] for r in impls if r["layer"] in {lr["layer"] for lr in f32["layers"]})
    # A layer's implementation is its convolution's, not the reorder before it.
    dq = profile(run_dir, "tiny__onednn_int8_nhwc_t1.json")
    conv_impl = {}
    for st in dq["steps"]:
        if st["type"] in ("convolution", "pointwise", "depthwise"):
            conv_impl.setdefault(st["layer"], st["impl"].split(" ")[0])
    by_layer = {r["layer"]: r["INT8 dequant"] for r in impls}
    assert conv_impl and all(by_layer[k] == v for k, v in conv_impl.items())


def test_accuracy_and_findings(run_dir):
    acc = rows(run_dir / "studies_accuracy.csv")
    assert {r["precision"] for r in acc} == {"INT8 dequant", "INT8 chained"}
    for r in acc:
        assert float(r["normalised error"]) <= float(r["tolerance"]) and r["ok"] == "yes"
        assert float(r["reference max"]) > 0
    md = (run_dir / "STUDIES.md").read_text()
    assert "Chained INT8 has fewer reorders than dequant INT8 on 1 of 1 networks" in md
    assert "no bf16 here" in md
    assert (run_dir / "studies_precisions.png").stat().st_size > 0
    assert (run_dir / "studies_000_types.png").stat().st_size > 0


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    p = subprocess.run([STUDIES, str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 2 and "x.json" in p.stderr
    (tmp_path / "x.json").write_text(json.dumps({"steps": [], "model": "m"}))
    p = subprocess.run([STUDIES, str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 2 and "not a convbench-profile" in p.stderr
    p = subprocess.run([STUDIES, str(tmp_path / "none")], capture_output=True, text=True)
    assert p.returncode == 2 and "no such folder" in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["x.json"]
