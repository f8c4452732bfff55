"""Science kernels: pure NumPy/SciPy functions on arrays of shape ``(..., n_channels)``.

Nothing here imports HyperSpy or Dask (a test checks it): the signal classes of
:mod:`cryospec.signals` validate their input, read metadata, map these kernels over the
navigation space (through :mod:`cryospec._chunks`) and wrap the results.
"""

import importlib
import pkgutil
from typing import Any

__all__ = sorted(m.name for m in pkgutil.iter_modules(__path__))


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
