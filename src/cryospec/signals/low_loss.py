"""The low loss given beside a core loss: its spectra as arrays, matched to the core-loss pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from cryospec._chunks import broadcast_spectrum, is_lazy_array, signal_axis_in_one_chunk

__all__ = ["is_separate_low_loss", "low_loss_array"]


def low_loss_array(signal, low_loss) -> tuple[Any, np.ndarray]:
    ll_axis = low_loss.axes_manager.signal_axes[0]
    if not ll_axis.is_uniform:
        raise ValueError("the low loss needs a uniform energy axis")
    energy = np.asarray(ll_axis.axis, dtype=float)
    if is_separate_low_loss(signal, low_loss):
        # One spectrum (a low loss acquired apart from the core loss, averaged): the same for
        # every pixel, broadcast without copying.
        spectrum = np.asarray(low_loss.data, dtype=float)
        if is_lazy_array(signal.data):
            return broadcast_spectrum(spectrum, signal.data), energy
        return np.broadcast_to(spectrum, (*signal.data.shape[:-1], spectrum.size)), energy
    if low_loss.axes_manager.navigation_shape != signal.axes_manager.navigation_shape:
        raise ValueError(
            f"the low loss has navigation shape {low_loss.axes_manager.navigation_shape}, the "
            f"core loss {signal.axes_manager.navigation_shape}: they must match pixel by pixel. "
            "A low loss acquired separately can be given as one spectrum for every pixel: "
            "low_loss.mean(low_loss.axes_manager.navigation_axes) (its zero-loss peak at 0 eV)"
        )
    if low_loss._lazy:  # stays lazy: read block by block beside the core loss
        data = signal_axis_in_one_chunk(low_loss.data)
        return data.astype(float), energy
    return np.asarray(low_loss.data, dtype=float), energy


def is_separate_low_loss(signal, low_loss) -> bool:
    """True for one low-loss spectrum given for a core-loss map (used for every pixel)."""
    return (
        low_loss.axes_manager.navigation_dimension == 0
        and signal.axes_manager.navigation_dimension > 0
    )
