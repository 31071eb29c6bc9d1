"""The data layer: datasets as uint8 tensors in memory, found offline, cached, batched without workers.

::

    from classicnets.data import load_dataset, BatchLoader, Augment

    data = load_dataset("cifar10", "../shared/data")      # ImageData: train 45000 / val 5000 / test 10000
    data = data.fit_to(32)                                 # a model's input size (and in_chans=...)
    loader = BatchLoader(data.train, 128, mean=data.mean, std=data.std, shuffle=True,
                         augment=Augment(crop_padding=4, hflip=True), seed=0)
    for x, y in loader.epoch(epoch, start=batch_index): ...

Module by module: ``catalog`` (names, ``load_dataset``), ``discovery`` (where we look), ``idx`` and
``cifar`` (the file formats), ``folder`` (``folder:PATH``), ``digits``, ``cache`` (safetensors tensor
cache), ``download``, ``image`` (``load_image``, the one file-to-tensor conversion), ``batches``
(``BatchLoader``, ``Augment``, ``preprocess``), ``core`` (the types).
"""

from .batches import Augment, BatchLoader, preprocess
from .catalog import find_data, list_datasets, load_dataset
from .core import DataWarning, ImageData, TensorSplit
from .discovery import search_roots
from .image import load_image

__all__ = [
    "Augment",
    "BatchLoader",
    "DataWarning",
    "ImageData",
    "TensorSplit",
    "find_data",
    "list_datasets",
    "load_dataset",
    "load_image",
    "preprocess",
    "search_roots",
]
