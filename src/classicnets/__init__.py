"""classicnets: the classic CNN case studies, faithful to their papers.

The API people import::

    import classicnets as cn
    cn.list_models("resnet*")
    model = cn.create_model("resnet20", num_classes=10)
    cn.model_info("vgg16").params.value   # 138357544
    print(cn.summary("lenet5"))              # per-layer shapes, parameters and MACs

Training, data, experiments and weights live in ``classicnets.train``, ``classicnets.data``,
``classicnets.experiments`` and ``classicnets.weights``.

The names below load on first use (PEP 562), so that importing a low layer such as
``classicnets.registry`` or ``classicnets.errors`` does not pull in every model family.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "create_model": "factory",
    "list_models": "factory",
    "model_info": "factory",
    "ModelInfo": "registry",
    "Published": "registry",
    "UserError": "errors",
    "summary": "inspect",
    "compare": "inspect",
}

__all__ = ["ModelInfo", "Published", "UserError", "compare", "create_model", "list_models", "model_info", "summary"]
assert sorted(__all__) == sorted(_EXPORTS)

if TYPE_CHECKING:
    from .errors import UserError
    from .factory import create_model, list_models, model_info
    from .inspect import compare, summary
    from .registry import ModelInfo, Published


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'classicnets' has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
