"""Gradient models of a concentration profile across an interphase (see :mod:`.gradients`):
the error-function step and its sums (multilayer), diffusion and exponential profiles, each with
an optional Gaussian probe, and the parameter names and starts their fits use."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__ = [
    "ANALYTIC_JACOBIAN",
    "GRADIENT_MODELS",
    "WIDTH_10_90",
    "diffusion_profile",
    "erf_step",
    "evaluate_model",
    "exponential_decay",
    "model_jacobian",
    "multilayer_profile",
    "parameter_names",
    "plateau_levels",
    "start_values",
    "unit_step",
]


GRADIENT_MODELS = ("erf", "multilayer", "diffusion", "exponential")


WIDTH_10_90 = 2.0 * np.sqrt(2.0) * special.erfinv(0.8)  # 10-90 % width of an erf step / sigma


def unit_step(x: NDArray, x0: NDArray | float, sigma: NDArray | float) -> NDArray:
    """Step from 0 to 1: the integral of a Gaussian of width ``sigma`` centred at ``x0``."""
    return 0.5 * (1.0 + special.erf((x - x0) / (np.sqrt(2.0) * sigma)))


def erf_step(
    x: NDArray, x0: float, sigma: float, c0: float, c1: float, probe_sigma: float = 0.0
) -> NDArray:
    """Error-function step from ``c0`` to ``c1`` at ``x0`` with Gaussian width ``sigma``."""
    width = np.sqrt(sigma**2 + probe_sigma**2)
    return c0 + (c1 - c0) * unit_step(np.asarray(x, dtype=float), x0, width)


def multilayer_profile(
    x: NDArray,
    positions: NDArray,
    sigmas: NDArray,
    levels: NDArray,
    probe_sigma: float = 0.0,
) -> NDArray:
    """Sum of error-function steps: ``len(levels) == len(positions) + 1`` plateaus."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, float(levels[0]))
    for k, (x0, sigma) in enumerate(zip(positions, sigmas, strict=True)):
        out = out + (levels[k + 1] - levels[k]) * unit_step(x, x0, np.hypot(sigma, probe_sigma))
    return out


def _convolve_probe(x: NDArray, profile, probe_sigma: float) -> NDArray:
    if probe_sigma <= 0:
        return profile(x)
    offsets = np.linspace(-4.0, 4.0, 33) * probe_sigma
    weights = np.exp(-0.5 * (offsets / probe_sigma) ** 2)
    weights /= weights.sum()
    return np.tensordot(weights, profile(x[None, :] - offsets[:, None]), axes=(0, 0))


def diffusion_profile(
    x: NDArray, x0: float, length: float, c0: float, c1: float, probe_sigma: float = 0.0
) -> NDArray:
    """``c1`` at and above ``x0``; ``c0 + (c1 - c0) erfc((x0 - x) / length)`` below."""
    x = np.asarray(x, dtype=float)

    def profile(u):
        return c0 + (c1 - c0) * special.erfc(np.clip(x0 - u, 0.0, None) / length)

    return _convolve_probe(x, profile, probe_sigma)


def exponential_decay(
    x: NDArray, x0: float, length: float, c0: float, c1: float, probe_sigma: float = 0.0
) -> NDArray:
    """``c1`` at and above ``x0``; ``c0 + (c1 - c0) exp(-(x0 - x) / length)`` below."""
    x = np.asarray(x, dtype=float)

    def profile(u):
        return c0 + (c1 - c0) * np.exp(-np.clip(x0 - u, 0.0, None) / length)

    return _convolve_probe(x, profile, probe_sigma)


def parameter_names(model: str, n_layers: int) -> tuple[str, ...]:
    if model == "multilayer":
        return (
            *(f"x0_{k}" for k in range(n_layers)),
            *(f"sigma_{k}" for k in range(n_layers)),
            *(f"level_{k}" for k in range(n_layers + 1)),
        )
    return ("x0", "sigma" if model == "erf" else "length", "c0", "c1")


def evaluate_model(model: str, n_layers: int, x: NDArray, p: NDArray, probe: float) -> NDArray:
    if model == "erf":
        return erf_step(x, p[0], p[1], p[2], p[3], probe)
    if model == "diffusion":
        return diffusion_profile(x, p[0], p[1], p[2], p[3], probe)
    if model == "exponential":
        return exponential_decay(x, p[0], p[1], p[2], p[3], probe)
    n = n_layers
    return multilayer_profile(x, p[:n], p[n : 2 * n], p[2 * n :], probe)


ANALYTIC_JACOBIAN = ("erf", "multilayer")
"""The models :func:`model_jacobian` differentiates (the others take finite differences)."""


def model_jacobian(
    model: str, n_layers: int, x: NDArray, p: NDArray, probe: float
) -> NDArray | None:
    """d model / d parameters on ``x``, shape (n, P), for the step models (``erf`` and
    ``multilayer``, whose steps are Gaussian integrals); None for the one-sided profiles, whose
    fits take finite differences (with the analytic derivatives their kink at ``x0`` led the
    optimiser to other minima, worse ones for P on the demo's narrow map)."""
    x = np.asarray(x, dtype=float)
    if model not in ANALYTIC_JACOBIAN:
        return None
    n = 1 if model == "erf" else n_layers
    positions, sigmas, levels = p[:n], p[n : 2 * n], p[2 * n :]
    jac = np.zeros((x.size, p.size))
    upper = np.ones(x.size)  # the step below level j: 1 under level 0
    for k in range(n):
        width = np.hypot(sigmas[k], probe)
        z = (x - positions[k]) / width
        density = np.exp(-0.5 * z * z) / (np.sqrt(2.0 * np.pi) * width)
        step = unit_step(x, positions[k], width)
        rise = levels[k + 1] - levels[k]
        jac[:, k] = -rise * density
        jac[:, n + k] = -rise * density * z * (sigmas[k] / width)
        jac[:, 2 * n + k] = upper - step
        upper = step
    jac[:, 2 * n + n] = upper
    return jac


def start_values(model: str, n_layers: int, x: NDArray, y: NDArray) -> NDArray:
    """Starting values from the data: plateaus from the ends, steps at the largest changes."""
    span = float(x[-1] - x[0])
    k = max(3, x.size // 10)
    lo, hi = float(np.median(y[:k])), float(np.median(y[-k:]))
    if model != "multilayer":
        frac = (y - lo) / (hi - lo) if hi != lo else np.zeros_like(y)
        x0 = float(x[np.argmin(np.abs(frac - 0.5))])
        return np.array([x0, span / 20.0, lo, hi])
    smooth = np.convolve(y, np.ones(5) / 5.0, mode="same")
    slope = np.abs(np.gradient(smooth, x))
    order = np.argsort(slope[2:-2])[::-1] + 2
    chosen: list[float] = []
    for i in order:
        if all(abs(x[i] - c) > span / (4 * n_layers) for c in chosen):
            chosen.append(float(x[i]))
        if len(chosen) == n_layers:
            break
    while len(chosen) < n_layers:
        chosen.append(float(x[0] + span * (len(chosen) + 1) / (n_layers + 1)))
    positions = np.sort(chosen)
    return np.concatenate(
        [positions, np.full(n_layers, span / 20.0), plateau_levels(x, y, positions)]
    )


def plateau_levels(x: NDArray, y: NDArray, positions: NDArray) -> list[float]:
    """Starting plateau levels between sorted step ``positions``: the median of each interval,
    the outer two from the first and last tenth of the profile."""
    edges = np.concatenate([[x[0]], positions, [x[-1]]])
    levels = []
    for a, b in itertools.pairwise(edges):
        inside = (x >= a) & (x <= b)
        levels.append(float(np.median(y[inside])) if inside.any() else float(np.median(y)))
    k = max(3, x.size // 10)
    levels[0], levels[-1] = float(np.median(y[:k])), float(np.median(y[-k:]))
    return levels
