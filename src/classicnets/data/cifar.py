"""CIFAR-10 and CIFAR-100 in the three layouts we read, and the one we refuse.

- the official BINARY version (``cifar-10-batches-bin/``, ``cifar-100-binary/``), parsed here:
  records of label byte(s) (CIFAR-100: coarse then fine; we use fine) + 3072 pixel bytes, R then G
  then B planes of 32 x 32, row-major;
- an ImageFolder tree of image files on disk (``train/<class>/*``, ``test/<class>/*``), such as
  the lossless PNG copy of the official pixels;
- the same tree as a tar (``cifar10.tar``), read with ``tarfile`` without extracting.

Images are decoded with ``image.load_image`` (PIL), as torchvision's ImageFolder does, in sorted
(class, path) order. The "python version" (``cifar-10-batches-py``) is pickled: loading it could run
arbitrary code, so it is refused with a message pointing at the binary version.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from torchvision.datasets.folder import IMG_EXTENSIONS

from ..errors import DataError
from .core import RawData, TensorSplit
from .folder import class_dirs, walk_files
from .image import load_image, open_image

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# the official fine label order, which is alphabetical (so ImageFolder indices agree)
CIFAR100_CLASSES = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup
dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion
lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear
pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark
shrew skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone
television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()

_PIXELS = 3 * 32 * 32


@dataclass(frozen=True)
class CifarSpec:
    name: str
    classes: list[str]
    bin_dir: str  # folder of the official binary version
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    label_bytes: int  # 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
    pickle_dir: str  # folder of the refused python version
    tar_names: tuple[str, ...]


CIFAR10 = CifarSpec(
    "cifar10", CIFAR10_CLASSES, "cifar-10-batches-bin", tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    ("test_batch.bin",), 1, "cifar-10-batches-py", ("cifar10.tar",),
)
CIFAR100 = CifarSpec(
    "cifar100", CIFAR100_CLASSES, "cifar-100-binary", ("train.bin",), ("test.bin",), 2,
    "cifar-100-python", ("cifar100.tar",),
)


# --- the binary version -------------------------------------------------------------------------

def probe_binary(spec: CifarSpec, folder: Path) -> Path | None:
    """``folder/<bin_dir>`` or ``folder`` itself when it holds all the binary batch files."""
    for d in (folder / spec.bin_dir, folder):
        if all((d / f).is_file() for f in spec.train_files + spec.test_files):
            return d
    return None


def binary_sources(spec: CifarSpec, folder: Path) -> list[Path]:
    return [folder / f for f in spec.train_files + spec.test_files]


def parse_binary(data: bytes, spec: CifarSpec, name: str) -> TensorSplit:
    """Records of ``label_bytes`` + 3072 bytes; the last label byte is the (fine) label."""
    record = spec.label_bytes + _PIXELS
    if not data or len(data) % record:
        raise DataError(f"{name}: {len(data)} bytes is not a whole number of {record}-byte CIFAR records (truncated or not {spec.name})")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, spec.label_bytes - 1].astype(np.int64)
    if labels.max() >= len(spec.classes):
        raise DataError(f"{name}: label {labels.max()} out of range for {spec.name}'s {len(spec.classes)} classes")
    images = np.ascontiguousarray(rows[:, spec.label_bytes :]).reshape(-1, 3, 32, 32)
    return TensorSplit(torch.from_numpy(images), torch.from_numpy(labels))


def read_binary(spec: CifarSpec, folder: Path) -> RawData:
    def read(files: tuple[str, ...]) -> TensorSplit:
        parts = []
        for f in files:
            try:
                data = (folder / f).read_bytes()
            except OSError as e:
                raise DataError(f"{folder / f}: cannot read ({e.strerror or e})") from None
            parts.append(parse_binary(data, spec, str(folder / f)))
        return TensorSplit(torch.cat([p.images for p in parts]), torch.cat([p.labels for p in parts]))

    return RawData(list(spec.classes), read(spec.train_files), read(spec.test_files))


# --- ImageFolder layout, as a tar or on disk --------------------------------------------------------

def probe_tar(spec: CifarSpec, folder: Path) -> Path | None:
    return next((folder / n for n in spec.tar_names if (folder / n).is_file()), None)


def probe_folder(spec: CifarSpec, folder: Path) -> Path | None:
    """``folder`` when it has ``train/`` and ``test/`` whose class subfolders are exactly the CIFAR classes."""
    if all((folder / s).is_dir() and class_dirs(folder / s) == sorted(spec.classes) for s in ("train", "test")):
        return folder
    return None


def folder_sources(folder: Path) -> list[Path]:
    return walk_files(folder / "train") + walk_files(folder / "test")


def read_tar(spec: CifarSpec, path: Path) -> RawData:
    """Decode ``train/<class>/*`` and ``test/<class>/*`` image members (under any top folder) of a tar."""
    found: dict[str, list[tuple[int, str, bytes]]] = {"train": [], "test": []}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if not member.isfile() or len(parts) < 3 or parts[-3] not in found:
                    continue
                if not parts[-1].lower().endswith(IMG_EXTENSIONS) or parts[-1].startswith("."):
                    continue
                if parts[-2] not in spec.classes:
                    raise DataError(f"{path}: member {member.name} is in an unknown {spec.name} class {parts[-2]!r}")
                stream = tar.extractfile(member)
                if stream is None:
                    continue
                found[parts[-3]].append((spec.classes.index(parts[-2]), member.name, stream.read()))
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(f"{path}: unreadable tar ({' '.join(str(e).split()) or type(e).__name__})") from None

    def decode(split: str) -> TensorSplit:
        items = sorted(found[split])
        _check_classes(spec, f"{path}:{split}/", [label for label, _, _ in items])
        sources = []
        for _, name, data in items:
            stream = io.BytesIO(data)
            stream.name = f"{path}:{name}"  # named in decoding errors
            sources.append(stream)
        return _decode_all(sources, [label for label, _, _ in items])

    return RawData(list(spec.classes), decode("train"), decode("test"))


def read_folder(spec: CifarSpec, folder: Path) -> RawData:
    """Decode the image files of ``folder/train`` and ``folder/test``, class by class, sorted by path."""

    def decode(split: str) -> TensorSplit:
        files, labels = [], []
        for label, cls in enumerate(spec.classes):
            for f in walk_files(folder / split / cls):
                if f.name.lower().endswith(IMG_EXTENSIONS):
                    files.append(f)
                    labels.append(label)
        _check_classes(spec, f"{folder / split}/", labels)
        return _decode_all(files, labels)

    return RawData(list(spec.classes), decode("train"), decode("test"))


def _check_classes(spec: CifarSpec, where: str, labels: list[int]) -> None:
    missing = sorted(set(range(len(spec.classes))) - set(labels))
    if missing:
        raise DataError(f"{where} has no images of class {spec.classes[missing[0]]!r} ({len(missing)} of {spec.name}'s classes are missing)")


def _decode_all(sources: list[Path] | list[io.BytesIO], labels: list[int]) -> TensorSplit:
    images = np.empty((len(sources), 32, 32, 3), dtype=np.uint8)
    for i, src in enumerate(sources):
        img = open_image(src, 3)
        # 32 x 32 (all of CIFAR) is used as is; anything else goes through load_image's resize
        images[i] = np.asarray(img) if img.size == (32, 32) else load_image(img, 3, 32).permute(1, 2, 0).numpy()
    return TensorSplit(torch.from_numpy(images).permute(0, 3, 1, 2), torch.tensor(labels, dtype=torch.int64))


# --- the refused python (pickle) version ------------------------------------------------------------

def refuse_pickle(spec: CifarSpec, folder: Path) -> None:
    """Raise if ``folder`` holds the pickled python version (and say how to get the binary one)."""
    for d in (folder / spec.pickle_dir, folder):
        if (d / "batches.meta").is_file() or ((d / "meta").is_file() and (d / "train").is_file()):
            raise DataError(
                f"{d} is the {spec.name} 'python version' (pickle files), which classicnets never unpickles "
                f"(unpickling can run code); get the binary version instead ({spec.bin_dir}/, "
                f"https://www.cs.toronto.edu/~kriz/cifar.html) or use --download"
            )
