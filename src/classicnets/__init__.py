"""classicnets: the classic CNN case studies, faithful to their papers.

The API people import::

    import classicnets as cn
    cn.list_models("resnet*")
    model = cn.create_model("resnet20", num_classes=10)
    cn.model_info("vgg16").params.value   # 138357544
    print(cn.summary("lenet5"))              # per-layer shapes, parameters and MACs

Training, data, experiments and weights live in ``classicnets.train``, ``classicnets.data``,
``classicnets.experiments`` and ``classicnets.weights``.
"""

from .errors import UserError
from .inspect import compare, summary
from .registry import ModelInfo, Published, create_model, list_models, model_info

__version__ = "0.1.0"

__all__ = ["ModelInfo", "Published", "UserError", "compare", "create_model", "list_models", "model_info", "summary"]
