"""The case-study families, one file each. Importing this package registers every model with
``classicnets.registry``; ``classicnets.factory`` builds them."""

from . import lenet, alexnet, vgg, resnet  # noqa: F401, I001  (registration order = listing order)
from .base import ClassicNet, FeatureInfo, PretrainedCfg

__all__ = ["ClassicNet", "FeatureInfo", "PretrainedCfg"]
