"""`classicnets serve`: the local web explorer (``classicnets.serve``)."""

from __future__ import annotations

import argparse


def cmd_serve(args: argparse.Namespace) -> int:
    from ..serve import (  # here: the web stack and matplotlib load only for this command
        CACHE_DIR,
        run_server,
    )

    run_server(args.host, args.port, runs=args.runs or [], data_dir=args.data_dir, cache_dir=args.cache_dir or CACHE_DIR)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="a local web explorer: the models, draw a digit, the residual block, degradation curves",
        description="Serve the explorer of the case studies on http://HOST:PORT/ (localhost unless --host "
        "says otherwise). It works offline: every script and style ships with classicnets.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--runs", nargs="+", metavar="DIR",
                   help="run or experiment folders to show on the degradation page (read-only; curves refresh live)")
    p.add_argument("--data-dir", help="where to look for MNIST (sample digits) and CIFAR-10 (why it works); default: "
                   "the usual places")
    p.add_argument("--cache-dir", help="where the 'why it works' measurements are kept between starts "
                   "(default ~/.cache/classicnets/explorer)")
    p.set_defaults(func=cmd_serve)
