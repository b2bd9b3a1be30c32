"""tools/import-onnx on ONNX models built here with onnx.helper (no downloads):
groups, asymmetric pads, every auto_pad, dilation, a residual block, an
inception-style concat, fully connected layers and unsupported ops. The imported
MACs equal a count made here from the ONNX attributes, and the imported
residual and concat networks run on every backend with their outputs matching
the reference backend's (convbench-profile --check)."""
import json
import os
import subprocess

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

BIN = os.environ.get("CONVBENCH_BIN", "build/bin")
TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "tools")
IMPORT = os.path.join(TOOLS, "import-onnx")
BACKENDS = ["ref", "onednn", "onednn_plain", "im2col_openblas", "im2col_eigen", "xnnpack",
            "direct_nhwc", "hand_nhwc", "hand_fused_nhwc"]


class Builder:
    """A small ONNX graph, with a MAC count kept as convolutions are added."""

    def __init__(self, n, c, h, w):
        self.nodes, self.inits, self.macs, self.k = [], [], 0, 0
        self.shape = {"x": (n, c, h, w)}
        self.inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, h, w])

    def name(self, p):
        self.k += 1
        return f"{p}{self.k}"

    def const(self, arr):
        nm = self.name("w")
        self.inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), nm))
        return nm

    def conv(self, x, oc, k, stride=1, pads=None, group=1, dil=1, bias=True, auto_pad=None, act=None):
        n, c, h, w = self.shape[x]
        kh, kw = (k, k) if isinstance(k, int) else k
        wt = self.const(np.random.default_rng(self.k).integers(-4, 5, (oc, c // group, kh, kw)) / 8)
        ins = [x, wt] + ([self.const(np.zeros(oc))] if bias else [])
        y = self.name("conv")
        kw_ = dict(kernel_shape=[kh, kw], strides=[stride, stride], group=group, dilations=[dil, dil])
        eh, ew = (kh - 1) * dil + 1, (kw - 1) * dil + 1
        if auto_pad:
            kw_["auto_pad"] = auto_pad
            if auto_pad == "VALID":
                oh, ow = (h - eh) // stride + 1, (w - ew) // stride + 1
            else:
                oh, ow = -(-h // stride), -(-w // stride)
        else:
            p = pads or [0, 0, 0, 0]
            kw_["pads"] = p
            oh, ow = (h + p[0] + p[2] - eh) // stride + 1, (w + p[1] + p[3] - ew) // stride + 1
        self.nodes.append(helper.make_node("Conv", ins, [y], name=y, **kw_))
        self.shape[y] = (n, oc, oh, ow)
        self.macs += n * oc * oh * ow * (c // group) * kh * kw
        if act:
            z = self.name(act)
            self.nodes.append(helper.make_node(act, [y], [z], name=z))
            self.shape[z] = self.shape[y]
            return z
        return y

    def op(self, typ, ins, out_shape, **attrs):
        y = self.name(typ.lower())
        self.nodes.append(helper.make_node(typ, ins, [y], name=y, **attrs))
        self.shape[y] = out_shape
        return y

    def save(self, path, outs):
        outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, list(self.shape[o])) for o in outs]
        g = helper.make_graph(self.nodes, "g", [self.inp], outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(m)
        onnx.save(m, str(path))
        return path


def imported(path, *args):
    p = subprocess.run([IMPORT, str(path), *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout, p.stderr


def calc(netfile):
    p = subprocess.run([os.path.join(BIN, "convbench-calc"), "--network", str(netfile), "--json"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def write(tmp_path, text, name="net.net"):
    f = tmp_path / name
    f.write_text(text)
    return f


def test_groups_pads_dilation_and_auto_pad(tmp_path):
    b = Builder(1, 6, 15, 13)
    y = b.conv("x", 12, 3, pads=[0, 1, 2, 1], group=3, act="Relu")       # asymmetric, groups
    y = b.conv(y, 12, 3, group=12, dil=2, pads=[2, 2, 2, 2], act="Tanh")  # depthwise, dilated
    y = b.conv(y, 8, (1, 3), stride=2, auto_pad="SAME_UPPER")
    y = b.conv(y, 8, 4, auto_pad="SAME_LOWER", bias=False)
    y = b.conv(y, 5, 2, auto_pad="VALID", act="Elu")
    text, err = imported(b.save(tmp_path / "m.onnx", [y]))
    net = write(tmp_path, text)
    convs = [line.split() for line in text.splitlines() if line.startswith("conv ")]
    assert len(convs) == 5
    assert convs[0][3].startswith("normal/relu+bias/g3mb1ic6ih15iw13oc12oh15ow13kh3kw3")
    assert "ph0pw1" in convs[0][3]
    assert convs[1][3].startswith("normal/tanh+bias/g12") and "dh1dw1" in convs[1][3]
    # SAME_UPPER with a 1x3 kernel at stride 2: 8x7 out, the odd padding at the end.
    assert "oh8ow7kh1kw3sh2sw2ph0pw1" in convs[2][3]
    # SAME_LOWER with 4x4 at stride 1: 3 rows of padding, 2 of them on top.
    assert convs[3][3].startswith("normal/none/") and "kh4kw4sh1sw1ph2pw2" in convs[3][3]
    assert convs[4][3].startswith("normal/elu+bias/") and "ph0pw0" in convs[4][3]
    assert "folded Relu x1" in err and "folded Tanh x1" in err and "folded Elu x1" in err
    assert calc(net)["macs"] == b.macs


def residual_model(tmp_path):
    b = Builder(1, 8, 10, 10)
    stem = b.conv("x", 16, 3, pads=[1, 1, 1, 1], act="Relu")
    y = b.conv(stem, 16, 3, pads=[1, 1, 1, 1], act="Relu")
    y = b.conv(y, 16, 1)
    s = b.op("Add", [y, stem], b.shape[y])
    s = b.op("Relu", [s], b.shape[s])
    p = b.op("MaxPool", [s], (1, 16, 5, 5), kernel_shape=[2, 2], strides=[2, 2])
    y = b.conv(p, 24, 3, stride=2, pads=[1, 0, 1, 0], act="Relu")  # asymmetric: 3x2 out
    f = b.op("Flatten", [y], (1, 24 * 3 * 2))
    fc = b.op("Gemm", [f, b.const(np.ones((10, 144)) / 64), b.const(np.zeros(10))], (1, 10), transB=1)
    b.macs += 144 * 10
    sm = b.op("Softmax", [fc], (1, 10), axis=1)
    return b, b.save(tmp_path / "res.onnx", [sm])


def concat_model(tmp_path):
    b = Builder(2, 5, 9, 9)
    stem = b.conv("x", 12, 3, stride=2, pads=[1, 1, 1, 1], act="Relu")
    b1 = b.conv(stem, 4, 1, act="Relu")
    b2 = b.conv(b.conv(stem, 6, 1, act="Relu"), 8, 3, pads=[1, 1, 1, 1], act="Relu")
    b3 = b.conv(b.conv(stem, 3, 1, act="Relu"), 5, 5, pads=[2, 2, 2, 2], act="Relu")
    cat = b.op("Concat", [b1, b2, b3], (2, 17, 5, 5), axis=1)
    y = b.conv(cat, 7, 3, act="Relu")
    return b, b.save(tmp_path / "cat.onnx", [y])


def test_residual_block(tmp_path):
    b, path = residual_model(tmp_path)
    text, err = imported(path)
    assert any(l.startswith("add ") and l.endswith(" relu") for l in text.splitlines())
    assert any(l.startswith("shape ") and "1x16x5x5" in l for l in text.splitlines())
    fc = [l for l in text.splitlines() if l.startswith("conv ")][-1]
    assert "ic144ih1iw1oc10oh1ow1kh1kw1" in fc and "+bias" in fc
    assert "dropped MaxPool x1" in err and "dropped Flatten x1" in err and "dropped Softmax x1" in err
    assert calc(write(tmp_path, text))["macs"] == b.macs


def test_inception_concat(tmp_path):
    b, path = concat_model(tmp_path)
    text, _ = imported(path)
    cat = [l for l in text.splitlines() if l.startswith("concat ")]
    assert len(cat) == 1 and len(cat[0].split()[2].split(",")) == 3
    assert calc(write(tmp_path, text))["macs"] == b.macs


@pytest.mark.parametrize("model", [residual_model, concat_model])
def test_imported_networks_match_the_reference_on_every_backend(tmp_path, model):
    _, path = model(tmp_path)
    text, _ = imported(path)
    net = write(tmp_path, text)
    ran = 0
    for backend in BACKENDS:
        for layout in ("nhwc", "nchw"):
            p = subprocess.run([os.path.join(BIN, "convbench-profile"), "--network", str(net),
                                "--backend", backend, "--layout", layout, "--iters", "2",
                                "--warmup", "0", "--check", "--json"],
                               capture_output=True, text=True,
                               env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache")))
            if p.returncode == 2 and ("refuses" in p.stderr or "unavailable" in p.stderr):
                continue  # a layout or build the backend does not take: it says why
            assert p.returncode == 0, (backend, layout, p.stdout[-500:], p.stderr)
            j = json.loads(p.stdout)
            assert j["check"]["ok"], (backend, layout, j["check"])
            assert {s["type"] for s in j["steps"]} >= {"join"}
            ran += 1
    assert ran >= len(BACKENDS)


def test_bad_models_exit_2(tmp_path):
    notonnx = tmp_path / "x.onnx"
    notonnx.write_text("hello")
    for args, needle in (([str(tmp_path / "missing.onnx")], "no such file"),
                         ([str(notonnx)], "not an ONNX model")):
        p = subprocess.run([IMPORT, *args], capture_output=True, text=True)
        assert p.returncode == 2 and needle in p.stderr and p.stdout == "", p.stderr
    _, path = concat_model(tmp_path)
    p = subprocess.run([IMPORT, str(path), "--input", "2x5x9"], capture_output=True, text=True)
    assert p.returncode == 2 and "not NxCxHxW" in p.stderr and p.stdout == ""
    # An input the model's first convolution cannot take.
    p = subprocess.run([IMPORT, str(path), "--input", "2x4x9x9"], capture_output=True, text=True)
    assert p.returncode == 2 and "take 5 channels, but its input 'x' has 4" in p.stderr and p.stdout == ""


def test_malformed_network_file_exits_2(tmp_path):
    bad = write(tmp_path, "input x 1x4x8x8\nconv a y normal/relu/mb1ic4ih8oc4oh8kh3\n")
    for tool in ("convbench-profile", "convbench-calc"):
        p = subprocess.run([os.path.join(BIN, tool), "--network", str(bad)], capture_output=True, text=True)
        assert p.returncode == 2 and p.stdout == ""
        assert "reads 'y', which no node defines" in p.stderr, p.stderr
