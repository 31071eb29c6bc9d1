"""Fitting the ecosystem: torchvision and local weights, features_only, torch.hub, ONNX export."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import save_file

import classicnets as cn
from classicnets.errors import CheckpointError, UserError
from classicnets.export import export_onnx
from classicnets.weights import shipped

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tv_resnet18(tmp_path_factory):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    folder = tmp_path_factory.mktemp("tv")
    torch.save(model.state_dict(), folder / "resnet18.pth")
    save_file(model.state_dict(), folder / "resnet18.safetensors")
    return model, folder


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_weights_from_a_local_torchvision_file(tv_resnet18, suffix):
    theirs, folder = tv_resnet18
    ours = cn.create_model("resnet18", weights=str(folder / f"resnet18{suffix}")).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


def test_pretrained_weights_adapt_to_classes_and_grayscale(tv_resnet18):
    theirs, folder = tv_resnet18
    m = cn.create_model("resnet18", weights=str(folder / "resnet18.pth"), num_classes=10, in_chans=1)
    assert m.fc.out_features == 10
    assert torch.equal(m.conv1.weight, theirs.conv1.weight.sum(1, keepdim=True))
    assert torch.equal(m.layer3[0].conv1.weight, theirs.layer3[0].conv1.weight)


def test_torchvision_weights_are_read_with_weights_only(monkeypatch, tv_resnet18):
    theirs, _ = tv_resnet18
    seen = {}

    def fake_get_state_dict(self, *args, **kwargs):  # stands in for the download
        seen.update(kwargs)
        return theirs.state_dict()

    monkeypatch.setattr(torchvision.models.ResNet18_Weights, "get_state_dict", fake_get_state_dict)
    m = cn.create_model("resnet18", weights="torchvision").eval()
    assert seen.get("weights_only") is True
    assert torch.equal(m.fc.weight, theirs.fc.weight)
    with pytest.raises(UserError, match="no torchvision counterpart"):
        cn.create_model("resnet20", weights="torchvision")


def test_weights_that_would_run_code_are_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.write_text, (marker, "ran"))

    bad = tmp_path / "evil.pth"
    bad.write_bytes(pickle.dumps({"conv1.weight": Evil()}))
    with pytest.raises(CheckpointError, match="refusing|not a readable"):
        cn.create_model("resnet20", weights=str(bad))
    torch.save({"x": Evil()}, tmp_path / "evil2.pth")
    with pytest.raises(CheckpointError):
        cn.create_model("resnet20", weights=str(tmp_path / "evil2.pth"))
    assert not marker.exists()


def test_malformed_and_mismatched_weight_files(tmp_path, tv_resnet18):
    _, folder = tv_resnet18
    data = (folder / "resnet18.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.safetensors").write_bytes(b"\x00\x01not a header")
    for name in ("cut.safetensors", "junk.safetensors"):
        with pytest.raises(CheckpointError, match="not a readable safetensors"):
            cn.create_model("resnet18", weights=str(tmp_path / name))
    with pytest.raises(CheckpointError, match="do not fit resnet34"):
        cn.create_model("resnet34", weights=str(folder / "resnet18.safetensors"))
    with pytest.raises(CheckpointError, match="no weights file"):
        cn.create_model("resnet18", weights=str(tmp_path / "absent.pth"))


@pytest.mark.parametrize("name,chans", [
    ("lenet5", [6, 16, 120]), ("alexnet", [96, 256, 256]), ("vgg11", [64, 128, 256, 512, 512]),
    ("resnet20", [16, 32, 64]), ("resnet50", [256, 512, 1024, 2048]),
])  # fmt: skip
def test_features_only_returns_each_stage(name, chans):
    m = cn.create_model(name, features_only=True).eval()
    info = cn.model_info(name)
    with torch.no_grad():
        feats = m(torch.randn(1, *info.input_size))
    assert [f.shape[1] for f in feats] == chans == [i["num_chs"] for i in m.feature_info]
    side = info.input_size[1]
    if info.family in ("vgg", "resnet"):  # padded convs: each stage is exactly side / reduction
        assert [f.shape[-1] for f in feats] == [side // i["reduction"] for i in m.feature_info]


def test_torch_hub_local_entry_points():
    m = torch.hub.load(str(ROOT), "resnet20", source="local", num_classes=5)
    assert isinstance(m, torch.nn.Module) and m.fc.out_features == 5


@pytest.mark.parametrize("name", sorted(shipped()))
def test_shipped_weights_load_offline_through_hub(name):
    m = torch.hub.load(str(ROOT), name, source="local", pretrained=True)
    ref = cn.create_model(name, pretrained=True)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), ref.state_dict().values()))


def test_pretrained_without_shipped_weights_says_so():
    with pytest.raises(UserError, match="ships no pretrained weights"):
        cn.create_model("vgg19", pretrained=True)


@pytest.mark.parametrize("name", ["lenet5", "resnet20", "vgg16"])
def test_onnx_export_matches_pytorch(tmp_path, name):
    torch.manual_seed(0)
    model = cn.create_model(name)
    result = export_onnx(model, cn.model_info(name).input_size, tmp_path / f"{name}.onnx")
    assert result.path.stat().st_size > 100_000
    assert result.max_abs_diff is not None and result.max_abs_diff < 1e-4


DATA = ROOT.parent / "shared" / "data"


@pytest.mark.parametrize("name", sorted(shipped()))
def test_shipped_weights_measure_what_the_manifest_says(name):
    from classicnets.train import evaluate

    entry = shipped()[name]
    if entry.dataset != "digits" and not (DATA / entry.dataset).exists():
        pytest.skip(f"{entry.dataset} not found in {DATA}")
    result = evaluate(name, data_dir=str(DATA), device="cpu")  # a shipped model's name stands for its file
    assert result.error == pytest.approx(entry.test_error, abs=2e-3)  # bf16 rounding may move a few images


@pytest.mark.parametrize("name", [n for n in sorted(shipped()) if shipped()[n].dataset == "mnist"])
def test_predict_with_shipped_weights(tmp_path, capsys, name):
    from PIL import Image

    from classicnets.cli import main
    from classicnets.data import load_dataset

    if not (DATA / "mnist").exists():
        pytest.skip(f"MNIST not found in {DATA}")
    test = load_dataset("mnist", DATA).test
    Image.fromarray(test.images[0, 0].numpy()).save(tmp_path / "digit.png")  # the first test digit is a 7
    assert main(["predict", name, str(tmp_path / "digit.png"), "--topk", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("digit.png") and lines[1].split()[-1] == "7"  # "  99.87%  7"
