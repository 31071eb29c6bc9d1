"""The case-study families. Importing this package registers every model."""

from . import lenet, alexnet, vgg, resnet  # noqa: F401, I001  (registration order = listing order)
from .base import ClassicNet

__all__ = ["ClassicNet"]
