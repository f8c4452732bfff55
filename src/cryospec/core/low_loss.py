"""Low-loss kernels: the zero-loss peak, the log-ratio thickness and a one-pass summary."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "LOW_LOSS_SUMMARY",
    "log_ratio_thickness",
    "low_loss_summary",
    "zero_loss_centre",
    "zero_loss_peak",
]

# The quantities of :func:`low_loss_summary`, in the order of its last axis.
LOW_LOSS_SUMMARY = ("zero_loss_centre_eV", "total", "plasmon_peak_eV", "t_over_lambda")


def zero_loss_peak(low_loss: NDArray, energy: NDArray) -> tuple[NDArray, NDArray]:
    """Centre (eV) and integrated intensity of the zero-loss peak of every spectrum.

    The centre is the maximum refined by a parabola through its neighbours; the intensity
    mirrors the peak's low-energy side (``2 x counts below the centre + the centre channel``),
    which needs no threshold between the peak and the plasmons.

    Raises
    ------
    ValueError
        If a spectrum's maximum is at the edge of the axis or the peak has no low-energy side.
    """
    ll = np.asarray(low_loss, dtype=float)
    e = np.asarray(energy, dtype=float)
    step = float(e[1] - e[0])
    top = np.argmax(ll, axis=-1)
    if np.any(top == 0) or np.any(top == e.size - 1):
        raise ValueError("the zero-loss peak was not found: a spectrum peaks at the axis end")
    left = np.take_along_axis(ll, (top - 1)[..., None], -1)[..., 0]
    mid = np.take_along_axis(ll, top[..., None], -1)[..., 0]
    right = np.take_along_axis(ll, (top + 1)[..., None], -1)[..., 0]
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    centre = e[top] + np.clip(offset, -0.5, 0.5) * step
    below = np.arange(e.size) < top[..., None]
    if np.any(below.sum(-1) < 3):
        raise ValueError("the zero-loss peak was not found: no channels below its maximum")
    intensity = 2.0 * np.where(below, ll, 0.0).sum(-1) + mid
    return centre, intensity


def log_ratio_thickness(low_loss: NDArray, energy: NDArray) -> NDArray:
    """Relative thickness t/lambda = ln(total / zero-loss) of every low-loss spectrum."""
    _, zero_loss = zero_loss_peak(low_loss, energy)
    total = np.asarray(low_loss, dtype=float).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(total / zero_loss)


def low_loss_summary(spectra: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Per spectrum, in one pass: zero-loss centre, total counts, energy of the maximum above
    3 eV (the first plasmon) and t/lambda (log-ratio), stacked on the last axis (in the order
    of :data:`LOW_LOSS_SUMMARY`)."""
    centre, _ = zero_loss_peak(spectra, energy)
    total = np.asarray(spectra, dtype=float).sum(-1)
    above = energy > 3.0
    plasmon = energy[above][np.argmax(spectra[..., above], axis=-1)]
    tau = log_ratio_thickness(spectra, energy)
    return np.stack([centre, total, plasmon, tau], axis=-1)


def zero_loss_centre(spectra: NDArray, energy: NDArray) -> NDArray:
    """Centre (eV) of the zero-loss peak of every spectrum (see :func:`zero_loss_peak`)."""
    return zero_loss_peak(spectra, energy)[0]
