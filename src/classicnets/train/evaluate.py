"""Evaluate and predict: ``evaluate_split`` is the ONE evaluation of a split, used by the training
loop (validation, test) and by ``evaluate`` (``classicnets eval``) alike."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data import BatchLoader, ImageData, TensorSplit, load_dataset, load_image, preprocess
from ..data.image import ImageSource, fit_size
from ..errors import UserError
from ..models.base import PretrainedCfg
from .checkpoint import CheckpointMeta, LoadedRun, load_run
from .device import autocast, choose_precision, resolve_device
from .distributed import DistContext, all_reduce_sum

EVAL_BATCH_SIZE = 256
TTA = ("none", "flip")  # test-time augmentation: one view, or the image and its mirror


@dataclass(frozen=True)
class SplitResult:
    """Mean loss, error (fraction wrong), sample count, and the confusion matrix
    (``confusion[i, j]`` = samples of true class i predicted as j)."""

    loss: float
    error: float
    count: int
    confusion: torch.Tensor


@torch.no_grad()
def evaluate_split(
    model: nn.Module,
    split: TensorSplit,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    device: torch.device,
    precision: str,
    num_classes: int,
    batch_size: int = EVAL_BATCH_SIZE,
    channels_last: bool = False,
    ctx: DistContext | None = None,
    tta: str = "none",
) -> SplitResult:
    """Loss and error of ``model`` (in eval mode, restored afterwards) on ``split``.

    ``tta="flip"`` is test-time augmentation: each image's class probabilities are the mean of the
    softmax over it and its mirror image (left-right), and the loss is that mean's cross-entropy.
    With a distributed ``ctx`` each rank evaluates its shard and the sums are reduced, so every
    rank returns the result for the whole split.
    """
    if tta not in TTA:
        raise UserError(f"tta must be one of {', '.join(TTA)}, got {tta!r}")
    rank, world = (ctx.rank, ctx.world_size) if ctx is not None else (0, 1)
    loader = BatchLoader(
        split, batch_size, mean=mean, std=std, channels_last=channels_last, device=device, rank=rank, world_size=world
    )
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss, wrong, count
    matrix = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)
    for x, y in loader:
        with autocast(device, precision):
            logits = model(x)
            mirrored = model(x.flip(3)) if tta == "flip" else None
        if mirrored is None:
            pred = logits.argmax(1)
            sums[0] += F.cross_entropy(logits.float(), y, reduction="sum")
        else:  # log of the mean of the two softmaxes
            views = torch.stack([F.log_softmax(logits.float(), 1), F.log_softmax(mirrored.float(), 1)])
            log_probs = torch.logsumexp(views, 0) - math.log(2)
            pred = log_probs.argmax(1)
            sums[0] += F.nll_loss(log_probs, y, reduction="sum")
        sums[1] += (pred != y).sum()
        sums[2] += len(y)
        matrix += torch.bincount(y * num_classes + pred, minlength=num_classes * num_classes)
    model.train(was_training)
    if ctx is not None:
        all_reduce_sum(sums, ctx)
        all_reduce_sum(matrix, ctx)
    loss, wrong, count = sums.tolist()
    n = max(count, 1.0)
    return SplitResult(loss / n, wrong / n, int(count), matrix.view(num_classes, num_classes).cpu())


@dataclass(frozen=True)
class EvalResult:
    """``evaluate``'s answer: the split's error and loss, the confusion matrix and class names."""

    dataset: str
    split: str
    error: float
    loss: float
    count: int
    confusion: torch.Tensor
    classes: tuple[str, ...]


def evaluate(
    run: str | Path | LoadedRun,
    dataset: str | None = None,
    *,
    data_dir: str | None = None,
    download: bool = False,
    split: str = "test",
    batch_size: int = EVAL_BATCH_SIZE,
    device: str = "auto",
    precision: str = "auto",
    tta: str = "none",
    subset: int | None = None,
    subset_seed: int = 0,
) -> EvalResult:
    """Error of a trained run (folder, weights file, or ``load_run``'s result) on a dataset split.

    ``subset``: only that many images of the split, chosen class-proportionally with ``subset_seed``
    (the images a run trained with ``subset`` saw, when given its seed).

    ``dataset`` defaults to the run's own, loaded with the run's data options (so ``split="val"``
    is the run's validation split); images are fitted and normalised as in training. ``tta="flip"``
    also shows each image mirrored and averages the two softmaxes (for photos such as CIFAR's,
    never for digits); the default, one view of each image, is how every published figure is measured.
    """
    if split not in ("train", "val", "test"):
        raise UserError(f"split must be train, val or test, got {split!r}")
    dev = resolve_device(device)
    loaded = run if isinstance(run, LoadedRun) else load_run(run, dev)
    meta = loaded.meta
    data = _run_data(meta, dataset, data_dir, download)
    prec = choose_precision(dev) if precision == "auto" else precision
    cfg = loaded.model.pretrained_cfg  # how the weights want their input: the run's own statistics
    images = getattr(data, split)
    result = evaluate_split(
        loaded.model.to(dev),
        images if subset is None else images.subset(subset, subset_seed),
        mean=cfg.mean,
        std=cfg.std,
        device=dev,
        precision=prec,
        num_classes=meta.num_classes,
        batch_size=batch_size,
        tta=tta,
    )
    return EvalResult(data.name, split, result.error, result.loss, result.count, result.confusion, meta.classes)


def fit_data(data: ImageData, size: tuple[int, int], in_chans: int | None = None) -> ImageData:
    """``data`` with its images at a model's input size and channel count (default: the data's own).

    MNIST is padded 28 -> 32 for LeNet, as LeCun did; 32x32 data for CIFAR-style models is kept.
    """
    chans = data.in_chans if in_chans is None else in_chans
    if data.image_size == size and data.in_chans == chans:
        return data
    return data.fit_to(size, chans)


def _run_data(meta: CheckpointMeta, dataset: str | None, data_dir: str | None, download: bool) -> ImageData:
    """The evaluation data for a run: its own dataset and split options unless ``dataset`` is given."""
    cfg = meta.config
    data = load_dataset(
        dataset or meta.dataset,
        data_dir or cfg.get("data_dir"),
        download=download,
        val_size=cfg.get("val_size"),
        split_seed=cfg.get("split_seed", 0),
    )
    if data.num_classes != meta.num_classes:
        raise UserError(f"{data.name} has {data.num_classes} classes but the model was trained on {meta.num_classes}")
    return fit_data(data, (meta.input_size[1], meta.input_size[2]), meta.in_chans)


def prepare(images: Sequence[ImageSource], cfg: PretrainedCfg) -> torch.Tensor:
    """Image files (or bytes, or PIL images) as a model's input batch, the way its
    ``pretrained_cfg`` says: decoded at its channel count, scaled and center-cropped to
    ``image_size``, fitted to the input (pad, crop or resize), then normalised."""
    batch = torch.stack([load_image(img, cfg.input_size[0], cfg.image_size) for img in images])
    return preprocess(fit_size(batch, cfg.input_size[1:], cfg.fit), cfg.mean, cfg.std)


@torch.no_grad()
def predict(
    run: str | Path | LoadedRun, images: Sequence[ImageSource], topk: int = 5, device: str = "auto"
) -> list[list[tuple[str, float]]]:
    """The ``topk`` most probable classes with their probabilities, for each image, prepared as
    the model's ``pretrained_cfg`` says (``prepare``): as the run's training data was."""
    if topk < 1:
        raise UserError(f"--topk must be >= 1, got {topk}")
    dev = resolve_device(device)
    loaded = run if isinstance(run, LoadedRun) else load_run(run, dev)
    cfg = loaded.model.pretrained_cfg
    x = prepare(images, cfg).to(dev)
    probs = torch.softmax(loaded.model.to(dev)(x).float(), dim=1)
    values, indices = probs.topk(min(topk, probs.shape[1]), dim=1)
    names = cfg.classes or tuple(str(i) for i in range(probs.shape[1]))
    return [
        [(names[i], p) for i, p in zip(idx.tolist(), val.tolist(), strict=True)]
        for idx, val in zip(indices, values, strict=True)
    ]


def save_confusion_png(result: EvalResult, path: str | Path) -> None:
    """Draw the confusion matrix (counts, rows = true class) as a PNG with matplotlib's Agg backend;
    an unwritable path is a one-line ``UserError``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(result.classes)
    side = min(max(4.0, 0.45 * n + 2), 40.0)
    fig = Figure(figsize=(side, side))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(result.confusion.numpy(), cmap="Blues")
    ticks = range(n)
    ax.set_xticks(ticks, result.classes, rotation=90 if n > 10 else 0, fontsize=8)
    ax.set_yticks(ticks, result.classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{result.dataset} {result.split}: error {result.error:.2%} ({result.count} images)")
    if n <= 20:
        peak = max(int(result.confusion.max()), 1)
        for i, row in enumerate(result.confusion.tolist()):
            for j, v in enumerate(row):
                if v:
                    color = "white" if v > peak / 2 else "black"
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color=color)
    fig.tight_layout()
    try:
        fig.savefig(Path(path), dpi=100)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None
