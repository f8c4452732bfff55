"""The low loss given beside a core loss: its spectra as arrays, matched to the core-loss pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from cryospec._chunks import (
    broadcast_spectrum,
    is_lazy_array,
    map_spectra,
    signal_axis_in_one_chunk,
)
from cryospec.core.dose import MissingMetadataError
from cryospec.core.low_loss import resample_counts, resampled_axis

__all__ = ["exposure_ratio", "is_separate_low_loss", "low_loss_array"]


def low_loss_array(signal, low_loss) -> tuple[Any, np.ndarray]:
    """The low loss's spectra matched to the core loss's pixels, on the core loss's dispersion.

    A low loss recorded at another dispersion is resampled onto channels of the core loss's
    step (counts conserved, :func:`cryospec.core.low_loss.resample_counts`); one spectrum given
    for a map is broadcast to every pixel.
    """
    ll_axis = low_loss.axes_manager.signal_axes[0]
    if not ll_axis.is_uniform:
        raise ValueError("the low loss needs a uniform energy axis")
    energy = np.asarray(ll_axis.axis, dtype=float)
    core_axis = signal.axes_manager.signal_axes[0]
    resample = not np.isclose(ll_axis.scale, core_axis.scale, rtol=1e-4)
    if resample:
        new_energy = resampled_axis(energy, float(core_axis.scale), float(core_axis.offset))
    if is_separate_low_loss(signal, low_loss):
        # One spectrum (a low loss acquired apart from the core loss, averaged): the same for
        # every pixel, broadcast without copying.
        spectrum = np.asarray(low_loss.data, dtype=float)
        if resample:
            spectrum, energy = resample_counts(spectrum, energy, new_energy), new_energy
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
        data = signal_axis_in_one_chunk(low_loss.data).astype(float)
    else:
        data = np.asarray(low_loss.data, dtype=float)
    if resample:
        data = map_spectra(
            resample_counts,
            data,
            n_out=new_energy.size,
            dtype=float,
            energy=energy,
            new_energy=new_energy,
        )
        energy = new_energy
    return data, energy


def exposure_ratio(signal, low_loss) -> float | None:
    """The core loss's exposure per pixel over the low loss's (dwell time x frames), or None
    when either is not recorded (Dual EELS records the low loss with a shorter exposure)."""
    try:
        core = signal.get_acquisition_parameter("dwell_time_s")
        core *= signal.get_acquisition_parameter("n_frames")
        low = low_loss.get_acquisition_parameter("dwell_time_s")
        low *= low_loss.get_acquisition_parameter("n_frames")
    except (MissingMetadataError, AttributeError):
        return None
    return float(core / low)


def is_separate_low_loss(signal, low_loss) -> bool:
    """True for one low-loss spectrum given for a core-loss map (used for every pixel)."""
    return (
        low_loss.axes_manager.navigation_dimension == 0
        and signal.axes_manager.navigation_dimension > 0
    )
