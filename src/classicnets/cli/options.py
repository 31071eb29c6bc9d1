"""Command-line options generated from a configuration dataclass: one option per field that
carries ``option(help, group)`` metadata (``classicnets.train.config.option``), its flag from the
field's name, its type and shown default from the field, its help (and any ``choices``, ``metavar``,
``flag`` or ``type``) from the metadata. ``classicnets train`` builds its options from ``TrainConfig``
this way, and every experiment from its own config: nothing is typed twice.

Parsers built here use ``argparse.SUPPRESS`` as every option's default, so ``given`` returns only
what the user typed: the config's own defaults (or a recipe's values) fill the rest.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import MISSING, fields
from typing import Any, get_args, get_origin, get_type_hints


def add_config_options(parser: argparse.ArgumentParser, config: type, groups: dict[str, str],
                       positional: tuple[str, ...] = (), choices: dict[str, list[str]] | None = None) -> None:  # fmt: skip
    """Add one option per documented field of the dataclass ``config`` to ``parser``, in argument
    groups titled by ``groups`` (metadata group -> title). ``positional`` fields take no flag;
    ``choices`` adds choices that the field's metadata cannot hold (a registry filled later)."""
    hints = get_type_hints(config)
    made = {key: parser.add_argument_group(title) for key, title in groups.items()}
    for f in fields(config):
        if "help" not in f.metadata:
            continue  # not a command-line option (set only from Python)
        meta = dict(f.metadata)
        help_text, group = meta.pop("help"), made[meta.pop("group")]
        flag, kind = meta.pop("flag", "--" + f.name.replace("_", "-")), hints[f.name]
        if choices and f.name in choices:
            meta["choices"] = choices[f.name]
        default = f.default_factory() if f.default_factory is not MISSING else None if f.default is MISSING else f.default  # type: ignore[misc]
        if f.name in positional:
            group.add_argument(f.name, nargs="?", help=help_text, **meta)
        elif _is_dict(kind):
            group.add_argument(flag, dest=f.name, action="append", type=meta.pop("type", key_value), help=help_text, **meta)
        elif kind is bool or set(get_args(kind)) == {bool, type(None)}:  # None: the run decides
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               help=help_text + shown_default(default), **meta)  # fmt: skip
        elif _tuple_of(kind) is not None:
            group.add_argument(flag, dest=f.name, type=meta.pop("type", _tuple_of(kind)), nargs="+",
                               help=help_text + shown_default(default), **meta)  # fmt: skip
        else:
            group.add_argument(flag, dest=f.name, type=meta.pop("type", parser_for(kind)),
                               help=help_text + shown_default(default), **meta)  # fmt: skip


def given(args: argparse.Namespace, config: type) -> dict[str, Any]:
    """The options the user typed, as values of ``config``'s fields: lists become tuples, the
    KEY=VALUE pairs of a dict field a dict."""
    hints = get_type_hints(config)
    out: dict[str, Any] = {}
    for f in fields(config):
        if not hasattr(args, f.name):
            continue
        value = getattr(args, f.name)
        if isinstance(value, list):
            value = dict(value) if _is_dict(hints[f.name]) else tuple(value)
        out[f.name] = value
    return out


def _is_dict(kind: Any) -> bool:
    """Whether a field's annotation is a dict (or a dict or None): given as repeated KEY=VALUE."""
    return kind is dict or get_origin(kind) is dict or dict in {get_origin(k) for k in get_args(kind)}


def _tuple_of(kind: Any) -> Any:
    """The item type of ``tuple[X, ...]`` (or ``tuple[X, ...] | None``), else None."""
    for k in (kind, *get_args(kind)):
        if get_origin(k) is tuple:
            return get_args(k)[0]
    return None


def shown_default(default: Any) -> str:
    if default is None or default == () or default == {}:
        return ""
    if isinstance(default, bool):
        return f" (default: {'on' if default else 'off'})"
    if isinstance(default, tuple):
        return f" (default {' '.join(map(str, default))})"
    return f" (default {default:g})" if isinstance(default, float) else f" (default {default})"


def parser_for(kind: Any) -> Any:
    """The argparse ``type`` of a field's annotation: its one concrete type, or a count-or-fraction."""
    options = [t for t in get_args(kind) if t is not type(None)] or [kind]
    if set(options) == {int, float}:
        return count_or_fraction
    (single,) = options
    return single


def count_or_fraction(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def key_value(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
