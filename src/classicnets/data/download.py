"""Downloads, only when asked (``download=True`` / ``--download``), with torchvision's checked downloaders.

MNIST and Fashion-MNIST come through ``torchvision.datasets.MNIST/FashionMNIST(root, download=True)``
(into ``root/MNIST/raw``, ``root/FashionMNIST/raw``); CIFAR as the official BINARY tarballs, md5
checked, extracted into ``root`` (``cifar-10-batches-bin/``, ``cifar-100-binary/``).
"""

from __future__ import annotations

from pathlib import Path

from torchvision import datasets
from torchvision.datasets.utils import download_and_extract_archive

from ..errors import DataNotFoundError

CIFAR_ARCHIVES = {
    "cifar10": ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),
    "cifar100": ("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"),
}
TORCHVISION_CLASSES = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}
DOWNLOADABLE = frozenset(CIFAR_ARCHIVES) | frozenset(TORCHVISION_CLASSES)


def download(name: str, root: Path) -> None:
    """Fetch dataset ``name`` into ``root``; any failure is a one-line ``DataNotFoundError``."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        if name in CIFAR_ARCHIVES:
            url, md5 = CIFAR_ARCHIVES[name]
            download_and_extract_archive(url, download_root=root, md5=md5, remove_finished=True)
        else:
            TORCHVISION_CLASSES[name](root, train=False, download=True)
    except (OSError, RuntimeError, ValueError) as e:  # URLError is an OSError; torchvision raises RuntimeError
        reason = " ".join(str(e).split()) or type(e).__name__
        raise DataNotFoundError(f"could not download {name} into {root}: {reason}") from None
