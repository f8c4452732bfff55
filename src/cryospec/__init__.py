"""cryospec: dose-aware EELS and EDX spectrum imaging of beam-sensitive battery interphases.

A HyperSpy extension built on exspy. Importing :mod:`cryospec` is cheap: HyperSpy imports this
package while it loads its extensions, so submodules are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = ("cross_sections", "datasets", "dose", "edges", "io", "signals")
_ATTRIBUTES = {
    "load": "io",
    "get_edge": "edges",
    "list_edges": "edges",
    "CryoEELSSpectrum": "signals",
    "LazyCryoEELSSpectrum": "signals",
    "CryoEDSTEMSpectrum": "signals",
    "LazyCryoEDSTEMSpectrum": "signals",
}

__all__ = ["__version__", *_SUBMODULES, *_ATTRIBUTES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(f"{__name__}.{_ATTRIBUTES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
