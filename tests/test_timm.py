"""timm's own data tools on our models: ``model.pretrained_cfg`` (and ``default_cfg``) is a
read-only mapping with timm's keys, and ``timm.data.resolve_data_config`` + ``create_transform``
build, for every shipped model, the same input as ``classicnets predict`` on real images.
timm is a test extra; without it the comparisons are skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

import classicnets as cn
from classicnets.train.evaluate import prepare
from classicnets.weights import shipped

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TIMM_KEYS = ("input_size", "mean", "std", "interpolation", "crop_pct", "crop_mode", "num_classes", "first_conv",
             "classifier", "architecture")  # fmt: skip


def test_pretrained_cfg_is_a_read_only_mapping_with_timms_keys() -> None:
    model = cn.create_model("resnet20", pretrained=True)
    cfg = model.pretrained_cfg
    assert model.default_cfg is cfg  # timm's older name
    assert set(TIMM_KEYS) <= set(cfg) and len(cfg) == len(list(cfg))
    assert cfg["input_size"] == (3, 32, 32) and cfg.get("crop_pct") == 1.0 and cfg.get("crop_mode") == "center"
    assert cfg["classifier"] == "fc" and cfg["num_classes"] == 10 and cfg.get("no such key") is None
    assert cfg["fit"] == "none" and cfg["classes"][0] == "airplane"  # ours, beside timm's
    assert dict(cfg)["mean"] == cfg.mean and cfg.to_dict()["crop_mode"] == "center"
    with pytest.raises(TypeError):
        cfg["mean"] = (0.5, 0.5, 0.5)  # type: ignore[index]
    with pytest.raises(KeyError):
        cfg["url"]  # noqa: B018
    lenet = cn.create_model("lenet5").pretrained_cfg
    assert lenet["fit"] == "pad" and lenet["crop_pct"] == pytest.approx(32 / 28)  # the 28 x 28 digit, padded to 32
    assert cn.create_model("resnet18").pretrained_cfg["crop_pct"] == 0.875


def mnist_digits(folder: Path, count: int) -> list[Path]:
    from classicnets.data import load_dataset

    if not (DATA / "mnist").is_dir():
        pytest.skip(f"MNIST not found in {DATA}")
    test = load_dataset("mnist", DATA, val_size=0).test
    paths = []
    for i in range(count):
        paths.append(folder / f"{i}.png")
        Image.fromarray(test.images[i, 0].numpy()).save(paths[-1])
    return paths


def cifar_images(per_class: int) -> list[Path]:
    if not (DATA / "cifar10" / "test").is_dir():
        pytest.skip(f"CIFAR-10 not found in {DATA}")
    return [p for c in sorted((DATA / "cifar10" / "test").iterdir()) for p in sorted(c.iterdir())[:per_class]]


@pytest.mark.parametrize("name", sorted(shipped()))
def test_timms_pipeline_gives_what_predict_gives(name: str, tmp_path: Path) -> None:
    timm_data = pytest.importorskip("timm.data")
    model = cn.create_model(name, pretrained=True).eval()
    cfg = model.pretrained_cfg
    files = mnist_digits(tmp_path, 64) if cfg.dataset == "mnist" else cifar_images(8)
    config = timm_data.resolve_data_config({}, model=model)
    assert config["input_size"] == cfg.input_size and tuple(config["mean"]) == cfg.mean
    transform = timm_data.create_transform(**config)
    mode = "L" if cfg.input_size[0] == 1 else "RGB"  # timm keeps the file's mode: open it as the model wants
    theirs = torch.stack([transform(Image.open(f).convert(mode)) for f in files])
    ours = prepare(files, cfg)
    assert theirs.shape == ours.shape
    assert torch.allclose(theirs, ours, atol=1e-5), (theirs - ours).abs().max()
    with torch.no_grad():
        assert torch.equal(model(theirs).argmax(1), model(ours).argmax(1))
