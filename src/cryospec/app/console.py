"""What the command line prints: each log message and each warning once, and none twice
(HyperSpy repeats its Numba notice at every decorated call, and its own handler and the root
one would both print it; library warnings come from several call sites)."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable

__all__ = ["each_message_once", "progress_lines"]


class _OncePerMessage(logging.Filter):
    """Let each distinct log message through once (HyperSpy repeats its Numba notice at every
    decorated call, and its own handler and the root one would both print it)."""

    def __init__(self):
        super().__init__()
        self.seen: set[tuple[str, int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


_ONCE = _OncePerMessage()


class _NotPrintedBelow(logging.Filter):
    """For the root handler: drop a record that a handler of its own logger tree already
    prints (HyperSpy's, on the ``hyperspy`` logger), so that no message shows twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        logger = logging.getLogger(record.name)
        while logger is not None and logger is not logging.getLogger():
            if logger.handlers:
                return False
            if not logger.propagate:
                break
            logger = logger.parent
        return True


def _each_log_message_once() -> None:
    # on the loggers the records come from (HyperSpy replaces its handlers when its api loads);
    # one filter for the process, however often main() runs
    for name in ("hyperspy.decorators", "hyperspy.io", "rsciio"):
        logger = logging.getLogger(name)
        if _ONCE not in logger.filters:
            logger.addFilter(_ONCE)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _NotPrintedBelow) for f in handler.filters):
            handler.addFilter(_NotPrintedBelow())


_SHOWN: set[tuple[type, str]] = set()


def _show_once(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` that prints each distinct warning (category and text) once,
    wherever it comes from (the same notice from several call sites or library calls)."""
    key = (category, str(message))
    if key in _SHOWN:
        return
    _SHOWN.add(key)
    _show_warning(message, category, filename, lineno, file, line)


_show_warning = warnings.showwarning


def _each_warning_once() -> None:
    """Each distinct warning that the filters let through printed once per process, and none
    of HyperSpy's notices about its own internal imports, which no user can act on."""
    warnings.showwarning = _show_once
    warnings.filterwarnings("ignore", message=r"Importing `\w+` from `hyperspy\._signals")


def each_message_once() -> None:
    """Install the filters and the warning printer for this process (idempotent)."""
    _each_log_message_once()
    _each_warning_once()


def progress_lines(total: int, emit: Callable[[str], None] | None) -> Callable[[str], None]:
    """A function that sends ``emit`` one numbered line per step, with the seconds since it
    was made (``[2/7  4.5 s] text``); a no-op when ``emit`` is None."""
    started = time.perf_counter()
    count = iter(range(1, total + 1))

    def step(text: str) -> None:
        if emit is not None:
            emit(f"[{next(count)}/{total} {time.perf_counter() - started:5.1f} s] {text}")

    return step
