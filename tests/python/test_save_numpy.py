"""An oracle independent of the C++ code: numpy recomputes a layer from the
tensors and problem.json that `convbench-run --save` wrote, following only the
documented file format (PyTorch weight layout, padding top/left/bottom/right,
oneDNN dilation where 0 means dense)."""
import json
import os
import subprocess

import numpy as np
import pytest

BIN = os.environ.get("CONVBENCH_BIN", "build/bin")


def conv2d(x, w, b, groups, stride, pad, dil):
    top, left, bottom, right = pad
    # Negative trailing padding crops rows no window reaches.
    x = np.pad(x, ((0, 0), (0, 0), (top, max(bottom, 0)), (left, max(right, 0))))
    if bottom < 0:
        x = x[:, :, : x.shape[2] + bottom, :]
    if right < 0:
        x = x[:, :, :, : x.shape[3] + right]
    n, c, h, wd = x.shape
    oc, icg, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dil[0] + 1, dil[1] + 1
    oh = (h - (kh - 1) * dh - 1) // sh + 1
    ow = (wd - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, oc, oh, ow))
    ocg = oc // groups
    for g in range(groups):
        xg = x[:, g * icg:(g + 1) * icg].astype(np.float64)
        wg = w[g * ocg:(g + 1) * ocg].astype(np.float64)
        for ky in range(kh):
            for kx in range(kw):
                patch = xg[:, :, ky * dh: ky * dh + (oh - 1) * sh + 1: sh,
                           kx * dw: kx * dw + (ow - 1) * sw + 1: sw]
                out[:, g * ocg:(g + 1) * ocg] += np.einsum("nchw,oc->nohw", patch, wg[:, :, ky, kx])
    if b is not None:
        out += b[None, :, None, None]
    return out


ACTS = {
    "none": lambda v: v,
    "relu": lambda v: np.maximum(v, 0),
    "elu": lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0))),
    "tanh": np.tanh,
}

CASES = [
    ("normal", "mb2ic3ih9iw7oc5oh5ow4kh3kw2sh2sw2ph1pw1", "relu", []),
    ("normal", "g3mb1ic6ih8oc9oh8kh4dh1", "tanh", ["--bias"]),
    ("spatial", "mb1ic4ih10oc6oh10kh5", "elu", ["--act-each"]),
    ("depthwise", "mb1ic7ih11oc5oh6kh3sh2", "relu", ["--bias", "--layout", "nhwc"]),
    ("dw_spatial", "mb1ic5ih12iw9oc8oh12ow9kh4kw2", "elu", ["--bias"]),
    ("normal", "mb1ic2ih5oc3kh2sh2", "none", []),  # negative bottom padding
]


@pytest.mark.parametrize("kind,shape,act,extra", CASES)
def test_numpy_recomputes_saved_layer(tmp_path, kind, shape, act, extra):
    out_dir = tmp_path / "saved"
    subprocess.run([os.path.join(BIN, "convbench-run"), "--kind", kind, "--shape", shape,
                    "--act", act, "--iters", "1", "--seed", "42", "--save", str(out_dir)] + extra,
                   check=True, capture_output=True)
    problem = json.loads((out_dir / "problem.json").read_text())
    assert problem["kind"] == kind
    x = np.load(out_dir / "input.npy")
    assert x.dtype == np.float32 and x.flags["C_CONTIGUOUS"]
    for i, st in enumerate(problem["stages"]):
        w = np.load(out_dir / f"weights{i}.npy")
        b = np.load(out_dir / f"bias{i}.npy") if st["bias"] else None
        x = conv2d(x, w, b, st["groups"], st["stride"], st["padding"], st["dilation"])
        x = ACTS[st["act"]](x)
    y = np.load(out_dir / "output.npy")
    assert y.shape == x.shape
    np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-5,
                               err_msg=f"{kind} {shape} {act} {extra} seed 42")
