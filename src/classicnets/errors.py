"""Errors a user can cause. The CLI prints each as one line and exits with status 2.

This module imports nothing from classicnets: every layer may raise these.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """Bad input from the user: the message is one clear line that says what to do."""

    exit_code = 2

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class UnknownNameError(UserError, KeyError):
    """An unknown model, dataset or recipe name (the message suggests the nearest ones)."""

    @classmethod
    def nearest(cls, kind: str, name: str, known: Iterable[str], listing: str) -> UnknownNameError:
        """The error for an unknown ``kind`` called ``name``: it suggests up to three of the
        ``known`` names that are close, or else the command (``listing``) that lists them."""
        near = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else f"; run '{listing}' to see them"
        return cls(f"unknown {kind} {name!r}{hint}")


class DataNotFoundError(UserError):
    """The dataset is not on disk; the message says where we looked and how to get it."""


class DataError(UserError):
    """The data is there but unusable: empty folder, a single class, a malformed file."""


class CheckpointError(UserError):
    """A checkpoint that cannot be loaded: unsafe, malformed, or for another model."""


class ConfigError(UserError):
    """Invalid hyper-parameters or options."""
