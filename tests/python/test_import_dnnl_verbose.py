"""tools/import-dnnl-verbose on a real oneDNN verbose log, written here by
convbench-run with ONEDNN_VERBOSE=1: the unique layers, their counts, post-ops
and bias, and descriptors whose MACs add up to the layer convbench ran."""
import json
import os
import re
import subprocess

BIN = os.environ.get("CONVBENCH_BIN", "build/bin")
TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "import-dnnl-verbose")
SHAPE = "mb1ic16ih9oc24oh5kh3sh2"


def test_a_real_log(tmp_path):
    env = dict(os.environ, ONEDNN_VERBOSE="1", XDG_CACHE_HOME=str(tmp_path / "cache"))
    p = subprocess.run([os.path.join(BIN, "convbench-run"), "--backend", "onednn", "--kind", "depthwise",
                        "--shape", SHAPE, "--act", "relu", "--bias", "--iters", "3"],
                       capture_output=True, text=True, env=env, check=True)
    log = tmp_path / "verbose.log"
    log.write_text(p.stdout)
    runs = sum(1 for l in p.stdout.splitlines() if ",exec," in l and ",convolution," in l)
    q = subprocess.run([TOOL, str(log), "-o", str(tmp_path / "shapes.txt")], capture_output=True, text=True)
    assert q.returncode == 0, q.stderr
    text = (tmp_path / "shapes.txt").read_text()
    descs = [l for l in text.splitlines() if l and not l.startswith("#")]
    notes = [l for l in text.splitlines() if l.startswith("# count")]
    assert len(descs) == 2  # the depthwise and the pointwise stage
    assert f"# {runs} convolution executions, 2 unique layers" in text
    counts = [int(re.search(r"count (\d+)", n).group(1)) for n in notes]
    assert sum(counts) == runs and counts[0] == counts[1]
    assert "post-ops none, bias" in notes[0] and "post-ops relu, bias" in notes[1]
    macs = 0
    for d in descs:
        c = subprocess.run([os.path.join(BIN, "convbench-calc"), "--kind", "normal", "--shape", d, "--json"],
                           capture_output=True, text=True, check=True)
        macs += json.loads(c.stdout)["macs"]
    c = subprocess.run([os.path.join(BIN, "convbench-calc"), "--kind", "depthwise", "--shape", SHAPE, "--json"],
                       capture_output=True, text=True, check=True)
    assert macs == json.loads(c.stdout)["macs"]


def test_no_convolutions_exit_2(tmp_path):
    log = tmp_path / "empty.log"
    log.write_text("onednn_verbose,info,oneDNN v2.6.3\nsomething else\n")
    for args, needle in (([str(log)], "no forward convolution executions"),
                         ([str(tmp_path / "missing.log")], "no such file")):
        p = subprocess.run([TOOL, *args], capture_output=True, text=True)
        assert p.returncode == 2 and needle in p.stderr and p.stdout == ""
