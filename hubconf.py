"""torch.hub entry points: ``torch.hub.load(path_or_repo, "resnet20", pretrained=True)``.

Every registered classicnets model is an entry point taking ``create_model``'s keyword
arguments (``pretrained``, ``weights``, ``num_classes``, ``in_chans``, ``features_only``, ...).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from classicnets import create_model, list_models  # noqa: E402

dependencies = ["torch", "torchvision", "safetensors"]


def _entry(name):
    def load(**kwargs):
        return create_model(name, **kwargs)

    load.__name__ = name
    load.__doc__ = f"classicnets {name}: see classicnets.model_info({name!r})."
    return load


globals().update({name: _entry(name) for name in list_models()})
