"""Inspection: what shape each layer produces, where the parameters live, how much compute it
takes, in text, JSON and pictures, checked against the published figures.

``summary`` (layer table), ``compare`` (case-study table), ``draw.draw`` (architecture diagram)
and ``shapes.plot_shapes`` (height/width and channels against depth) all read one ``trace`` of
the model. The two plotting modules are not imported here, so that importing classicnets does
not load matplotlib: ``from classicnets.inspect.draw import draw``.
"""

from .compare import Comparison, compare
from .summary import Summary, summary
from .trace import Trace, trace

__all__ = ["Comparison", "Summary", "Trace", "compare", "summary", "trace"]
