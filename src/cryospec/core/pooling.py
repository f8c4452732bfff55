"""Dose-aware fits: the background shape from a neighbourhood grown until it holds enough counts.

At low dose a single pixel's background windows hold too few counts to fix the shape of the
background (the exponent r). Here the shape is fitted on the summed counts of a square (or
segment) neighbourhood whose half-width grows until it holds a target number of counts, and the
amplitude stays per pixel; the covariance carries the pooled shape's error.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cryospec.core.background import (
    DEFAULT_LCPL_EXPONENTS,
    BackgroundFit,
    default_reference_eV,
    fit_background,
    poisson_deviance,
)
from cryospec.core.poisson_fit import PowerLawEdgesFit, fit_power_law_with_edges

__all__ = [
    "box_sum",
    "fit_background_dose_aware",
    "fit_power_law_with_edges_pooled",
    "neighbourhood_radius",
]


def box_sum(values: NDArray, radius: int, n_nav: int) -> NDArray:
    """Sum over a (2r+1)-wide square (or segment) of navigation pixels, zero outside."""
    out = values
    for axis in range(n_nav):
        padded = np.concatenate(
            [np.zeros_like(np.take(out, [0], axis=axis)), np.cumsum(out, axis=axis)], axis=axis
        )
        size = out.shape[axis]
        hi = np.minimum(np.arange(size) + radius + 1, size)
        lo = np.maximum(np.arange(size) - radius, 0)
        out = np.take(padded, hi, axis=axis) - np.take(padded, lo, axis=axis)
    return out


def neighbourhood_radius(window_totals: NDArray, target: float, max_radius: int) -> NDArray:
    """Smallest square half-width r such that the (2r+1)^k neighbourhood holds ``target`` counts.

    Parameters
    ----------
    window_totals : ndarray (ny, nx) or (n,)
        Counts in the background windows per pixel.
    target : float
        Counts wanted.
    max_radius : int
        Largest radius tried; pixels that never reach the target get it.
    """
    totals = np.asarray(window_totals, dtype=float)
    radius = np.full(totals.shape, max_radius, dtype=int)
    pending = np.ones(totals.shape, dtype=bool)
    for r in range(max_radius + 1):
        reached = pending & (box_sum(totals, r, totals.ndim) >= target)
        radius[reached] = r
        pending &= ~reached
        if not pending.any():
            break
    return radius


def fit_background_dose_aware(
    counts: ArrayLike,
    energy: ArrayLike,
    target: float,
    model: str = "power_law",
    estimator: str = "ml",
    exponents: tuple[float, ...] = DEFAULT_LCPL_EXPONENTS,
    max_radius: int | None = None,
) -> tuple[BackgroundFit, NDArray]:
    """Shape from a neighbourhood grown until it holds ``target`` counts; amplitude per pixel.

    Parameters
    ----------
    counts : array_like (ny, nx, n_window) or (n, n_window)
        Electron counts in the background windows of a map or line scan.
    energy : array_like (n_window,)
        Their energies.
    target : float
        Counts (electrons) the windows of the pooled neighbourhood must hold.
    model, estimator, exponents : see :func:`fit_background`.
    max_radius : int, optional
        Largest neighbourhood half-width (default: the largest navigation dimension).

    Returns
    -------
    fit : BackgroundFit
        Per-pixel amplitude on the pooled shape; the covariance includes the shape's.
    radius : ndarray of int
        Neighbourhood half-width used per pixel (0: the pixel alone).
    """
    n = np.asarray(counts, dtype=float)
    if n.ndim not in (2, 3):
        raise ValueError(
            "the dose-aware fit needs a line scan or a map: counts of shape "
            f"(n, channels) or (ny, nx, channels), got {n.shape}"
        )
    if not np.isfinite(target) or target <= 0:
        raise ValueError(f"count target must be positive, got {target!r}")
    n_nav = n.ndim - 1
    max_radius = max(n.shape[:-1]) if max_radius is None else int(max_radius)
    totals = n.sum(axis=-1)
    radius = neighbourhood_radius(totals, target, max_radius)
    k = len(exponents) if model == "lcpl" else 1
    shape = np.empty((*totals.shape, k))
    shape_var = np.zeros(totals.shape)
    for r in np.unique(radius):
        where = radius == r
        pooled = box_sum(n, int(r), n_nav)[where]
        pooled_fit = fit_background(pooled, energy, model, estimator, exponents=exponents)
        if model == "lcpl":
            shape[where] = np.nan_to_num(pooled_fit.shape_parameter, nan=1.0 / k)
        else:
            shape[where, 0] = pooled_fit.shape_parameter
            shape_var[where] = pooled_fit.covariance[..., 1, 1]
    fixed = shape if model == "lcpl" else shape[..., 0]
    fit = fit_background(
        n,
        energy,
        model,
        estimator,
        shape=fixed,
        shape_covariance=None if model == "lcpl" else shape_var,
        exponents=exponents,
    )
    return fit, radius


def fit_power_law_with_edges_pooled(
    counts: NDArray,
    energy: NDArray,
    shapes: NDArray,
    anchor: NDArray,
    radius: NDArray,
) -> PowerLawEdgesFit:
    """Dose-aware version: the shape (r and the mix of power law and tails) from each pixel's
    neighbourhood of half-width ``radius``; the overall amplitude per pixel (closed form)."""
    n = np.asarray(counts, dtype=float)
    n_nav = n.ndim - 1
    shapes = np.broadcast_to(shapes, (*n.shape[:-1], *np.shape(shapes)[-2:]))
    ref = default_reference_eV(energy, "power_law")
    k = shapes.shape[-1] + 2
    params = np.empty((*n.shape[:-1], k))
    rel_cov = np.empty((*n.shape[:-1], k, k))
    linear = np.ones(k, dtype=bool)
    linear[1] = False
    for rad in np.unique(radius):
        where = radius == rad
        size = box_sum(np.ones(n.shape[:-1]), int(rad), n_nav)[where]
        pooled_counts = box_sum(n, int(rad), n_nav)[where]
        pooled_shapes = box_sum(shapes, int(rad), n_nav)[where] / size[:, None, None]
        fit = fit_power_law_with_edges(pooled_counts, energy, pooled_shapes, anchor, ref)
        params[where] = fit.params
        # Covariance relative to the linear coefficients (absolute for r), so that it can be
        # carried over to a pixel whose coefficients are the pooled ones scaled.
        scale = np.where(linear, fit.params, 1.0)
        inverse = np.where(scale != 0, 1.0 / np.where(scale != 0, scale, 1.0), 0.0)
        rel_cov[where] = fit.covariance * inverse[:, :, None] * inverse[:, None, :]
    # Per pixel: the pooled mixture scaled to the pixel's own counts.
    pooled = PowerLawEdgesFit(ref, params, np.zeros(()), np.zeros(()), 0, np.ones((), bool))
    model = pooled.evaluate(energy, shapes)
    total = model.sum(-1)
    factor = np.where(total > 0, n.sum(-1) / np.where(total > 0, total, 1.0), 0.0)
    params = params.copy()
    params[..., linear] *= factor[..., None]
    result = PowerLawEdgesFit(ref, params, np.zeros(()), np.zeros(()), 0, np.ones((), bool))
    # Covariance: the pooled shape's relative covariance, plus the Poisson error of the scale.
    scale = np.where(linear, params, 1.0)
    covariance = rel_cov * scale[..., :, None] * scale[..., None, :]
    lin = params * linear
    n_sum = np.maximum(n.sum(-1), 1e-300)
    covariance = covariance + lin[..., :, None] * lin[..., None, :] / n_sum[..., None, None]
    result.covariance = covariance
    mu = np.maximum(result.evaluate(energy, shapes), 1e-6)
    result.deviance = poisson_deviance(n, mu)
    result.dof = np.size(energy) - 1
    result.converged = n.sum(-1) > 0
    return result
