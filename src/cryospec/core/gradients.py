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

A diffusion or decay from a source on the low-``x`` side is the same model on ``-x``
(``GradientFit.mirrored``); ``fit_gradient`` fits both sides unless told which.

The reported ``position_nm`` of every single-step model is its half-height point (``x0`` for the
step; ``x0 - 0.477 L`` and ``x0 - ln 2 length`` for the others, whose ``x0`` is reported as
``source_nm``), so that positions of different models of one interface agree.

Each can be convolved with a Gaussian probe of standard deviation ``probe_sigma``: for the
error-function steps exactly (the widths add in quadrature), for the others numerically.

Fits are weighted least squares (the weights are the profile's propagated variances). The 95 %
intervals of the model parameters are **profile-likelihood** intervals: the parameter is moved
until chi-square, re-minimised over the others, rises by 3.84 (times the reduced chi-square when
that exceeds 1). Derived quantities (10-90 % widths, interphase thickness) get intervals from the
delta method on the fitted covariance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from cryospec.core.gradient_least_squares import LeastSquares
from cryospec.core.gradient_models import (
    GRADIENT_MODELS,
    WIDTH_10_90,
    diffusion_profile,
    erf_step,
    evaluate_model,
    exponential_decay,
    multilayer_profile,
    parameter_names,
    start_values,
    unit_step,
)
from cryospec.core.gradient_quality import goodness_of_fit, step_verdicts

__all__ = [
    "GRADIENT_MODELS",
    "GradientFit",
    "diffusion_profile",
    "erf_step",
    "exponential_decay",
    "fit_gradient",
    "multilayer_profile",
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
    goodness: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    selection: dict[str, Any] | None = None
    # a diffusion or decay from a source at low x: the model fitted on -x (its parameters
    # are those of that fit; the derived positions are on x)
    mirrored: bool = False

    @property
    def acceptable(self) -> bool:
        """Converged and passing the goodness-of-fit tests."""
        return bool(self.converged and self.goodness.get("passed", True))

    def notes(self) -> list[str]:
        """What a reader of the numbers must know: failed tests, unresolved steps."""
        out = []
        if not self.converged:
            out.append(self.message)
        if self.goodness and not self.goodness["passed"]:
            out.append(
                f"the {self.model} model does not describe the profile ("
                + "; ".join(self.goodness["failures"])
                + ")"
            )
        for k, step in enumerate(self.steps):
            prefix = f"step {k + 1}: " if len(self.steps) > 1 else ""
            out.extend(prefix + note for note in step["notes"])
        return out

    def _vector(self) -> NDArray:
        return np.array([self.parameters[n] for n in self.names])

    def _fitted_axis(self, x: NDArray) -> NDArray:
        x = np.asarray(x, dtype=float)
        return -x if self.mirrored else x

    def evaluate(self, x: NDArray) -> NDArray:
        """The fitted profile on ``x``."""
        return evaluate_model(
            self.model, self.n_layers, self._fitted_axis(x), self._vector(), self.probe_sigma
        )

    def band(self, x: NDArray) -> tuple[NDArray, NDArray]:
        """95 % confidence band of the fitted curve (delta method on the covariance)."""
        y = self.evaluate(x)
        x = self._fitted_axis(x)
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
                widths_10_90_ci_nm=[list(c) for c in ci["widths_10_90_nm"]],
                thickness_nm=d.get("thickness_nm"),
                thickness_ci_nm=list(ci["thickness_nm"]) if "thickness_nm" in ci else None,
            )
        else:
            key = "diffusion_length_nm" if self.model == "diffusion" else "decay_length_nm"
            out[key] = d[key]
            out[key.replace("_nm", "_ci_nm")] = list(self.intervals["length"])
            out["source_nm"] = d["source_nm"]
            out["source_ci_nm"] = list(ci["source_nm"])
            out["source_side"] = "low x" if self.mirrored else "high x"
        if not self.converged:
            out["message"] = self.message
        self._add_quality(out)
        return GradientFit._clean(out)

    def _add_quality(self, out: dict[str, Any]) -> None:
        """Goodness of fit and the verdicts on the steps into ``out``; unresolved numbers are
        withheld (None) there."""
        out["status"] = "ok" if self.acceptable else "poor fit"
        if self.goodness:
            out["goodness"] = {
                k: self.goodness[k]
                for k in ("reduced_chi2", "chi2_p_value", "runs", "runs_p_value", "passed")
            }
        if self.selection is not None:
            out["selection"] = self.selection
        if self.steps:
            out["steps"] = [
                {k: s[k] for k in ("status", "amplitude_significance", "width_status")}
                for s in self.steps
            ]
        first = self.steps[0] if self.steps else None
        if self.model != "multilayer" and first is not None:
            if first["status"] != "resolved":
                status = {
                    "outside field": "no step within the field",
                    "not resolved": "position not resolved",
                }.get(first["status"], "no step")
                out["position_status"] = status
                for key in list(out):
                    if (
                        key.startswith(
                            ("position", "source", "sigma", "width", "diffusion", "decay")
                        )
                        and key != "position_status"
                    ):
                        out[key] = None
            elif first["width_status"] != "resolved" and self.model == "erf":
                out["width_status"] = first["width_status"]
                out["sigma_nm"] = out["sigma_ci_nm"] = None
                out["width_10_90_nm"] = out["width_10_90_ci_nm"] = None
                if first["sigma_upper_limit"] is not None:
                    out["sigma_upper_limit_nm"] = first["sigma_upper_limit"]
                    out["width_10_90_upper_limit_nm"] = WIDTH_10_90 * first["sigma_upper_limit"]
        notes = self.notes()
        if notes:
            out["notes"] = notes

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
                "goodness": self.goodness,
                "steps": self.steps,
                "selection": self.selection,
                "mirrored": self.mirrored,
                "notes": self.notes(),
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
    side: str = "either",
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
    side : {"either", "high", "low"}
        Diffusion and exponential models: the source on the high-``x`` side (the formulas
        above), on the low-``x`` side (the same model on ``-x``: ``mirrored``), or both fitted
        and the lower chi-square kept. ``start`` is in the fitted side's parameters.

    Raises
    ------
    ValueError
        For non-finite input, non-positive variances, an unknown model, or a profile with too
        few points for the number of parameters.
    """
    if model == "auto":
        from cryospec.core.gradient_choice import choose_model

        return choose_model(x, y, variance, probe_sigma=probe_sigma)
    if model not in GRADIENT_MODELS:
        raise ValueError(f"model must be one of {(*GRADIENT_MODELS, 'auto')}, got {model!r}")
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    if model in MIDPOINT_DEPTH and side != "high":
        arguments = {"model": model, "probe_sigma": probe_sigma, "intervals": intervals}
        x, y, var = (np.asarray(a, dtype=float) for a in (x, y, variance))
        low = _mirrored(
            fit_gradient(-x[::-1], y[::-1], var[::-1], start=start, side="high", **arguments)
        )
        if side == "low":
            return low
        high = fit_gradient(x, y, var, start=start, side="high", **arguments)
        return high if high.chi2 <= low.chi2 else low
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
    problem = LeastSquares(model, n_layers, x, y, 1.0 / np.sqrt(var), probe_sigma, lower, upper)
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
    if intervals:
        _profile_intervals_of_derived(model, n_layers, best, names, bounds_by_name, derived_ci)
    interval_list = [bounds_by_name[name] for name in names]
    steps = step_verdicts(
        model, n_layers, best, covariance, interval_list, lower, upper, (x[0], x[-1]),
        None if model == "multilayer" else _field_change(model, x, best, covariance, probe_sigma),
        None if model == "multilayer" else (derived["position_nm"], derived_ci["position_nm"]),
    )  # fmt: skip
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
        goodness=goodness_of_fit(out.fun, len(names)),
        steps=steps,
    )


SIDES = ("either", "high", "low")


def _mirrored(fit: GradientFit) -> GradientFit:
    """A fit made on ``-x`` with its derived positions (and intervals) put back on ``x``."""
    derived, intervals = dict(fit.derived), dict(fit.derived_intervals)
    for key in ("position_nm", "source_nm"):
        if key in derived:
            derived[key] = -derived[key]
            lo, hi = intervals[key]
            intervals[key] = (-hi, -lo)
    return dataclasses.replace(fit, derived=derived, derived_intervals=intervals, mirrored=True)


def _field_change(model, x, p, covariance, probe_sigma) -> tuple[float, float]:
    """The model's change from the first to the last position of the profile, and its
    standard error (delta method)."""
    ends = np.array([x[0], x[-1]])

    def change(q):
        values = evaluate_model(model, 1, ends, q, probe_sigma)
        return float(values[1] - values[0])

    gradient = np.empty(p.size)
    for i in range(p.size):
        h = 1e-6 * max(abs(p[i]), 1.0)
        up, down = p.copy(), p.copy()
        up[i] += h
        down[i] -= h
        gradient[i] = (change(up) - change(down)) / (2 * h)
    variance = float(gradient @ covariance @ gradient)
    return change(p), float(np.sqrt(variance)) if np.isfinite(variance) and variance > 0 else 0.0


def _profile_intervals_of_derived(model, n_layers, best, names, intervals, derived_ci) -> None:
    """Positions and widths take their parameters' profile-likelihood intervals (a width's
    stays positive); the delta method is kept for the thickness."""
    if model == "erf":
        lo, hi = intervals["sigma"]
        derived_ci["sigma_nm"] = (lo, hi)
        derived_ci["width_10_90_nm"] = (WIDTH_10_90 * lo, WIDTH_10_90 * hi)
        derived_ci["position_nm"] = intervals["x0"]
    elif model == "multilayer":
        order = np.argsort(best[:n_layers])
        derived_ci["interfaces_nm"] = [intervals[f"x0_{k}"] for k in order]
        derived_ci["widths_10_90_nm"] = [
            tuple(WIDTH_10_90 * v for v in intervals[f"sigma_{k}"]) for k in order
        ]
        derived_ci["position_nm"] = derived_ci["interfaces_nm"][0]
    else:
        key = "diffusion_length_nm" if model == "diffusion" else "decay_length_nm"
        derived_ci[key] = intervals["length"]
        derived_ci["source_nm"] = intervals["x0"]


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


MIDPOINT_DEPTH = {"diffusion": float(special.erfcinv(0.5)), "exponential": float(np.log(2.0))}
"""Depth of the half-height point below the source ``x0``, in units of the length: the
diffusion profile is half way at ``erfc(u) = 1/2``, the decay at ``exp(-u) = 1/2``."""


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
    if model in MIDPOINT_DEPTH:
        # The position is the half-height point, as for a step; x0 is the source's edge.
        derived["source_nm"], ci["source_nm"] = derived["position_nm"], ci["position_nm"]
        gradient = np.eye(len(p))[0] - MIDPOINT_DEPTH[model] * np.eye(len(p))[1]
        derived["position_nm"] = float(gradient @ p)
        ci["position_nm"] = interval(derived["position_nm"], gradient)
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
