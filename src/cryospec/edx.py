"""EDX line intensities with a Poisson maximum-likelihood background, and Cliff-Lorimer errors.

At low dose an EDX line holds a few to a few tens of counts per pixel. Its background (the
bremsstrahlung) is fitted on side windows around the line by Poisson maximum likelihood
(:func:`cryospec.background.fit_background`, exponential model: locally the continuum is
smooth), skipping the channels of every other line of the sample, and extrapolated under the
line. The line intensity is the integrated excess; its variance is the counts' Poisson
variance plus the extrapolated background's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .background import fit_background, fit_background_dose_aware, window_sum_variance

__all__ = ["cliff_lorimer_atomic", "fwhm_keV", "line_intensity", "line_windows"]

MN_KA_KEV = 5.8987


def fwhm_keV(line_keV: float, resolution_mn_ka_eV: float) -> float:
    """Detector FWHM (keV) at a line energy, from the Mn Ka resolution (Fano law, 2.5 eV)."""
    squared = resolution_mn_ka_eV**2 + 2.5 * (line_keV - MN_KA_KEV) * 1e3
    if squared <= 0:
        raise ValueError(f"no detector resolution can be derived at {line_keV} keV")
    return float(np.sqrt(squared) * 1e-3)


def line_windows(
    energy: NDArray,
    line_keV: float,
    fwhm: float,
    other_lines: list[tuple[float, float]] = (),
    integration_fwhm: float = 1.2,
) -> tuple[NDArray, NDArray]:
    """Channel masks of a line's integration window and of its background side windows.

    The integration window is ``integration_fwhm`` FWHM wide; each side window is 1 FWHM wide
    and starts 1 FWHM from the line. Channels within ``integration_fwhm / 2 + 0.5`` FWHM of any
    of ``other_lines`` (energy, FWHM) are left out of the side windows.
    """
    e = np.asarray(energy, dtype=float)
    half = integration_fwhm / 2 * fwhm
    integration = np.abs(e - line_keV) <= half
    side = (np.abs(e - line_keV) >= fwhm) & (np.abs(e - line_keV) <= 2 * fwhm)
    for other, other_fwhm in other_lines:
        side &= np.abs(e - other) > (integration_fwhm / 2 + 0.5) * other_fwhm
    return integration, side


def line_intensity(
    counts: NDArray,
    energy: NDArray,
    integration: NDArray,
    side: NDArray,
    count_target: float | None = None,
) -> tuple[NDArray, NDArray]:
    """Background-subtracted line intensity and its variance, every pixel at once.

    Parameters
    ----------
    counts : ndarray (..., n)
        Counts (Poisson; detector gain 1).
    energy : ndarray (n,)
        Energy axis (keV).
    integration, side : ndarray of bool (n,)
        Window masks (:func:`line_windows`).
    count_target : float, optional
        Dose-aware background: the side-window shape from a neighbourhood holding this many
        counts (maps and line scans).
    """
    n = np.asarray(counts, dtype=float)
    if side.sum() < 5:
        raise ValueError("fewer than 5 background channels beside the line")
    if count_target is not None and n.ndim in (2, 3):
        fit, _ = fit_background_dose_aware(
            n[..., side], energy[side], count_target, model="exponential"
        )
    else:
        fit = fit_background(n[..., side], energy[side], model="exponential")
    under = fit.evaluate(energy[integration]).sum(-1)
    gross = n[..., integration].sum(-1)
    variance = gross + window_sum_variance(fit, energy[integration])
    return gross - under, np.where(np.isfinite(variance), variance, gross + under)


def cliff_lorimer_atomic(
    intensity: NDArray, variance: NDArray, k_factors: NDArray, atomic_weights: NDArray
) -> tuple[NDArray, NDArray]:
    """Atomic fractions from line intensities (..., J) with k-factors, and their errors.

    Cliff-Lorimer (weight-fraction convention, as exspy): ``w_i ~ k_i I_i``, then
    ``x_i ~ w_i / A_i``, normalised; the standard errors by the delta method for independent
    line intensities.
    """
    i = np.asarray(intensity, dtype=float)
    a = np.asarray(k_factors, dtype=float) / np.asarray(atomic_weights, dtype=float)
    amount = i * a
    total = amount.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = amount / total
        j = i.shape[-1]
        # d x_i / d I_k = a_k (delta_ik - x_i) / T
        jac = (np.eye(j) - fraction[..., :, None]) * a / total[..., None]
        var = np.einsum("...ik,...k->...i", jac**2, np.asarray(variance, dtype=float))
    return fraction, np.sqrt(np.clip(var, 0, None))
