"""Draw a digit: a drawing made MNIST-like, both shipped LeNet-5s on it, and what their layers see.

A drawing (white strokes on black, any size) becomes an MNIST digit the way NIST's digits became
MNIST's (LeCun et al. 1998, section III-A): the ink's bounding box is scaled to fit 20 x 20
keeping its aspect ratio, then placed in a 28 x 28 field so that its centre of mass is at the
centre. From there each model's ``pretrained_cfg`` takes over (pad to 32 x 32, normalise), as
``classicnets predict`` does.
"""

from __future__ import annotations

import base64
import io
import random
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..data import find_data, load_dataset, preprocess
from ..data.image import fit_size, open_image
from ..errors import DataError
from ..train import load_run

MODELS = ("lenet5", "lenet5_modern")
# the layers shown as feature-map grids, by the paper's names: the module whose output each one is
LAYERS: dict[str, dict[str, str]] = {
    "lenet5": {"C1": "features.c1", "S2": "features.act2", "C3": "features.c3", "S4": "features.act4"},
    "lenet5_modern": {"C1": "features.act1", "S2": "features.s2", "C3": "features.act3", "S4": "features.s4"},
}
FIELD, BOX = 28, 20  # MNIST's field and the box its digits were scaled into
INK = 0.1  # a pixel is ink above this share of full white


class BlankDrawing(DataError):
    """The image has no ink: nothing to classify."""


MAX_SIDE = 4096  # a drawing is a few hundred pixels a side; larger images are refused before decoding


def refuse_large_image(data: bytes) -> None:
    """One line (``DataError``) for an image too large to decode, read from its header alone; an
    unreadable body passes through, for the decoder to say what it is."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
    except Image.DecompressionBombError as e:  # PIL's own limit: far beyond ours
        raise DataError(f"the image is too large to decode ({' '.join(str(e).split())}); send a drawing of at most "
                        f"{MAX_SIDE:,} x {MAX_SIDE:,} pixels") from None  # fmt: skip
    except Exception:  # noqa: BLE001 - not an image: the decoder says so
        return
    if width > MAX_SIDE or height > MAX_SIDE:
        raise DataError(f"the image is too large: {width:,} x {height:,} pixels; send a drawing of at most "
                        f"{MAX_SIDE:,} x {MAX_SIDE:,} pixels")  # fmt: skip


def mnist_like(image: Image.Image) -> np.ndarray:
    """A drawing as a 28 x 28 uint8 MNIST digit (see the module docstring)."""
    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255
    ys, xs = np.nonzero(gray > INK)
    if len(ys) == 0:
        raise BlankDrawing("the drawing is blank: draw a digit (white on black) first")
    crop = gray[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float32)
    total = small.sum()
    cy, cx = (np.indices(small.shape) * small).reshape(2, -1).sum(1) / total if total else np.array(small.shape) / 2
    top = int(np.clip(round(FIELD / 2 - cy), 0, FIELD - small.shape[0]))
    left = int(np.clip(round(FIELD / 2 - cx), 0, FIELD - small.shape[1]))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(field, 0, 255).round().astype(np.uint8)


def grid(maps: torch.Tensor) -> dict[str, Any]:
    """Feature maps (C x H x W) as one base64 string of uint8 pixels, each map scaled to 0..255 on
    its own range, with the numbers the page needs to draw them."""
    flat = maps.float().flatten(1)
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    scaled = ((flat - lo) / (hi - lo).clamp_min(1e-12) * 255).round().to(torch.uint8)
    c, h, w = maps.shape
    return {
        "count": c,
        "height": h,
        "width": w,
        "pixels": base64.b64encode(scaled.numpy().tobytes()).decode(),
        "min": [round(v, 4) for v in lo.flatten().tolist()],
        "max": [round(v, 4) for v in hi.flatten().tolist()],
    }


@dataclass
class DigitLab:
    """The two shipped LeNet-5s, loaded once, and where to draw sample digits from."""

    data_dir: str | None = None

    @cached_property
    def models(self) -> dict[str, torch.nn.Module]:
        return {name: load_run(name).model for name in MODELS}

    def classify(self, data: bytes) -> dict[str, Any]:
        """Both models on one drawing (PNG or any image PIL reads): the MNIST-like digit, and per
        model its input as it sees it, the probabilities, the feature maps and, for the 1998
        network, the RBF units' squared distances."""
        refuse_large_image(data)
        try:
            image = open_image(io.BytesIO(data), 1)
        except DataError:
            raise DataError("the body is not an image that PIL can read (send a PNG or a JPEG)") from None
        digit = mnist_like(image)
        out: dict[str, Any] = {"digit": grid(torch.from_numpy(digit)[None]), "models": {}}
        for name, model in self.models.items():
            cfg = model.pretrained_cfg
            x = preprocess(fit_size(torch.from_numpy(digit)[None, None], cfg.input_size[1:], cfg.fit), cfg.mean, cfg.std)
            seen: dict[str, torch.Tensor] = {}
            modules = dict(model.named_modules())
            hooks = [modules[m].register_forward_hook(lambda _m, _i, o, k=key: seen.__setitem__(k, o[0]))
                     for key, m in LAYERS[name].items()]  # fmt: skip
            try:
                with torch.no_grad():
                    logits = model(x)[0]
            finally:
                for h in hooks:
                    h.remove()
            probs = torch.softmax(logits.float(), 0)
            out["models"][name] = {
                "prediction": cfg.classes[int(probs.argmax())],
                "probabilities": [round(p, 5) for p in probs.tolist()],
                "classes": list(cfg.classes),
                "input": {**grid(x[0]), "mean": cfg.mean[0], "std": cfg.std[0], "lo": float(x.min()), "hi": float(x.max())},
                "maps": {key: grid(seen[key]) for key in LAYERS[name]},
                "rbf_distances": [round(-v, 3) for v in logits.tolist()] if name == "lenet5" else None,
            }
        return out

    @cached_property
    def samples(self) -> tuple[str, torch.Tensor, torch.Tensor]:
        """(where from, images, labels): MNIST's test digits when MNIST is on disk, else
        scikit-learn's digits (made MNIST-like, 28 x 28)."""
        source = "mnist" if find_data("mnist", self.data_dir) is not None else "digits"
        test = load_dataset(source, self.data_dir).test
        return source, test.images, test.labels

    def sample(self, index: int | None = None) -> dict[str, Any]:
        """A test digit as a PNG data URL (white on black), with its label and where it is from."""
        source, images, labels = self.samples
        i = random.randrange(len(labels)) if index is None else index % len(labels)
        buf = io.BytesIO()
        Image.fromarray(images[i, 0].numpy()).save(buf, "PNG")
        return {
            "source": "MNIST test set" if source == "mnist" else "scikit-learn digits (MNIST not found)",
            "index": i,
            "label": str(int(labels[i])),
            "png": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
        }
