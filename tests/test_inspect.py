"""Inspection: summary totals against the literature, MACs against torchvision, layer shapes,
JSON/Markdown, the CLI (with a text snapshot), diagrams and the shapes plot.

Regenerate the snapshot with ``CLASSICNETS_UPDATE_SNAPSHOTS=1 pytest tests/test_inspect.py``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from functools import cache
from pathlib import Path

import pytest
import torch
from PIL import Image

import classicnets as cn
from classicnets.cli import main
from classicnets.inspect import Summary, compare, summary, trace
from classicnets.inspect.draw import draw
from classicnets.inspect.shapes import plot_shapes
from classicnets.inspect.summary import Check
from classicnets.inspect.trace import Trace
from classicnets.registry import Published

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("CLASSICNETS_UPDATE_SNAPSHOTS") == "1"

# torchvision's documented "GFLOPS" (which count MACs), typed in independently of the registry.
TORCHVISION_GMACS = {
    "alexnet_owt": 0.714, "vgg11": 7.609, "vgg16": 15.47, "vgg19": 19.632, "resnet18": 1.814,
    "resnet34": 3.664, "resnet50": 4.089, "resnet101": 7.801, "resnet152": 11.514,
}  # fmt: skip

# LeNet-5 by hand, counted as FlopCounterMode counts (convolutions and matrix products only):
#   C1  28*28 outputs * 6 maps * 1*5*5         = 117,600
#   S2  pooling (2x2 sum * coefficient)        =       0  (not a convolution or matrix product)
#   C3  10*10 * 16 maps * 6*5*5                = 240,000  (SparseConv2d runs as a dense conv whose
#                                                          36 unconnected kernels are zero; the
#                                                          paper's 60 kernels alone: 150,000)
#   S4  pooling                                =       0
#   C5  1*1 * 120 maps * 16*5*5                =  48,000
#   F6  120 * 84                               =  10,080
#   RBF squared distances (not a matmul)       =       0
LENET5_MACS = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 120 * 16 * 25 + 120 * 84  # 415,680


@cache
def traced(name: str) -> Trace:
    return trace(name)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", cn.list_models())
def test_summary_totals_match_published_params_and_paper_depth(name):
    tr = traced(name)
    s = Summary.from_trace(tr)
    info = cn.model_info(name)
    assert s.totals.params == info.params.value
    assert s.checks[0].quantity == "parameters" and s.checks[0].ok
    assert s.totals.macs == sum(r.macs for r in s.rows)  # every counted MAC sits in some row
    assert len(tr.weight_layers()) == info.depth  # the tracer counts depth as the papers do
    if info.macs is not None:
        assert s.checks[1].ok, s.checks[1].describe()


@pytest.mark.parametrize("name", sorted(TORCHVISION_GMACS))
def test_macs_agree_with_torchvision(name):
    assert traced(name).macs == pytest.approx(TORCHVISION_GMACS[name] * 1e9, rel=0.01)


def test_macs_of_the_small_networks():
    assert traced("resnet20").macs == pytest.approx(40.8e6, rel=0.01)
    assert traced("lenet5").macs == LENET5_MACS == 415_680


def test_lenet5_rows_and_buffers():
    s = summary("lenet5")
    shapes = list(dict.fromkeys(r.output_shape for r in s.rows))  # distinct, in order
    assert shapes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1), (84,), (10,)]
    assert [r.params for r in s.rows if r.params] == [156, 12, 1516, 32, 48120, 10164]
    assert s.totals.trainable == 60_000 and s.totals.non_trainable == 0
    assert s.totals.buffers == 840  # the RBF codes: fixed, not parameters
    assert s.rows[-1].type == "EuclideanRBF" and s.rows[-1].params == 0


def test_vgg16_spatial_sizes_halve_while_channels_double():
    convs = [c.output_shape for c in traced("vgg16").calls if c.kind == "conv"]
    assert list(dict.fromkeys(h for _, h, _ in convs)) == [224, 112, 56, 28, 14]
    assert list(dict.fromkeys(c for c, _, _ in convs)) == [64, 128, 256, 512]
    pools = [c.output_shape[1] for c in traced("vgg16").calls if c.kind == "pool"]
    assert pools[:5] == [112, 56, 28, 14, 7]


def test_resnet_rows_are_blocks_by_default_and_depth_picks_others():
    s = Summary.from_trace(traced("resnet152"))
    assert len(s.rows) == 4 + 50 + 2  # stem, one row per block, avgpool + fc
    blocks = [r for r in s.rows if r.type.startswith("Bottleneck")]
    assert [r.stage for r in blocks].count("3") == 36
    assert blocks[0].type == "Bottleneck (projection shortcut)" and blocks[1].type == "Bottleneck (identity shortcut)"
    stages = Summary.from_trace(traced("resnet152"), depth=1).rows
    assert [r.name for r in stages] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                                        "avgpool", "fc"]  # fmt: skip
    leaves = Summary.from_trace(traced("resnet20"), depth=9).rows
    assert sum(r.type == "Conv2d" for r in leaves) == 19 and not any(r.type == "Identity" for r in leaves)


def test_other_input_size_skips_the_macs_check_and_bad_sizes_are_user_errors():
    s = summary("vgg16", input_size=(3, 64, 64))
    assert s.checks[0].ok and s.checks[1].ok is None and "not compared" in s.checks[1].describe()
    with pytest.raises(cn.UserError, match="cannot take a 3x8x8 input"):
        summary("vgg16", input_size=(3, 8, 8))
    with pytest.raises(cn.UserError, match="cannot take a 1x32x32"):
        summary("resnet20", input_size=(1, 32, 32))


def test_mismatch_is_flagged():
    pub = Published(100.0, "somewhere")
    assert Check("MACs", 102, pub, 0.01).ok is False
    assert "MISMATCH" in Check("MACs", 102, pub, 0.01).describe()
    assert Check("MACs", 101, pub, 0.01).ok and "matches published" in Check("MACs", 101, pub, 0.01).describe()
    assert Check("parameters", 101, pub, 0.0).ok is False


def test_model_instance_keeps_device_weights_and_mode():
    model = cn.create_model("lenet5_modern")
    model.features.c1.weight.requires_grad_(False)
    before = model.features.c1.weight.clone()
    s = summary(model, input_size=(1, 32, 32))
    assert s.model == "LeNet5" and s.checks == ()
    assert s.totals.non_trainable == 150 and s.totals.trainable == 61_706 - 150  # C1 weights, not bias
    assert model.training and model.features.c1.weight.device.type == "cpu"
    assert torch.equal(model.features.c1.weight, before)
    with pytest.raises(cn.UserError, match="input_size"):
        summary(model)


def test_json_round_trips_and_markdown_has_a_header():
    s = summary("resnet20")
    d = json.loads(s.to_json())
    assert d["totals"] == asdict(s.totals) and len(d["rows"]) == len(s.rows)
    assert d["checks"][0]["ok"] is True and d["rows"][0]["output_shape"] == [16, 32, 32]
    lines = s.to_markdown().splitlines()
    header = lines.index("| Layer | Type | Stage | Output shape | Params | MACs |")
    assert lines[header + 1].startswith("| :---") and lines[header + 2].startswith("| conv1 |")


def test_cli_summary_matches_snapshot(capsys):
    code, out, _ = cli(capsys, "summary", "lenet5")  # not a terminal: 160 columns, no colour
    text = "\n".join(line.rstrip() for line in out.splitlines()) + "\n"
    snap = SNAPSHOTS / "summary_lenet5.txt"
    if UPDATE:
        snap.parent.mkdir(exist_ok=True)
        snap.write_text(text)
    assert code == 0 and text == snap.read_text()


def test_cli_summary_json_and_markdown(capsys):
    code, out, _ = cli(capsys, "summary", "resnet20", "--json", "--depth", "1")
    assert code == 0 and json.loads(out)["totals"]["params"] == 269_722
    code, out, _ = cli(capsys, "summary", "alexnet", "--markdown")
    assert code == 0 and out.count("| features.conv") == 5


def test_cli_compare_one_row_per_model(capsys):
    names = ["lenet5", "alexnet", "vgg16", "resnet50", "resnet20"]
    code, out, _ = cli(capsys, "compare", *names)
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in names}
    assert code == 0 and list(rows) == names
    expect = {"lenet5": ("1998", "60,000"), "alexnet": ("2012", "60,965,224"), "vgg16": ("2014", "138,357,544"),
              "resnet50": ("2015", "25,557,032"), "resnet20": ("2015", "269,722")}  # fmt: skip
    for name, (year, params) in expect.items():
        assert f" {year} " in rows[name] and f" {params} " in rows[name]
    md = compare(names).to_markdown().splitlines()
    assert md[0].startswith("| Model | Year | Depth |") and sum(line.startswith("| ") for line in md) == 2 + 5


@pytest.mark.parametrize(
    "argv",
    [["summary", "resnt50"], ["compare", "lenet5", "vgg61"], ["summary", "vgg16", "--input-size", "3", "8", "8"],
     ["draw", "lenet5", "-o", "/nonexistent-dir/x.png"], ["draw", "lenet5", "-o", "x.pdf"]],
)  # fmt: skip
def test_cli_user_errors_are_one_line_exit_2(capsys, argv):
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("classicnets: error:")


def test_cli_unknown_model_suggests_nearest(capsys):
    _, _, err = cli(capsys, "summary", "resnt50")
    assert "did you mean resnet50" in err


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg16", "resnet20", "resnet34", "plain20"])
def test_draw_png(tmp_path, name):
    d = draw(name, tmp_path / f"{name}.png")
    img = Image.open(tmp_path / f"{name}.png").convert("RGB")
    assert 600 <= img.width <= 2600 and 300 <= img.height <= 600 and 0.5 < img.width / img.height < 7
    assert len(img.getcolors(maxcolors=1 << 20)) > 20  # not a blank image
    assert d.boxes[0].kind == "input" and d.boxes[-1].kind in ("softmax", "rbf")
    for arc in d.arcs:  # dashed exactly where the shortcut changes the shape
        box = next(b for b in d.boxes if b.name == arc.block)
        assert arc.dashed == (box.shortcut in ("projection", "zero-pad"))
        assert arc.patch.get_linestyle() == ("--" if arc.dashed else "-")


def test_draw_boxes_and_arcs():
    lenet = draw("lenet5")
    assert [b.label for b in lenet.boxes] == ["32x32x1", "28x28x6", "14x14x6", "10x10x16", "5x5x16", "1x1x120", "84",
                                              "10"]  # fmt: skip
    assert lenet.arcs == () and lenet.boxes[2].kind == "pool"
    vgg = draw("vgg16")
    assert [b.count for b in vgg.boxes if b.kind == "conv"] == [2, 2, 3, 3, 3]
    assert [b.kind for b in vgg.boxes[-3:]] == ["fc", "fc", "softmax"]
    res = draw("resnet20")
    assert len(res.arcs) == 9 and [a.block for a in res.arcs if a.dashed] == ["layer2.0", "layer3.0"]
    assert {a.shortcut for a in res.arcs if a.dashed} == {"zero-pad"}
    assert [a.block for a in draw("resnet34").arcs if a.dashed] == ["layer2.0", "layer3.0", "layer4.0"]
    assert draw("plain20").arcs == ()


def test_draw_svg(tmp_path):
    path = draw("resnet20").save(tmp_path / "resnet20.svg")
    text = path.read_text()
    assert "<svg" in text and text.count("<path") > 50


def test_shapes_plot(tmp_path):
    plot = plot_shapes(["lenet5", "vgg16", "resnet20"], tmp_path / "shapes.png")
    for points in plot.series.values():
        heights, channels = [p.height for p in points], [p.channels for p in points]
        assert heights == sorted(heights, reverse=True) and channels == sorted(channels)
    assert [p.index for p in plot.series["vgg16"]] == list(range(1, 14))
    top, bottom = plot.figure.axes
    assert top.get_yscale() == bottom.get_yscale() == "log" and len(top.lines) == 3
    assert Image.open(tmp_path / "shapes.png").width > 500
