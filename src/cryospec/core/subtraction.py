"""Background subtraction kernels: evaluate a fitted background and subtract it, block by block.

A fitted background (:mod:`.background` models, or a power law plus the tails of preceding
edges, :mod:`.poisson_fit`) is described by an *evaluator* that turns per-pixel parameters into
the background and its variance on an energy axis. The block kernels take arrays of shape
``(..., n_channels)`` and are mapped over a map's pixels by the signal layer.
"""

from __future__ import annotations

import numpy as np

from cryospec.core.background import (
    background_variance,
    evaluate_background,
    fit_background,
    window_sum_variance,
)
from cryospec.core.edge_shapes import DEFAULT_CROSS_SECTION, edge_shapes
from cryospec.core.poisson_fit import PowerLawEdgesFit, fit_power_law_read_noise

__all__ = [
    "EdgeTailBackground",
    "SimpleBackground",
    "fit_window_block",
    "subtract_block",
    "variance_block",
    "window_electrons",
    "window_mask",
]


def window_mask(energy: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(energy.shape, dtype=bool)
    for lo, hi in windows:
        mask |= (energy >= lo) & (energy <= hi)
    return mask


class SimpleBackground:
    """Evaluates the power-law / exponential / LCPL background of per-pixel parameters."""

    def __init__(self, model: str, reference_eV: float, exponents: tuple[float, ...]):
        self.model, self.reference_eV, self.exponents = model, reference_eV, exponents

    def background(self, params, extra, energy, dtype):
        return evaluate_background(
            params, energy, self.model, self.reference_eV, self.exponents, dtype
        )

    def variance(self, params, covariance, extra, energy, dtype):
        return background_variance(
            params, covariance, energy, self.model, self.reference_eV, self.exponents, dtype
        )

    def window_sum_variance(self, fit, extra, energy, window):
        """Variance (electrons²) of the background summed over the channels ``window``."""
        return window_sum_variance(fit, energy[window])


class EdgeTailBackground:
    """Evaluates power law + preceding-edge tails (:mod:`cryospec.core.poisson_fit`)."""

    def __init__(
        self,
        reference_eV,
        edges,
        microscope,
        full_energy,
        start,
        ll_energy=None,
        cross_section: str = DEFAULT_CROSS_SECTION,
    ):
        self.reference_eV, self.edges, self.microscope = reference_eV, edges, microscope
        self.full_energy, self.start, self.ll_energy = full_energy, start, ll_energy
        self.cross_section = cross_section

    def shapes(self, extra):
        common = (self.full_energy, self.edges, *self.microscope)
        if self.ll_energy is None:
            return edge_shapes(*common, cross_section=self.cross_section)[self.start :]
        shapes = edge_shapes(
            *common,
            low_loss=extra[0],
            low_loss_energy=self.ll_energy,
            cross_section=self.cross_section,
        )
        return shapes[..., self.start :, :]

    def _fit(self, params, covariance=None):
        cov = np.zeros(()) if covariance is None else covariance
        return PowerLawEdgesFit(self.reference_eV, params, cov, np.zeros(()), 0, np.ones(()))

    def background(self, params, extra, energy, dtype):
        return self._fit(params).evaluate(energy, self.shapes(extra)).astype(dtype)

    def variance(self, params, covariance, extra, energy, dtype):
        return self._fit(params, covariance).variance(energy, self.shapes(extra)).astype(dtype)

    def window_sum_variance(self, fit, extra, energy, window):
        """Variance (electrons²) of the background summed over the channels ``window``."""
        shapes = self.shapes(extra)[..., window[self.start :], :]
        return fit.window_sum_variance(energy[window], shapes)


def subtract_block(block, params, *extra, energy, start, gain, evaluator):
    dtype = np.result_type(block.dtype, np.float32)
    background = evaluator.background(params, extra, energy[start:], dtype)
    out = np.zeros(block.shape, dtype=dtype)
    out[..., start:] = block[..., start:] - gain * background
    return out


def variance_block(
    block,
    params,
    covariance,
    *extra,
    energy,
    start,
    gain,
    read_noise,
    evaluator,
    counts_are_variance,
):
    dtype = np.result_type(block.dtype, np.float32)
    k = params.shape[-1]
    cov = covariance.reshape(*covariance.shape[:-1], k, k)
    bg_var = evaluator.variance(params, cov, extra, energy[start:], dtype)
    if counts_are_variance:
        counts_var = block[..., start:]
    else:
        counts_var = gain * np.clip(block[..., start:], 0, None) + read_noise**2
    out = np.zeros(block.shape, dtype=dtype)
    out[..., start:] = counts_var + gain**2 * bg_var
    return out


def window_electrons(
    window: np.ndarray, gain: float, windows, negative: str, read_noise: float = 0.0
) -> np.ndarray:
    """Checked window counts, in electrons (NaN/inf refused; negatives refused, clipped, or
    kept for the shifted-Poisson fit when ``negative="shift"`` and a ``read_noise`` is known)."""
    if not np.all(np.isfinite(window)):
        bad = int((~np.isfinite(window)).sum())
        raise ValueError(f"{bad} NaN or inf values in the background windows {windows}")
    if np.any(window < 0):
        found = f"{int((window < 0).sum())} negative counts in the background windows"
        if negative == "raise":
            raise ValueError(
                f"{found} (a dark-subtracted detector?): pass negative='shift' to fit them "
                "with the read noise, negative='clip' to fit max(counts, 0), or correct the "
                "dark offset first"
            )
        if negative == "shift" and not read_noise > 0:
            raise ValueError(
                f"{found}: negative='shift' fits them with the detector's read noise, with "
                "the power-law maximum-likelihood background; give read_noise= (counts) or "
                "set_noise_model(read_noise=...) (a lazy signal is read once, so it cannot "
                "be estimated from them first), or pass negative='clip'"
            )
        if negative == "clip":
            window = np.clip(window, 0, None)
    return window / gain


def fit_window_block(block, *, mask, energy, gain, model, estimator, exponents, ref, check):
    electrons = window_electrons(np.asarray(block[..., mask], dtype=float), gain, **check)
    # the check carries a read noise only for the shifted-Poisson fit (negative="shift")
    read_noise = check["read_noise"] / gain
    if read_noise > 0:
        fit = fit_power_law_read_noise(electrons, energy, read_noise, reference_eV=ref)
    else:
        fit = fit_background(
            electrons, energy, model, estimator, exponents=exponents, reference_eV=ref
        )
    k = fit.params.shape[-1]
    return np.concatenate([fit.params, fit.covariance.reshape(*fit.params.shape[:-1], k * k)], -1)
