"""The main job: the tour, LeNet-5 trained on the best data at hand, and its curves."""

from __future__ import annotations

import io

from rich.console import Console

from classicnets.demo import run_demo, shape_walk


def test_shape_walk_shows_height_shrinking_and_channels_growing():
    assert shape_walk("lenet5") == "32x32x1 -> 28x28x6 -> 14x14x6 -> 10x10x16 -> 5x5x16 -> 1x1x120 -> 84 -> 10"
    assert shape_walk("resnet20") == "32x32x3 -> 32x32x16 -> 16x16x32 -> 8x8x64 -> 1x1x64 -> 10"


def test_demo_falls_back_to_digits_without_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.cache/classicnets
    monkeypatch.setenv("CLASSICNETS_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("CLASSICNETS_CACHE", str(tmp_path / "cache"))
    buf = io.StringIO()
    result = run_demo(tmp_path / "demo", data_dir=str(tmp_path / "empty"), epochs=1,
                      console=Console(file=buf, width=160))  # fmt: skip
    text = buf.getvalue()
    assert result.dataset == "digits" and "MNIST not found" in text
    assert "vgg16" in text and "138,357,544" in text and "224x224x3 -> 224x224x64" in text
    assert result.test_accuracy > 0.5  # one epoch on 1,294 digits; chance is 0.1
    png = result.curves.read_bytes()
    assert png[:4] == b"\x89PNG" and len(png) > 10_000
    assert (result.run / "best.safetensors").exists()
