"""cryospec: dose-aware EELS and EDX spectrum imaging of beam-sensitive battery interphases.

A HyperSpy extension built on exspy. Importing :mod:`cryospec` is cheap: HyperSpy imports this
package while it loads its extensions, so every name below is loaded on first use.

The public API (what notebooks and the README use) is the names of :data:`__all__`:

* reading data and the edge database: :func:`load`, :func:`get_edge`, :func:`list_edges`;
* the signal classes: :class:`CryoEELSSpectrum`, :class:`CryoEDSTEMSpectrum` (and their lazy
  twins), :class:`CryoProfile`, with :func:`line_profile` and :func:`auto_profile`;
* the result types their methods return: :class:`BackgroundResult`,
  :class:`QuantificationResult`, :class:`PhaseMapResult`, :class:`DoseSeriesResult`,
  :class:`ProfileFit`, :class:`GradientFit`;
* the HyperSpy model components of gradients: :class:`ErfStep`, :class:`DiffusionProfile`,
  :class:`ExponentialDecay`, :class:`MultilayerProfile`;
* the built-in datasets: :func:`li_lipon`, :func:`li_lipon_eds`, :class:`InterphaseGeometry`;
* the batch report: :func:`run_report`.

The stub ``__init__.pyi`` lists the same names for editors and type checkers.

The layers below it are :mod:`cryospec.core` (NumPy kernels), :mod:`cryospec.edges`,
:mod:`cryospec.signals`, :mod:`cryospec.components`, :mod:`cryospec.data` and
:mod:`cryospec.app`; see ARCHITECTURE.md.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = ("app", "components", "core", "data", "edges", "signals")
_ATTRIBUTES = {
    "load": "signals.io",
    "get_edge": "edges",
    "list_edges": "edges",
    "CryoEELSSpectrum": "signals",
    "LazyCryoEELSSpectrum": "signals",
    "CryoEDSTEMSpectrum": "signals",
    "LazyCryoEDSTEMSpectrum": "signals",
    "CryoProfile": "signals",
    "line_profile": "signals",
    "auto_profile": "signals",
    "BackgroundResult": "signals",
    "QuantificationResult": "signals",
    "PhaseMapResult": "signals",
    "DoseSeriesResult": "signals",
    "ProfileFit": "signals",
    "GradientFit": "core.gradients",
    "li_lipon": "data",
    "li_lipon_eds": "data",
    "InterphaseGeometry": "data",
    "run_report": "app.report",
    "ErfStep": "components",
    "DiffusionProfile": "components",
    "ExponentialDecay": "components",
    "MultilayerProfile": "components",
}
# Old module names, kept for one release.
_DEPRECATED_MODULES = {"datasets": "data"}

__all__ = ["__version__", *_SUBMODULES, *_ATTRIBUTES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(f"{__name__}.{_ATTRIBUTES[name]}"), name)
    if name in _DEPRECATED_MODULES:
        new = _DEPRECATED_MODULES[name]
        warnings.warn(
            f"cryospec.{name} is now cryospec.{new}; the old name goes in the next release",
            FutureWarning,
            stacklevel=2,
        )
        return importlib.import_module(f"{__name__}.{new}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
