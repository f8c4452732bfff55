"""Dose-fractionated acquisitions: edge signals against cumulative dose, extrapolated to zero.

Model: an element's areal density decays with the cumulative dose D as
``n(D) = n0 * (floor + (1 - floor) * exp(-D / D_c))`` (mass loss toward a residual fraction).
A frame k of dose d covers doses ``[k d, (k + 1) d]`` and records the average over that range,
``h_k = floor + (1 - floor) * (D_c / d) * (exp(-k d / D_c) - exp(-(k + 1) d / D_c))``.

The critical dose ``D_c`` (and the floor) are shared by all pixels of an edge -- they belong to
the material -- while the zero-dose signal ``A_p`` is per pixel. For given ``(D_c, floor)`` the
amplitudes have the weighted-least-squares closed form, so only two parameters are optimised.
The 95 % interval of ``D_c`` is the profile-likelihood interval (``Delta chi2 = 3.84``, scaled by
the reduced chi-square when it exceeds 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

__all__ = ["DoseDecayFit", "fit_dose_decay", "frame_mean_remaining"]

_CHI2_95 = 3.841458820694124  # chi-square quantile, 1 degree of freedom, 0.95


def frame_mean_remaining(
    n_frames: int, frame_dose: float, critical_dose: float | None, floor: float = 0.0
) -> NDArray:
    """Mean remaining fraction of an element during each frame (ones without damage)."""
    if critical_dose is None:
        return np.ones(n_frames)
    start = np.arange(n_frames) * frame_dose
    mean_decay = (critical_dose / frame_dose) * (
        np.exp(-start / critical_dose) - np.exp(-(start + frame_dose) / critical_dose)
    )
    return floor + (1.0 - floor) * mean_decay


@dataclass
class DoseDecayFit:
    """Result of :func:`fit_dose_decay`.

    Attributes
    ----------
    critical_dose : float
        D_c in e/Å².
    critical_dose_ci95 : (float, float)
        Profile-likelihood 95 % interval (``inf`` where the data do not bound it).
    floor : float
        Residual fraction at infinite dose (0 when not fitted).
    zero_dose, zero_dose_se : ndarray (n_pixels,)
        Extrapolated zero-dose signal per pixel and its standard error (given D_c).
    reduced_chi2 : float
        chi-square per degree of freedom at the optimum.
    """

    critical_dose: float
    critical_dose_ci95: tuple[float, float]
    floor: float
    zero_dose: NDArray
    zero_dose_se: NDArray
    reduced_chi2: float


def _amplitudes(signal, weight, h):
    num = (weight * signal * h[:, None]).sum(axis=0)
    den = (weight * h[:, None] ** 2).sum(axis=0)
    amp = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return amp, den


def _chi2(signal, weight, frame_dose, log_dc, floor):
    h = frame_mean_remaining(signal.shape[0], frame_dose, float(np.exp(log_dc)), floor)
    amp, _ = _amplitudes(signal, weight, h)
    return float((weight * (signal - amp * h[:, None]) ** 2).sum())


def fit_dose_decay(
    signal: NDArray, variance: NDArray, frame_dose: float, fit_floor: bool = True
) -> DoseDecayFit:
    """Fit the decay of per-frame edge signals with cumulative dose.

    Parameters
    ----------
    signal, variance : ndarray (n_frames, n_pixels)
        Background-subtracted integrated edge signal of each frame and pixel, and its variance.
    frame_dose : float
        Dose of one frame (e/Å²).
    fit_floor : bool
        Fit a residual fraction; otherwise the decay goes to zero.

    Returns
    -------
    DoseDecayFit
    """
    s = np.asarray(signal, dtype=float)
    v = np.asarray(variance, dtype=float)
    if s.ndim != 2 or s.shape != v.shape:
        raise ValueError("signal and variance must both have shape (n_frames, n_pixels)")
    if s.shape[0] < 3:
        raise ValueError(f"a decay fit needs at least 3 frames, got {s.shape[0]}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("signals must be finite and variances finite and positive")
    if not (np.isfinite(frame_dose) and frame_dose > 0):
        raise ValueError(f"frame_dose must be positive, got {frame_dose!r}")
    w = 1.0 / v
    n_frames, n_pixels = s.shape
    lo, hi = np.log(frame_dose / 50.0), np.log(frame_dose * n_frames * 200.0)

    def best_floor(log_dc: float) -> tuple[float, float]:
        if not fit_floor:
            return 0.0, _chi2(s, w, frame_dose, log_dc, 0.0)
        res = optimize.minimize_scalar(
            lambda f: _chi2(s, w, frame_dose, log_dc, f),
            bounds=(0.0, 0.99),
            method="bounded",
            options={"xatol": 1e-6},
        )
        return float(res.x), float(res.fun)

    grid = np.linspace(lo, hi, 60)
    profile = np.array([best_floor(g)[1] for g in grid])
    start = int(np.argmin(profile))
    bracket = (grid[max(start - 1, 0)], grid[min(start + 1, grid.size - 1)])
    res = optimize.minimize_scalar(
        lambda g: best_floor(g)[1], bounds=bracket, method="bounded", options={"xatol": 1e-8}
    )
    log_dc = float(res.x)
    floor, chi2_min = best_floor(log_dc)
    dof = max(n_frames * n_pixels - n_pixels - (2 if fit_floor else 1), 1)
    reduced = chi2_min / dof
    threshold = chi2_min + _CHI2_95 * max(reduced, 1.0)

    def excess(g: float) -> float:
        return best_floor(g)[1] - threshold

    ci = []
    for edge in (lo, hi):
        if excess(edge) < 0:
            ci.append(0.0 if edge == lo else np.inf)
        else:
            a, b = sorted((edge, log_dc))
            ci.append(float(np.exp(optimize.brentq(excess, a, b, xtol=1e-10))))
    h = frame_mean_remaining(n_frames, frame_dose, float(np.exp(log_dc)), floor)
    amp, den = _amplitudes(s, w, h)
    std = np.sqrt(max(reduced, 1.0) / np.where(den > 0, den, np.nan))
    return DoseDecayFit(float(np.exp(log_dc)), (ci[0], ci[1]), floor, amp, std, reduced)
