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
from classicnets.factory import WeightsAdapted
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
    with pytest.warns(WeightsAdapted) as caught:
        m = cn.create_model("resnet18", weights=str(folder / "resnet18.pth"), num_classes=10, in_chans=1)
    assert m.fc.out_features == 10
    assert torch.equal(m.conv1.weight, theirs.conv1.weight.sum(1, keepdim=True))
    assert torch.equal(m.layer3[0].conv1.weight, theirs.layer3[0].conv1.weight)
    (line,) = [str(w.message) for w in caught]  # what was reset, in one line
    assert "\n" not in line and "fc.weight, fc.bias kept fresh" in line and "conv1.weight summed over RGB" in line


def test_only_the_declared_layers_adapt_everything_else_must_fit():
    torch.manual_seed(0)
    state = torchvision.models.vgg11(weights=None).state_dict()
    with pytest.raises(CheckpointError) as err:  # the CIFAR head reshapes all three FC layers
        cn.create_model("vgg11", head="cifar", num_classes=10, weights=state)
    message = str(err.value)
    assert "classifier.0.weight (4096, 25088) for (512, 512)" in message and "classifier.3.weight" in message
    assert "do not fit vgg11" in message and "\n" not in message
    model = cn.create_model("vgg11", num_classes=0, weights=state)  # a headless model drops the classifier
    assert torch.equal(model.classifier[3].weight, state["classifier.3.weight"])
    state["features.3.weight"] = state["features.3.weight"][:, :32]  # any other mismatch is named
    with pytest.raises(CheckpointError, match=r"features\.3\.weight \(128, 32, 3, 3\) for \(128, 64, 3, 3\)"):
        cn.create_model("vgg11", weights=state)


def test_loading_weights_updates_the_pretrained_cfg():
    model = cn.create_model("lenet5", pretrained=True)
    cfg = model.pretrained_cfg
    assert cfg.weights == "classicnets" and cfg.classes == tuple("0123456789") and cfg.dataset == "mnist"
    assert (cfg.image_size, cfg.fit, cfg.input_size) == ((28, 28), "pad", (1, 32, 32))
    assert cfg.mean != cn.create_model("lenet5").pretrained_cfg.mean  # the training split's own statistics


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
    assert [f.shape[1] for f in feats] == chans == m.feature_info.channels()
    side = info.input_size[1]
    if info.family in ("vgg", "resnet"):  # padded convs: each stage is exactly side / reduction
        assert [f.shape[-1] for f in feats] == [side // r for r in m.feature_info.reduction()]


def test_features_only_out_indices_as_timm():
    m = cn.create_model("resnet50", features_only=True, out_indices=(1, -1)).eval()
    assert m.feature_info.channels() == [512, 2048] and m.feature_info.reduction() == [8, 32]
    with torch.no_grad():
        feats = m(torch.randn(1, 3, 224, 224))
    assert [tuple(f.shape[1:]) for f in feats] == [(512, 28, 28), (2048, 7, 7)]
    with pytest.raises(UserError, match="out_indices must pick among the model's 4 stages"):
        cn.create_model("resnet50", features_only=True, out_indices=(4,))
    with pytest.raises(UserError, match="out_indices needs features_only=True"):
        cn.create_model("resnet50", out_indices=(1,))


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
    result = export_onnx(model, tmp_path / f"{name}.onnx")
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


@pytest.mark.parametrize("name", [n for n in sorted(shipped()) if shipped()[n].dataset == "cifar10"])
def test_predict_photos_with_shipped_weights(capsys, name):
    """``classicnets predict`` on real CIFAR-10 test photos (the first of each class's folder): its
    top class is the one the model gives the same image through ``create_model``, and right for most."""
    from classicnets.cli import main
    from classicnets.train import predict

    folder = DATA / "cifar10" / "test"
    if not folder.is_dir():
        pytest.skip(f"CIFAR-10 not found in {DATA}")
    photos = [str(sorted(c.iterdir())[0]) for c in sorted(folder.iterdir())]
    assert main(["predict", name, *photos, "--topk", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    said = [line.split()[-1] for line in lines[1::2]]  # "  97.12%  airplane" under each file's line
    assert lines[0::2] == photos and said == [top[0][0] for top in predict(name, photos, topk=1)]
    assert sum(label == Path(p).parent.name for label, p in zip(said, photos, strict=True)) >= 7  # of 10


def test_onnx_file_carries_the_preprocessing(tmp_path):
    import json

    import numpy as np
    import onnxruntime as ort
    from PIL import Image

    from classicnets.train import predict

    digit = Image.new("L", (28, 28))
    digit.paste(255, (12, 4, 16, 24))  # a "1"
    digit.save(tmp_path / "one.png")
    export_onnx(cn.create_model("lenet5", pretrained=True), tmp_path / "lenet5.onnx")
    session = ort.InferenceSession(str(tmp_path / "lenet5.onnx"), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    # an onnxruntime user, with nothing but the file: scale to image_size, pad to input_size, normalise
    h, w = json.loads(meta["image_size"])
    _, ih, iw = json.loads(meta["input_size"])
    assert meta["fit"] == "pad" and json.loads(meta["classes"]) == list("0123456789")
    pixels = np.asarray(Image.open(tmp_path / "one.png").resize((w, h)), dtype=np.float32) / 255
    pixels = np.pad(pixels, (((ih - h) // 2,) * 2, ((iw - w) // 2,) * 2))
    x = ((pixels - json.loads(meta["mean"])[0]) / json.loads(meta["std"])[0])[None, None].astype(np.float32)
    (logits,) = session.run(None, {"input": x})
    ours = predict("lenet5", [tmp_path / "one.png"], topk=1, device="cpu")[0][0][0]
    assert json.loads(meta["classes"])[int(logits.argmax())] == ours
