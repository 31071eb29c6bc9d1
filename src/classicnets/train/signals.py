"""A graceful stop: SIGTERM or SIGINT asks a training run to save a checkpoint at the step it is on
and end; a second signal ends it at once.

A cloud machine sends SIGTERM 30 seconds to 2 minutes before it takes the machine back, a shared
server before it reclaims one, a person types Ctrl-C (SIGINT). The first signal only sets a flag,
which the loop reads after every step (a Python attribute: no system call, no device sync); the
loop then saves the weights and the training state at that step and returns. When nothing has
been trained since the last save (while loading, while the first step compiles, just after a
checkpoint), there is nothing to save: the handler raises ``StopNow`` and the run ends where it
is. It does the same in a stretch marked ``abortable`` (a logging point's evaluations, which
change nothing), and the loop then saves the step without them; the resumed run evaluates first. A second signal restores the handlers that were there before and stops at once: SIGINT as a
``KeyboardInterrupt``, SIGTERM by the default action (the process ends with status 143).

Handlers can only be installed in the main thread; elsewhere (a run started from a worker thread)
the signals keep their previous handlers.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopNow(BaseException):
    """A stop signal arrived when nothing was unsaved: the run ends where it is.

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` on the way
    (torch.compile's tracing, a data reader) swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def signal_name(signum: int) -> str:
    """``SIGTERM``, ``SIGINT``, ... for a signal number."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class GracefulStop:
    """While entered, SIGTERM and SIGINT set ``requested`` (the signal's number) instead of ending
    the process. ``unsaved()`` says whether anything was trained since the last save; when it says
    no, the handler raises ``StopNow`` at once. ``announce``: print one line when a signal comes."""

    def __init__(self, unsaved: Callable[[], bool], announce: bool = True) -> None:
        self.requested: int | None = None
        self._unsaved = unsaved
        self._announce = announce
        self._previous: dict[int, Any] = {}
        self._abortable = False
        self._closing = False

    @contextmanager
    def abortable(self, enabled: bool = True) -> Iterator[None]:
        """A stretch of work that a stop signal may cut short (``StopNow``), such as the evaluations
        of a logging point, which change nothing of the run; it does not start once a stop was asked."""
        if not enabled:
            yield
            return
        if self.requested is not None:
            raise StopNow(self.requested)
        self._abortable = True
        try:
            yield
        finally:
            self._abortable = False

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._restore()

    def _restore(self) -> None:
        self._closing = True  # a signal from here on is only recorded: the run is ending anyway
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._closing:
            self.requested = self.requested or signum
            return
        if self.requested is not None:  # the second signal: stop at once
            self._restore()
            self._say(f"classicnets: {signal_name(signum)} again: stopping at once")
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.requested = signum
        if self._abortable or not self._unsaved():
            raise StopNow(signum)
        self._say(f"classicnets: {signal_name(signum)} received: saving a checkpoint at the current step, then "
                  "stopping (send it again to stop at once)")  # fmt: skip

    def _say(self, line: str) -> None:
        if not self._announce:
            return
        try:
            print(line, file=sys.stderr, flush=True)
        except (RuntimeError, OSError):  # a print interrupted by the signal (reentrant), or stderr gone
            pass
