"""How many interfaces a profile holds: multilayer fits with 1..4 steps compared by BIC.

Least squares with several steps has local minima; :func:`multilayer_candidates` starts each
n-layer fit from the data and from the (n-1)-layer optimum with one interface added where its
residual is largest, and keeps only fits whose layers are resolved (thicker than their
interfaces' widths) and whose every step is significant (the guard against interfaces the
data do not show). :func:`lowest_bic` takes among the acceptable fits the lowest BIC.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cryospec.core.gradient_models import plateau_levels
from cryospec.core.gradients import GradientFit, fit_gradient

__all__ = ["lowest_bic", "multilayer_candidates", "select_layers"]


def _layers_resolved(fit: GradientFit) -> bool:
    """True when every layer is thicker than the widths of its two interfaces: two steps closer
    than that are one step of another shape, and their distance is no thickness."""
    vector = fit._vector()
    n = fit.n_layers
    positions, sigmas = vector[:n], np.abs(vector[n : 2 * n])
    gaps = np.diff(positions)
    return bool(np.all(gaps > np.maximum(sigmas[:-1], sigmas[1:])))


def _steps_significant(fit: GradientFit) -> bool:
    """True when every step's amplitude is significant (:data:`.STEP_SIGNIFICANCE`): a fit
    with an interface the data do not show is no description with that many interfaces."""
    return all(s["status"] != "no step" for s in fit.steps)


def _grown_starts(x: NDArray, y: NDArray, previous: GradientFit, n_new: int = 4) -> list:
    """Starts for one more layer: ``previous``'s interfaces plus one at each of the ``n_new``
    places where its smoothed residual is largest."""
    vector = previous._vector()
    n = previous.n_layers
    positions, sigmas = list(vector[:n]), list(vector[n : 2 * n])
    residual = np.convolve(y - previous.evaluate(x), np.ones(5) / 5.0, mode="same")
    span = float(x[-1] - x[0])
    starts = []
    for i in np.argsort(np.abs(residual))[::-1]:
        if len(starts) == n_new:
            break
        if any(abs(x[i] - p) < span / 40 for p in positions) or not x[1] < x[i] < x[-2]:
            continue
        new_positions = np.array(sorted([*positions, float(x[i])]))
        order = np.argsort([*positions, float(x[i])])
        new_sigmas = np.array([*sigmas, span / 40.0])[order]
        starts.append(
            np.concatenate([new_positions, new_sigmas, plateau_levels(x, y, new_positions)])
        )
    return starts


def multilayer_candidates(
    x: NDArray, y: NDArray, variance: NDArray, max_layers: int = 4, probe_sigma: float = 0.0
) -> list[GradientFit]:
    """The best converged multilayer fit with 1..``max_layers`` steps whose layers are resolved
    (without intervals), by number of layers."""
    fits: list[GradientFit] = []
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    for n in range(1, max_layers + 1):
        if np.size(x) < 3 * n + 1 + 3:
            break
        # Several starts, the best kept: the data-driven one, and the (n-1)-layer optimum with
        # one interface added where its residual is largest (least squares with several steps
        # has local minima; a missed one would make the layer count depend on noise).
        starts: list[NDArray | None] = [None]
        if fits and fits[-1].n_layers == n - 1:
            starts += _grown_starts(x, y, fits[-1])
        candidates = []
        for start in starts:
            fit = fit_gradient(
                x, y, variance, model="multilayer", n_layers=n, probe_sigma=probe_sigma,
                start=start, intervals=False,
            )  # fmt: skip
            if fit.converged and _layers_resolved(fit) and (n == 1 or _steps_significant(fit)):
                candidates.append(fit)
        if candidates:
            fits.append(min(candidates, key=lambda f: f.chi2))
    return fits


def lowest_bic(fits: list[GradientFit]) -> GradientFit:
    """The fit to keep: the lowest BIC among those passing the goodness-of-fit tests (among
    all, when none does); on an exact tie, the one with fewer parameters."""
    pool = [f for f in fits if f.acceptable] or list(fits)
    return min(pool, key=lambda f: (f.bic, len(f.names)))


def select_layers(
    x: NDArray, y: NDArray, variance: NDArray, max_layers: int = 4, probe_sigma: float = 0.0
) -> tuple[GradientFit, list[GradientFit]]:
    """Fit 1..``max_layers`` steps and keep one by BIC (:func:`lowest_bic`).

    Returns
    -------
    best : GradientFit
    fits : list of GradientFit
        Every converged fit, by number of layers (for the comparison table).
    """
    fits = multilayer_candidates(x, y, variance, max_layers, probe_sigma)
    if not fits:
        raise ValueError("no multilayer fit converged")
    chosen = lowest_bic(fits)
    # Intervals for the chosen model only, starting from its optimum.
    best = fit_gradient(
        x,
        y,
        variance,
        model="multilayer",
        n_layers=chosen.n_layers,
        probe_sigma=probe_sigma,
        start=chosen._vector(),
    )
    return best, [best if f is chosen else f for f in fits]
