"""`classicnets list` and `classicnets info NAME`: the registry as a table, and one model's card."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from ..factory import list_models, model_info
from .output import console


def _fmt_int(n: float) -> str:
    return f"{int(n):,}"


def cmd_list(args: argparse.Namespace) -> int:
    names = list_models(args.pattern)
    if args.json:
        print(json.dumps([model_info(n).to_dict() for n in names], indent=2))
        return 0
    table = Table(title=f"classicnets models ({len(names)})")
    for col, justify in [("name", "left"), ("family", "left"), ("year", "right"), ("depth", "right"),
                         ("params", "right"), ("input", "left"), ("published error", "left")]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for n in names:
        i = model_info(n)
        err = f"{i.error.value:g}% {i.error.metric.split(',')[0]}" if i.error else "-"
        table.add_row(n, i.family, str(i.year), str(i.depth), _fmt_int(i.params.value),
                      "x".join(map(str, i.input_size)), err)
    console().print(table)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    i = model_info(args.name)
    if args.json:
        print(json.dumps(i.to_dict(), indent=2))
        return 0
    print(f"{i.name}  ({i.family}, {i.year})")
    print(f"  paper:       {i.paper}")
    print(f"  input:       {'x'.join(map(str, i.input_size))}, {i.num_classes} classes ({i.dataset})")
    print(f"  depth:       {i.depth} weight layers")
    print(f"  parameters:  {_fmt_int(i.params.value)}  [{i.params.source}]")
    if i.macs:
        print(f"  MACs:        {i.macs.value / 1e9:.3f} G  [{i.macs.source}]")
    if i.error:
        print(f"  error:       {i.error.value:g}% ({i.error.metric})  [{i.error.source}]")
    if i.torchvision:
        print(f"  torchvision: state dict compatible with torchvision.models.{i.torchvision}")
    print("  deviations from the paper:")
    for d in i.deviations:
        print(f"    - {d}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the registered models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'resnet*'")
    p.add_argument("--json", action="store_true", help="print the model cards as JSON")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("info", help="one model's card: paper, published numbers, deviations")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)
