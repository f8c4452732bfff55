"""Maps over a signal's navigation space: the one builder every method's result goes through."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from hyperspy.signal import BaseSignal

__all__ = ["SignalMaps", "fraction_title", "navigation_map"]


def navigation_map(signal, values, title: str, quantity: str = "") -> BaseSignal:
    """A map over ``signal``'s navigation space holding ``values``, titled.

    A single spectrum gets a one-value signal. A Dask ``values`` array on a lazy ``signal``
    stays lazy (the dose map of a lazy cube); NumPy values give an in-memory map.
    """
    lazy_values = hasattr(values, "compute")
    if not lazy_values:
        values = np.asarray(values)
    out = signal._get_navigation_signal(data=values if values.ndim else values.reshape(1))
    if out._lazy and not lazy_values:
        out.compute()
    out.metadata.General.title = title
    if quantity:
        out.metadata.set_item("Signal.quantity", quantity)
    return out


def fraction_title(element: str, among: list[str], what: str = "atomic fraction") -> str:
    """The title of a fraction map: a fraction is among the quantified elements only, so the
    title names them, e.g. ``"Li atomic fraction among Li, O"``."""
    return f"{element} {what} among {', '.join(among)}"


class SignalMaps(Mapping):
    """Key -> map, each HyperSpy signal built on first access (building one costs more than
    computing it on a small map)."""

    def __init__(self, arrays: dict[str, np.ndarray], make: Callable[[str, np.ndarray], Any]):
        self._arrays, self._make, self._built = arrays, make, {}

    def __getitem__(self, key: str) -> BaseSignal:
        if key not in self._built:
            self._built[key] = self._make(key, self._arrays[key])
        return self._built[key]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def array(self, key: str) -> np.ndarray:
        """The map's values without building the signal."""
        return self._arrays[key]
