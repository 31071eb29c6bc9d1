"""Image decoding and geometry: the ONE file-to-tensor conversion, and batch channel/size fitting.

``load_image`` is used for folder datasets, CIFAR image trees (PNG or JPEG) and ``classicnets predict``:

- modes: ``1``/``L`` stay gray; ``I;16*`` and ``I`` (16-bit) are scaled to 8 bits (x * 255 / 65535,
  rounded; PIL's own conversion would clip them); images with an alpha channel (``LA``, ``RGBA``,
  ``PA``, ``P`` with transparency) are composited on WHITE (a drawing on a transparent background
  stays visible); ``P``, ``CMYK`` and other color modes go to RGB with PIL's conversions;
- EXIF orientation is applied (photos come out upright);
- channels: gray -> 3 by repeating, color -> 1 by PIL's "L" (ITU-R 601-2 luma);
- size: the shorter side is resized to fit (antialiased bilinear), then the center is cropped.

Undecodable, truncated or non-image input raises ``DataError`` with one line.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torchvision.transforms.v2 import functional as TF

from ..errors import ConfigError, DataError

ImageSource = str | os.PathLike[str] | bytes | BinaryIO | Image.Image

GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
_ORIENTATION = 0x0112  # the EXIF tag
_CHUNK = 4096  # images per step in batch conversions, to bound temporary memory


def pair(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else size
    if h < 1 or w < 1:
        raise ConfigError(f"image size must be positive, got {size}")
    return int(h), int(w)


def load_image(src: ImageSource, in_chans: int, size: int | tuple[int, int]) -> torch.Tensor:
    """Decode an image (path, bytes, file object or PIL image) to uint8 ``in_chans x H x W``."""
    target = pair(size)
    array = np.array(open_image(src, in_chans))  # H x W (x 3), a writable copy
    image = torch.from_numpy(array).reshape(array.shape[0], array.shape[1], -1).permute(2, 0, 1)
    return resize_crop(image, target).contiguous()


def open_image(src: ImageSource, in_chans: int) -> Image.Image:
    """The image as a PIL image in mode "L" (``in_chans=1``) or "RGB" (3), upright; not resized."""
    if in_chans not in (1, 3):
        raise ConfigError(f"in_chans must be 1 or 3, got {in_chans}")
    try:
        if isinstance(src, Image.Image):
            return _upright(src, in_chans)
        with Image.open(io.BytesIO(src) if isinstance(src, bytes) else src) as img:
            img.load()  # decode now: truncated data fails here, not later
            return _upright(img, in_chans)
    except Exception as e:  # noqa: BLE001  (PIL's decoders raise a zoo of types on malformed input)
        reason = " ".join(str(e).split()) or type(e).__name__
        raise DataError(f"cannot read image {_describe(src)}: {reason}") from None


def _upright(img: Image.Image, in_chans: int) -> Image.Image:
    if img.getexif().get(_ORIENTATION, 1) != 1:
        img = ImageOps.exif_transpose(img)
    img = _gray_or_rgb(img)
    mode = "L" if in_chans == 1 else "RGB"
    return img if img.mode == mode else img.convert(mode)


def _describe(src: ImageSource) -> str:
    if isinstance(src, (str, os.PathLike)):
        return os.fspath(src)
    if isinstance(src, bytes):
        return "<bytes>"
    return str(getattr(src, "filename", None) or getattr(src, "name", None) or "<stream>")


def _gray_or_rgb(img: Image.Image) -> Image.Image:
    """The image in mode "L" or "RGB" (see the module docstring for the rules)."""
    mode = img.mode
    if mode in ("L", "RGB"):
        return img
    if mode.startswith("I"):  # 16-bit (or 32-bit holding 16-bit values) gray
        a = np.asarray(img).astype(np.int64)
        return Image.fromarray(((np.clip(a, 0, 65535) * 255 + 32767) // 65535).astype(np.uint8))
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in img.info):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, img.convert("RGBA"))
        return flat.convert("L" if mode in GRAY_MODES else "RGB")
    return img.convert("L" if mode in GRAY_MODES else "RGB")


def oriented_size(img: Image.Image) -> tuple[int, int]:
    """(H, W) of the image as ``load_image`` would see it, from the header (EXIF rotations swap)."""
    w, h = img.size
    return (w, h) if img.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8) else (h, w)


def resize_crop(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Scale (antialiased) so the image covers ``size`` keeping its aspect, then center-crop to it."""
    h, w = image.shape[-2:]
    th, tw = size
    if (h, w) == (th, tw):
        return image
    if th == tw:
        image = TF.resize(image, [th], antialias=True)  # shorter side to th, torchvision's rounding
    else:
        scale = max(th / h, tw / w)
        image = TF.resize(image, [max(th, round(h * scale)), max(tw, round(w * scale))], antialias=True)
    return TF.center_crop(image, [th, tw])


def to_channels(images: torch.Tensor, in_chans: int) -> torch.Tensor:
    """uint8 (N x) C x H x W to ``in_chans``: 1 -> 3 repeats, 3 -> 1 is PIL's "L" luma, exactly."""
    c = images.shape[-3]
    if c == in_chans:
        return images
    if (c, in_chans) == (1, 3):
        return images.repeat_interleave(3, dim=-3)
    if (c, in_chans) == (3, 1):
        return _chunked(images, _luma)
    raise ConfigError(f"cannot convert {c}-channel images to {in_chans} channels")


def _luma(images: torch.Tensor) -> torch.Tensor:
    # PIL's fixed point ITU-R 601-2: L = (19595 R + 38470 G + 7471 B + 2**15) >> 16
    weights = torch.tensor([19595, 38470, 7471], dtype=torch.int32).view(3, 1, 1)
    return ((images.to(torch.int32) * weights).sum(dim=-3, keepdim=True) + 32768).bitwise_right_shift(16).to(torch.uint8)


def fit_rule(size: tuple[int, int], target: tuple[int, int]) -> str:
    """How images of ``size`` (H, W) become ``target``: "none" when equal; "pad" (a zero border) when
    the target is larger by an even margin in both dims and less than twice as large (MNIST 28 ->
    LeNet's 32, as LeCun did); "resize" otherwise (antialiased bilinear, aspect ignored)."""
    (h, w), (th, tw) = size, target
    dh, dw = th - h, tw - w
    if dh == dw == 0:
        return "none"
    if dh >= 0 and dw >= 0 and dh % 2 == 0 and dw % 2 == 0 and th < 2 * h and tw < 2 * w:
        return "pad"
    return "resize"


def fit_size(images: torch.Tensor, size: int | tuple[int, int], rule: str | None = None) -> torch.Tensor:
    """uint8 (N x) C x H x W to the target (H, W) by ``rule`` ("none", "pad", "crop" (the center),
    "resize"); by default the ``fit_rule`` of the two sizes."""
    th, tw = pair(size)
    h, w = images.shape[-2:]
    rule = rule or fit_rule((h, w), (th, tw))
    if (h, w) == (th, tw):
        return images
    if rule == "pad":
        dh, dw = th - h, tw - w
        return F.pad(images, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
    if rule == "crop":
        return TF.center_crop(images, [th, tw])
    return _chunked(images, lambda x: TF.resize(x, [th, tw], antialias=True))


def _chunked(images: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    if images.dim() == 3 or len(images) <= _CHUNK:
        return fn(images).contiguous()
    return torch.cat([fn(images[i : i + _CHUNK]) for i in range(0, len(images), _CHUNK)])
