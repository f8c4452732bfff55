"""The low loss given beside a core loss: its spectra as arrays, matched to the core-loss pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from cryospec._chunks import (
    broadcast_spectrum,
    compute_with_progress,
    is_lazy_array,
    map_spectra,
    signal_axis_in_one_chunk,
)
from cryospec.core.dose import MissingMetadataError
from cryospec.core.low_loss import (
    LOW_LOSS_CHECKS,
    LOW_LOSS_SUMMARY,
    dark_level,
    low_loss_checks,
    low_loss_summary,
    resample_counts,
    resampled_axis,
    truncated_tail,
)
from cryospec.signals.axis_checks import energy_axis
from cryospec.signals.count_validation import check_real, pixel_name

__all__ = [
    "check_low_loss",
    "exposure_ratio",
    "is_separate_low_loss",
    "low_loss_array",
    "low_loss_summary_maps",
]

# A negative dark level that changes the low loss's total counts by more than this share is an
# error (t/lambda and the incident electrons follow the total); a positive one (a residual
# dark level, or a zero-loss tail) by more than the second, a warning.
NEGATIVE_DARK_SHARE = 0.01
POSITIVE_DARK_SHARE = 0.05
DARK_SIGNIFICANCE = 5.0
# A zero-loss peak of at least SATURATION_MIN_COUNTS whose largest count is held by this many
# channels or more is saturated (a Poisson peak of 1000 counts ties 4 times in ~1e-6 of spectra).
SATURATED_CHANNELS = 4
SATURATION_MIN_COUNTS = 1000.0
# The relative underestimate of t/lambda, from the intensity beyond the low loss's axis end,
# above which the axis ends too early (real low losses to 270-550 eV: 1.1-1.4 %).
TRUNCATION_ERROR = 0.03


def low_loss_array(signal, low_loss) -> tuple[Any, np.ndarray]:
    """The low loss's spectra matched to the core loss's pixels, on the core loss's dispersion.

    A low loss recorded at another dispersion is resampled onto channels of the core loss's
    step (counts conserved, :func:`cryospec.core.low_loss.resample_counts`); one spectrum given
    for a map is broadcast to every pixel.
    """
    check_real(low_loss.data, "the low loss")
    ll_axis = low_loss.axes_manager.signal_axes[0]
    energy = energy_axis(low_loss, "the low loss's energy axis")
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


def _finite_sum(data, axes):
    """The sum over ``axes`` of the finite values (NaN and inf as 0; Dask-friendly)."""
    return np.where(np.isfinite(data), data, 0.0).sum(axis=axes)


def check_low_loss(data, energy: np.ndarray, calibrated: bool = True) -> list[str]:
    """Check a low loss (``low_loss_array``'s output) before its numbers are used: an axis
    that holds 0 eV, finite counts, a zero-loss peak inside the axis (near 0 eV when
    ``calibrated``), no negative dark level; returns warnings (a positive dark level, an axis
    ending where the spectrum is still high).

    Raises
    ------
    ValueError
        With the cause, the place (pixel, energy) and the fix.
    """
    check_real(data, "the low loss")
    e = np.asarray(energy, dtype=float)
    step = float(e[1] - e[0]) if e.size > 1 else 0.0
    if e.size < 8 or e[0] > -3 * step or e[-1] < 3 * step:
        raise ValueError(
            f"the low loss's energy axis runs {e[0]:g} to {e[-1]:g} eV: it does not hold a "
            "zero-loss peak at 0 eV with channels on both sides. Is it a core loss, or a low "
            "loss cut above its zero-loss peak? Give the low loss of the same area (axis "
            "through 0 eV), or calibrate its axis"
        )
    if isinstance(data, np.ndarray) and data.ndim > 1 and not any(data.strides[:-1]):
        data = data[(0,) * (data.ndim - 1)][None]  # one spectrum broadcast to every pixel
    axes = tuple(range(data.ndim - 1))
    checks, summed = compute_with_progress(
        map_spectra(low_loss_checks, data, n_out=len(LOW_LOSS_CHECKS), dtype=float),
        _finite_sum(data, axes),
        show_progressbar=False,
    )
    n_bad, first_bad, peak, at_peak, top = np.moveaxis(np.asarray(checks), -1, 0)
    if n_bad.any():
        index = np.unravel_index(int(np.argmax(n_bad > 0)), n_bad.shape)
        raise ValueError(
            f"the low loss holds {int(n_bad.sum())} NaN or infinite values (the first at "
            f"{e[int(first_bad[index])]:.2f} eV in {pixel_name(index)}): its total counts, "
            "t/lambda and plural scattering need every channel; replace them (e.g. by "
            "interpolation) or crop them away"
        )
    at_end = (peak == 0) | (peak == e.size - 1)
    if at_end.any():
        index = np.unravel_index(int(np.argmax(at_end)), at_end.shape)
        raise ValueError(
            f"the low loss has no zero-loss peak in {pixel_name(index)}: its largest count is at "
            f"the end of the axis ({e[int(peak[index])]:g} eV of {e[0]:g} to {e[-1]:g} eV). "
            "Is it a core loss, or a low loss cut through its zero-loss peak?"
        )
    if calibrated:
        off = np.abs(e[peak.astype(int)])
        if float(off.max()) > max(1.0, 3 * step):
            index = np.unravel_index(int(np.argmax(off)), off.shape)
            raise ValueError(
                f"the low loss is not calibrated: its zero-loss peak sits up to "
                f"{float(off.max()):.2f} eV from 0 eV ({pixel_name(index)}); align it first "
                "(core_loss.align_zero_loss(low_loss))"
            )
    n = int(np.prod(data.shape[:-1], dtype=int)) or 1
    level, se, share = dark_level(summed, e, n)
    warnings = []
    saturated = (at_peak >= SATURATED_CHANNELS) & (top >= SATURATION_MIN_COUNTS)
    if saturated.any():
        index = np.unravel_index(int(np.argmax(saturated)), saturated.shape)
        warnings.append(
            f"the zero-loss peak is saturated in {int(saturated.sum())} of {saturated.size} "
            f"spectra (the first is {pixel_name(index)}: {int(at_peak[index])} channels at the "
            f"same largest count, {top[index]:.6g}): there t/lambda is overestimated and the "
            "incident electrons underestimated; record the low loss with a shorter exposure"
        )
    significant = np.isfinite(level) and abs(level) > DARK_SIGNIFICANCE * se
    if significant and share < -NEGATIVE_DARK_SHARE:
        raise ValueError(
            f"the low loss has a negative dark level: on the gain side of its zero-loss peak, "
            f"where no electron arrives, its counts average {level:.3g} per channel "
            f"({abs(level) / se:.0f} standard errors below 0), {100 * share:.1f} % of its total "
            "counts: a dark reference subtracted twice or with an offset. t/lambda and the "
            "incident electrons would be wrong; correct the dark level first"
        )
    if significant and share > POSITIVE_DARK_SHARE:
        warnings.append(
            f"the low loss's counts on the gain side of its zero-loss peak, where no electron "
            f"arrives, average {level:.3g} per channel ({100 * share:.0f} % of its total "
            "counts): a dark level not subtracted, or a long zero-loss tail; t/lambda and the "
            "incident electrons are overestimated by up to that share"
        )
    share, tau_error = truncated_tail(summed, e)
    if tau_error > TRUNCATION_ERROR:
        warnings.append(
            f"the low loss ends at {e[-1]:g} eV while it still holds counts: about "
            f"{100 * share:.1f} % of its intensity lies beyond (its last 5 eV extrapolated as "
            f"E^-3), so t/lambda is underestimated by up to about {100 * tau_error:.0f} % and the "
            "incident electrons and plural scattering follow; record the low loss to higher "
            "energy"
        )
    return warnings


def low_loss_summary_maps(
    data, energy: np.ndarray, show_progressbar: bool | None = False
) -> dict[str, np.ndarray]:
    """:func:`cryospec.core.low_loss.low_loss_summary` of every spectrum of ``data`` (lazy or
    not), one array per quantity of :data:`~cryospec.core.low_loss.LOW_LOSS_SUMMARY`."""
    summary = map_spectra(
        low_loss_summary, data, n_out=len(LOW_LOSS_SUMMARY), dtype=float, energy=energy
    )
    computed = compute_with_progress(summary, show_progressbar=show_progressbar)
    return dict(zip(LOW_LOSS_SUMMARY, np.moveaxis(np.asarray(computed), -1, 0), strict=True))
