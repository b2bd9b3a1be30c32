"""Every network of the zoo (bench/networks/) against its published figures:
total multiply-adds and parameters, from convbench-calc --network, within 1 %
of the figure or equal to it at the figure's precision, or the difference
explained here. Parameters count weights and biases (batch normalisations that
follow a convolution are folded into its bias, as inference engines do)."""
import json
import os
import subprocess

import pytest

BIN = os.environ.get("CONVBENCH_BIN", "build/bin")
NETS = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "networks")

# name: (multiply-adds, parameters, source). None: no published figure for this form.
PUBLISHED = {
    "alexnet": (0.71e9, 61.1e6, "torchvision 0.14 model table"),
    "vgg16": (15.47e9, 138.4e6, "torchvision 0.14 model table"),
    "googlenet": (1.5e9, 6.6e6, "torchvision 0.14 model table"),
    "resnet50": (4.09e9, 25.6e6, "torchvision 0.14 model table; He et al. 2016: 3.8e9 FLOPs (mult-adds)"),
    "resnet101": (7.8e9, 44.5e6, "torchvision 0.14 model table"),
    "squeezenet1_0": (0.82e9, 1.2e6, "torchvision 0.14 model table"),
    "squeezenet1_1": (0.35e9, 1.2e6, "torchvision 0.14 model table"),
    "densenet121": (2.83e9, 8.0e6, "torchvision 0.14 model table"),
    "mobilenet_v1": (569e6, 4.2e6, "Howard et al. 2017, Table 8 (1.0 MobileNet-224)"),
    "mobilenet_v2": (300e6, 3.4e6, "Sandler et al. 2018, Table 4"),
    "mobilenet_v3_large": (219e6, 5.4e6, "Howard et al. 2019, Table 3 (Large 1.0)"),
    "maskrcnn_resnet50_fpn": (None, 44.4e6, "torchvision 0.14 model table (parameters)"),
}

# Where a figure differs by more than 1 %, why.
EXPLAINED = {
    # torchvision's implementation, imported here, has 216.6M multiply-adds in its
    # convolutions and fully connected layers, which its own table rounds to
    # 0.22G; the paper says 219M. The 1.1 % is not accounted for here (the
    # squeeze-and-excite scaling and h-swish, which convbench does not count,
    # are candidates).
    ("mobilenet_v3_large", "macs"): (216.5e6, 216.7e6),
    # torchvision rounds the squeeze-and-excite widths to multiples of 8: 5.48M
    # (5,483,032 with batch norms), where the paper says 5.4M.
    ("mobilenet_v3_large", "params"): (5.46e6, 5.49e6),
    # The paper's 3.4M; torchvision's implementation, imported here, has 3.50M
    # (3,504,872 with batch norms; 3,487,816 once they are folded into biases).
    ("mobilenet_v2", "params"): (3.48e6, 3.50e6),
    # The RPN head's weights are shared by the five FPN levels but appear once
    # per level here (four extra copies of 593,935 weights and biases), and the
    # mask predictor's 2x2 transposed convolution (262,400) is a shape marker:
    # 44,401,393 + 4 x 593,935 - 262,400 + BN folding = 46.5M.
    ("maskrcnn_resnet50_fpn", "params"): (46.4e6, 46.6e6),
}


def figures(name):
    p = subprocess.run([os.path.join(BIN, "convbench-calc"), "--network", os.path.join(NETS, name + ".net"),
                        "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    return {"macs": j["macs"], "params": j["params_with_bias"]}


def close(ours, published):
    if abs(ours - published) <= 0.01 * published:
        return True
    digits = len(f"{published:.6g}".replace(".", "").lstrip("0").rstrip("0").replace("e", " ").split()[0])
    return float(f"{ours:.{digits}g}") == float(f"{published:.{digits}g}")


def test_every_network_file_is_in_the_table():
    files = sorted(f[:-4] for f in os.listdir(NETS) if f.endswith(".net"))
    assert files == sorted(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_figures(name):
    ours = figures(name)
    macs, params, source = PUBLISHED[name]
    for what, pub in (("macs", macs), ("params", params)):
        if pub is None:
            continue
        if (name, what) in EXPLAINED:
            lo, hi = EXPLAINED[(name, what)]
            assert lo <= ours[what] <= hi, (name, what, ours[what], "explained range", lo, hi)
            continue
        assert close(ours[what], pub), (name, what, ours[what], pub, source)
