"""``classicnets summary``, ``compare``, ``draw`` and ``shapes``: thin layers over
``classicnets.inspect``. The plotting modules are imported by their commands only, so the other
commands start without loading matplotlib."""

from __future__ import annotations

import argparse

from ..inspect import compare, summary
from .output import console


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "summary",
        help="layer table: output shape, parameters and MACs of each layer",
        description="One row per layer (per block for ResNets): output shape C x H x W, parameters, MACs; "
        "totals set against the published parameter count and MACs.",
    )
    p.add_argument("name", help="model name (see 'classicnets list')")
    p.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"), help="input instead of the card's")
    p.add_argument("--depth", type=int, metavar="N",
                   help="rows at nesting depth N (default: ResNet blocks, every layer otherwise)")  # fmt: skip
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser(
        "compare",
        help="the case-study table: year, depth, parameters, MACs, input, published error",
        description="One row per model, parameters and MACs computed at each model's default input.",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="model names")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("draw", help="architecture diagram (PNG or SVG)",
                       description="Boxes sized by height, width and channels; ResNet shortcuts as arcs, "
                       "dashed where the shortcut changes the shape.")  # fmt: skip
    p.add_argument("name", help="model name")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="a .png or .svg file")
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser("shapes", help="plot height and channels against depth for several models",
                       description="Two panels, log2 axes: output height and channel count of each "
                       "convolution against its weight-layer index.")  # fmt: skip
    p.add_argument("names", nargs="+", metavar="NAME", help="model names")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="a .png or .svg file")
    p.set_defaults(func=cmd_shapes)


def cmd_summary(args: argparse.Namespace) -> int:
    s = summary(args.name, input_size=args.input_size, depth=args.depth)
    if args.json:
        print(s.to_json())
    elif args.markdown:
        print(s.to_markdown(), end="")
    else:
        console().print(s)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    table = compare(args.names)
    if args.markdown:
        print(table.to_markdown(), end="")
    else:
        console().print(table)
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from ..inspect.draw import draw

    print(draw(args.name).save(args.output))
    return 0


def cmd_shapes(args: argparse.Namespace) -> int:
    from ..inspect.shapes import plot_shapes

    print(plot_shapes(args.names).save(args.output))
    return 0
