"""Gradient models across interphases and their fits, with confidence intervals.

Models of a concentration profile ``c(x)`` (``x`` along the depth):

* ``"erf"``: a step ``c0 + (c1 - c0) * (1 + erf((x - x0) / (sqrt(2) sigma))) / 2``;
* ``"multilayer"``: a sum of such steps, ``levels[0] + sum_k (levels[k+1] - levels[k]) *
  step(x; x_k, sigma_k)``, for Li | layers | LiPON;
* ``"diffusion"``: a complementary-error-function profile reaching from a source at ``x0``
  toward lower ``x`` with diffusion length ``L = 2 sqrt(D t)``:
  ``c1`` for ``x >= x0`` and ``c0 + (c1 - c0) erfc((x0 - x) / L)`` below;
* ``"exponential"``: ``c1`` for ``x >= x0`` and ``c0 + (c1 - c0) exp(-(x0 - x) / length)``
  below (a decay into the metal).

Each can be convolved with a Gaussian probe of standard deviation ``probe_sigma``: for the
error-function steps exactly (the widths add in quadrature), for the others numerically.

Fits are weighted least squares (the weights are the profile's propagated variances). The 95 %
intervals of the model parameters are **profile-likelihood** intervals: the parameter is moved
until chi-square, re-minimised over the others, rises by 3.84 (times the reduced chi-square when
that exceeds 1). Derived quantities (10-90 % widths, interphase thickness) get intervals from the
delta method on the fitted covariance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from cryospec.core.gradient_models import (
    GRADIENT_MODELS,
    WIDTH_10_90,
    diffusion_profile,
    erf_step,
    evaluate_model,
    exponential_decay,
    multilayer_profile,
    parameter_names,
    plateau_levels,
    start_values,
    unit_step,
)

__all__ = [
    "GRADIENT_MODELS",
    "GradientFit",
    "diffusion_profile",
    "erf_step",
    "exponential_decay",
    "fit_gradient",
    "multilayer_profile",
    "select_layers",
    "unit_step",
]

_CHI2_95 = 3.841458820694124


@dataclass
class GradientFit:
    """Result of :func:`fit_gradient`.

    Attributes
    ----------
    model : str
        The model fitted.
    n_layers : int
        Number of steps (1 for the single-step models).
    parameters : dict of float
        Best-fit values (``x0``, ``sigma`` / ``length``, ``c0``, ``c1``; multilayer:
        ``x0_k``, ``sigma_k``, ``level_k``).
    intervals : dict of (float, float)
        95 % profile-likelihood interval of each parameter.
    derived : dict of float
        ``position_nm``, ``width_10_90_nm`` (erf), ``interfaces_nm``, ``thickness_nm``
        (multilayer), ``diffusion_length_nm``.
    derived_intervals : dict of (float, float)
        95 % intervals of the derived quantities (delta method).
    chi2, dof, reduced_chi2, aic, bic : float
        Fit statistics.
    converged : bool
        False when the optimiser did not converge; ``message`` says why.
    """

    model: str
    n_layers: int
    parameters: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    derived: dict[str, Any]
    derived_intervals: dict[str, Any]
    chi2: float
    dof: int
    reduced_chi2: float
    aic: float
    bic: float
    converged: bool
    message: str = ""
    covariance: NDArray = field(default=None, repr=False)
    names: tuple[str, ...] = ()
    probe_sigma: float = 0.0

    def _vector(self) -> NDArray:
        return np.array([self.parameters[n] for n in self.names])

    def evaluate(self, x: NDArray) -> NDArray:
        """The fitted profile on ``x``."""
        return evaluate_model(
            self.model, self.n_layers, np.asarray(x, float), self._vector(), self.probe_sigma
        )

    def band(self, x: NDArray) -> tuple[NDArray, NDArray]:
        """95 % confidence band of the fitted curve (delta method on the covariance)."""
        x = np.asarray(x, dtype=float)
        p = self._vector()
        jac = np.empty((x.size, p.size))
        for i in range(p.size):
            h = 1e-6 * max(abs(p[i]), 1.0)
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            jac[:, i] = (
                evaluate_model(self.model, self.n_layers, x, up, self.probe_sigma)
                - evaluate_model(self.model, self.n_layers, x, down, self.probe_sigma)
            ) / (2 * h)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self.covariance, jac), 0, None))
        y = self.evaluate(x)
        return y - 1.959963984540054 * se, y + 1.959963984540054 * se

    def summary(self) -> dict[str, Any]:
        """The reported numbers: position and width (erf), interfaces and thickness
        (multilayer), each with its 95 % interval; ``None`` where not defined."""
        d, ci = self.derived, self.derived_intervals
        out: dict[str, Any] = {
            "model": self.model,
            "converged": self.converged,
            "position_nm": d.get("position_nm"),
            "position_ci_nm": list(ci["position_nm"]) if "position_nm" in ci else None,
        }
        if self.model == "erf":
            out.update(
                sigma_nm=d["sigma_nm"],
                sigma_ci_nm=list(self.intervals["sigma"]),
                width_10_90_nm=d["width_10_90_nm"],
                width_10_90_ci_nm=list(ci["width_10_90_nm"]),
                position_ci_nm=list(self.intervals["x0"]),
            )
        elif self.model == "multilayer":
            out.update(
                n_layers=self.n_layers,
                interfaces_nm=d["interfaces_nm"],
                interfaces_ci_nm=[list(c) for c in ci["interfaces_nm"]],
                widths_10_90_nm=d["widths_10_90_nm"],
                thickness_nm=d.get("thickness_nm"),
                thickness_ci_nm=list(ci["thickness_nm"]) if "thickness_nm" in ci else None,
            )
        else:
            key = "diffusion_length_nm" if self.model == "diffusion" else "decay_length_nm"
            out[key] = d[key]
            out[key.replace("_nm", "_ci_nm")] = list(self.intervals["length"])
        if not self.converged:
            out["message"] = self.message
        return GradientFit._clean(out)

    @staticmethod
    def _clean(value):
        if isinstance(value, dict):
            return {k: GradientFit._clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, np.ndarray)):
            return [GradientFit._clean(v) for v in value]
        if isinstance(value, (np.floating, float)):
            return float(value) if np.isfinite(value) else None
        if isinstance(value, (np.integer, np.bool_)):
            return value.item()
        return value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of everything fitted."""
        return GradientFit._clean(
            {
                "model": self.model,
                "n_layers": self.n_layers,
                "parameters": self.parameters,
                "intervals": self.intervals,
                "derived": self.derived,
                "derived_intervals": self.derived_intervals,
                "chi2": self.chi2,
                "dof": self.dof,
                "reduced_chi2": self.reduced_chi2,
                "aic": self.aic,
                "bic": self.bic,
                "converged": self.converged,
                "message": self.message,
            }
        )


def fit_gradient(
    x: NDArray,
    y: NDArray,
    variance: NDArray,
    model: str = "erf",
    n_layers: int = 1,
    probe_sigma: float = 0.0,
    start: NDArray | None = None,
    intervals: bool = True,
) -> GradientFit:
    """Fit a gradient model to one profile, with profile-likelihood 95 % intervals.

    Parameters
    ----------
    x, y, variance : ndarray (n,)
        Positions (nm), values and their variances (> 0).
    model : {"erf", "multilayer", "diffusion", "exponential"}
        The model.
    n_layers : int
        Number of steps of the multilayer model.
    probe_sigma : float
        Standard deviation of the Gaussian probe (nm), convolved with the model.
    start : ndarray, optional
        Starting parameter values (in the order of :attr:`GradientFit.names`).
    intervals : bool
        Compute the profile-likelihood intervals (False leaves them NaN: for model choice).

    Raises
    ------
    ValueError
        For non-finite input, non-positive variances, an unknown model, or a profile with too
        few points for the number of parameters.
    """
    if model not in GRADIENT_MODELS:
        raise ValueError(f"model must be one of {GRADIENT_MODELS}, got {model!r}")
    if model != "multilayer":
        n_layers = 1
    if n_layers < 1:
        raise ValueError(f"n_layers must be at least 1, got {n_layers}")
    names = parameter_names(model, n_layers)
    x, y, var = _checked_profile(x, y, variance, model, n_layers, names)
    lower, upper = _parameter_bounds(model, n_layers, x, names)
    p0 = start_values(model, n_layers, x, y) if start is None else np.asarray(start, dtype=float)
    inset = 1e-6 * max(float(x[-1] - x[0]), 1.0)
    p0 = np.clip(
        p0,
        np.where(np.isfinite(lower), lower + inset, lower),
        np.where(np.isfinite(upper), upper - inset, upper),
    )
    problem = _LeastSquares(model, n_layers, x, y, 1.0 / np.sqrt(var), probe_sigma, lower, upper)
    best, chi2, out = problem.solve(p0)
    dof = max(x.size - len(names), 1)
    reduced = chi2 / dof
    jac = out.jac
    try:
        covariance = np.linalg.pinv(jac.T @ jac) * max(reduced, 1.0)
    except np.linalg.LinAlgError:
        covariance = np.full((len(names), len(names)), np.nan)
    converged = bool(out.success) and np.all(np.isfinite(best))
    message = "" if converged else f"the fit did not converge: {out.message}"
    threshold = _CHI2_95 * max(reduced, 1.0)
    bounds_by_name = {name: (np.nan, np.nan) for name in names}
    for i, name in enumerate(names if intervals else ()):
        bounds_by_name[name] = problem.interval(best, chi2, threshold, i, covariance[i, i])
    derived, derived_ci = _derived(model, n_layers, best, covariance, names)
    parameters = {name: float(v) for name, v in zip(names, best, strict=True)}
    n_par = len(names)
    log_like = -0.5 * chi2
    return GradientFit(
        model=model,
        n_layers=n_layers,
        parameters=parameters,
        intervals=bounds_by_name,
        derived=derived,
        derived_intervals=derived_ci,
        chi2=chi2,
        dof=dof,
        reduced_chi2=reduced,
        aic=float(2 * n_par - 2 * log_like),
        bic=float(n_par * np.log(x.size) - 2 * log_like),
        converged=converged,
        message=message,
        covariance=covariance,
        names=names,
        probe_sigma=float(probe_sigma),
    )


def _checked_profile(x, y, variance, model, n_layers, names):
    """The profile as float arrays sorted by position, checked."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    var = np.asarray(variance, dtype=float)
    if not (x.shape == y.shape == var.shape and x.ndim == 1):
        raise ValueError("x, y and variance must be 1-D arrays of one length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.isfinite(var))):
        raise ValueError("the profile holds NaN or inf values")
    if np.any(var <= 0):
        raise ValueError("variances must be positive")
    if x.size < len(names) + 3:
        raise ValueError(
            f"the profile has {x.size} points: a {model} fit with {n_layers} layer(s) has "
            f"{len(names)} parameters and needs at least {len(names) + 3}"
        )
    order = np.argsort(x)
    return x[order], y[order], var[order]


def _parameter_bounds(model, n_layers, x, names):
    """Positions within reach of the profile, widths from a tenth of a step to its span."""
    span = float(x[-1] - x[0])
    step = float(np.min(np.diff(x))) if x.size > 1 else 1.0
    lower = np.full(len(names), -np.inf)
    upper = np.full(len(names), np.inf)
    if model == "multilayer":
        lower[:n_layers], upper[:n_layers] = x[0], x[-1]
        lower[n_layers : 2 * n_layers] = step / 10.0
        upper[n_layers : 2 * n_layers] = span
    else:
        lower[0], upper[0] = x[0] - span, x[-1] + span
        lower[1], upper[1] = step / 10.0, 2 * span
    return lower, upper


class _LeastSquares:
    """The weighted least-squares problem of one profile, with parameters optionally fixed."""

    def __init__(self, model, n_layers, x, y, weight, probe_sigma, lower, upper):
        self.model, self.n_layers, self.probe_sigma = model, n_layers, probe_sigma
        self.x, self.y, self.weight, self.lower, self.upper = x, y, weight, lower, upper

    def residual(self, p):
        return (evaluate_model(self.model, self.n_layers, self.x, p, self.probe_sigma) - self.y) * (
            self.weight
        )

    def solve(self, p_start, fixed=None, max_nfev=2000):
        """Minimise from ``p_start``, with ``fixed = (index, value)`` held; (p, chi2, result)."""
        free = np.ones(p_start.size, dtype=bool)
        if fixed is not None:
            free[fixed[0]] = False

        def res(q):
            p = p_start.copy()
            p[free] = q
            if fixed is not None:
                p[fixed[0]] = fixed[1]
            return self.residual(p)

        out = optimize.least_squares(
            res,
            p_start[free],
            bounds=(self.lower[free], self.upper[free]),
            x_scale="jac",
            max_nfev=max_nfev,
        )
        p = p_start.copy()
        p[free] = out.x
        if fixed is not None:
            p[fixed[0]] = fixed[1]
        return p, float(np.sum(out.fun**2)), out

    def interval(self, best, chi2, threshold, i, variance) -> tuple[float, float]:
        """Profile-likelihood interval of parameter ``i``: where chi-square, re-minimised over
        the others, rises by ``threshold`` (a bound of the parameter where it never does)."""
        se = np.sqrt(variance) if np.isfinite(variance) else abs(best[i]) + 1.0
        bounds = []
        for direction in (-1.0, 1.0):
            limit = self.lower[i] if direction < 0 else self.upper[i]

            def excess(value):
                return self.solve(best, (i, value), max_nfev=200)[1] - chi2 - threshold

            far = best[i] + direction * max(4.0 * se, 1e-9 * abs(best[i]) + 1e-12)
            far = float(np.clip(far, self.lower[i], self.upper[i])) if np.isfinite(limit) else far
            tries = 0
            while excess(far) < 0 and tries < 6:
                stepped = best[i] + 2.0 * (far - best[i])
                if np.isfinite(limit) and (stepped - limit) * direction > 0:
                    far = float(limit)
                    break
                far, tries = stepped, tries + 1
            if excess(far) < 0:
                bounds.append(float(limit) if np.isfinite(limit) else direction * np.inf)
                continue
            a, b = sorted((best[i], far))
            bounds.append(float(optimize.brentq(excess, a, b, xtol=1e-6 * (abs(se) + 1e-12))))
        return bounds[0], bounds[1]


def _derived(model, n_layers, p, cov, names):
    z = 1.959963984540054
    derived: dict[str, Any] = {}
    ci: dict[str, Any] = {}

    def interval(value, gradient):
        se = float(np.sqrt(max(gradient @ cov @ gradient, 0.0)))
        return (value - z * se, value + z * se)

    if model == "multilayer":
        n = n_layers
        positions = p[:n]
        order = np.argsort(positions)
        derived["interfaces_nm"] = [float(positions[k]) for k in order]
        derived["widths_10_90_nm"] = [float(WIDTH_10_90 * p[n + k]) for k in order]
        ci["interfaces_nm"] = [interval(float(positions[k]), np.eye(len(p))[k]) for k in order]
        ci["widths_10_90_nm"] = [
            interval(float(WIDTH_10_90 * p[n + k]), WIDTH_10_90 * np.eye(len(p))[n + k])
            for k in order
        ]
        if n >= 2:
            first, last = order[0], order[-1]
            g = np.zeros(len(p))
            g[last], g[first] = 1.0, -1.0
            derived["thickness_nm"] = float(positions[last] - positions[first])
            ci["thickness_nm"] = interval(derived["thickness_nm"], g)
        derived["position_nm"] = derived["interfaces_nm"][0]
        ci["position_nm"] = ci["interfaces_nm"][0]
        return derived, ci
    derived["position_nm"] = float(p[0])
    ci["position_nm"] = interval(float(p[0]), np.eye(len(p))[0])
    if model == "erf":
        derived["sigma_nm"] = float(p[1])
        derived["width_10_90_nm"] = float(WIDTH_10_90 * p[1])
        ci["sigma_nm"] = interval(float(p[1]), np.eye(len(p))[1])
        ci["width_10_90_nm"] = interval(derived["width_10_90_nm"], WIDTH_10_90 * np.eye(len(p))[1])
    else:
        derived["diffusion_length_nm" if model == "diffusion" else "decay_length_nm"] = float(p[1])
        key = "diffusion_length_nm" if model == "diffusion" else "decay_length_nm"
        ci[key] = interval(float(p[1]), np.eye(len(p))[1])
    return derived, ci


def _layers_resolved(fit: GradientFit) -> bool:
    """True when every layer is thicker than the widths of its two interfaces: two steps closer
    than that are one step of another shape, and their distance is no thickness."""
    vector = fit._vector()
    n = fit.n_layers
    positions, sigmas = vector[:n], np.abs(vector[n : 2 * n])
    gaps = np.diff(positions)
    return bool(np.all(gaps > np.maximum(sigmas[:-1], sigmas[1:])))


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


def select_layers(
    x: NDArray, y: NDArray, variance: NDArray, max_layers: int = 4, probe_sigma: float = 0.0
) -> tuple[GradientFit, list[GradientFit]]:
    """Fit 1..``max_layers`` steps and keep the one with the lowest BIC.

    Returns
    -------
    best : GradientFit
    fits : list of GradientFit
        Every converged fit, by number of layers (for the comparison table).
    """
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
                x,
                y,
                variance,
                model="multilayer",
                n_layers=n,
                probe_sigma=probe_sigma,
                start=start,
                intervals=False,
            )
            if fit.converged and _layers_resolved(fit):
                candidates.append(fit)
        if candidates:
            fits.append(min(candidates, key=lambda f: f.chi2))
    if not fits:
        raise ValueError("no multilayer fit converged")
    chosen = min(fits, key=lambda f: f.bic)
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
