"""torch.hub entry points: ``torch.hub.load(path_or_repo, "resnet20", pretrained=True)``.

Every registered classicnets model is an entry point: ``create_model`` with the name filled in,
taking its keyword arguments (``pretrained``, ``weights``, ``num_classes``, ``in_chans``,
``features_only``, ...).
"""

import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from classicnets import create_model, list_models  # noqa: E402

dependencies = ["torch", "torchvision", "safetensors"]

globals().update({name: functools.partial(create_model, name) for name in list_models()})
