"""Goodness of fit of a gradient model, and which of its steps the profile resolves.

A fitted step is a number only when the profile holds it: :func:`goodness_of_fit` tests the
model against the profile (chi-square and a runs test of the residual signs), and
:func:`step_verdicts` says, step by step, whether the position lies in the field, the
amplitude is significant and the width is off its bounds; otherwise the step is reported as
"no step", "no step within the field", "position not resolved" or a width upper limit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["GOF_ALPHA", "STEP_SIGNIFICANCE", "goodness_of_fit", "runs_test", "step_verdicts"]

GOF_ALPHA = 0.01
"""A fit fails a test whose p-value falls below this."""

STEP_SIGNIFICANCE = 3.0
"""A step whose amplitude is below this many standard errors is no step."""


def runs_test(residuals: NDArray) -> tuple[int, float, float]:
    """Wald-Wolfowitz runs test of the residual signs, one-sided for too few runs.

    Returns
    -------
    (runs, z, p_value)
        Number of runs, its z-score against independent signs, and the probability of so few
        runs by chance (systematic misfit gives long runs of one sign).
    """
    signs = np.sign(np.asarray(residuals, dtype=float))
    signs = signs[signs != 0]
    n_pos, n_neg = int(np.sum(signs > 0)), int(np.sum(signs < 0))
    n = n_pos + n_neg
    if n_pos == 0 or n_neg == 0:
        return (1 if n else 0), -np.inf if n > 1 else 0.0, 0.0 if n > 1 else 1.0
    runs = 1 + int(np.sum(signs[1:] != signs[:-1]))
    mean = 1.0 + 2.0 * n_pos * n_neg / n
    var = 2.0 * n_pos * n_neg * (2.0 * n_pos * n_neg - n) / (n**2 * (n - 1.0))
    z = (runs - mean) / np.sqrt(var) if var > 0 else 0.0
    return runs, float(z), float(stats.norm.cdf(z))


def goodness_of_fit(normalised_residuals: NDArray, n_parameters: int) -> dict[str, Any]:
    """Chi-square test and runs test of a weighted fit.

    Parameters
    ----------
    normalised_residuals : ndarray (n,)
        ``(model - data) / standard error`` in the order of the positions.
    n_parameters : int
        Parameters fitted.

    Returns
    -------
    dict
        ``chi2``, ``dof``, ``reduced_chi2``, ``chi2_p_value`` (probability of a chi-square this
        large when the model holds), ``runs``, ``runs_z``, ``runs_p_value`` and ``passed``
        (both p-values at or above :data:`GOF_ALPHA`), with ``failures`` naming what failed.
    """
    r = np.asarray(normalised_residuals, dtype=float)
    chi2 = float(np.sum(r**2))
    dof = max(r.size - int(n_parameters), 1)
    p_chi2 = float(stats.chi2.sf(chi2, dof))
    runs, z, p_runs = runs_test(r)
    failures = []
    if p_chi2 < GOF_ALPHA:
        failures.append(f"chi-square: reduced {chi2 / dof:.2f}, p = {p_chi2:.2g}")
    if p_runs < GOF_ALPHA:
        failures.append(f"runs test: {runs} runs of the residual signs, p = {p_runs:.2g}")
    return {
        "chi2": chi2,
        "dof": dof,
        "reduced_chi2": chi2 / dof,
        "chi2_p_value": p_chi2,
        "runs": runs,
        "runs_z": z,
        "runs_p_value": p_runs,
        "alpha": GOF_ALPHA,
        "passed": not failures,
        "failures": failures,
    }


def _step_verdict(
    position: float,
    amplitude: float,
    amplitude_se: float,
    width: float,
    width_interval: tuple[float, float],
    width_bounds: tuple[float, float],
    field: tuple[float, float],
    plateaus_bounded: bool = True,
    position_interval: tuple[float, float] = (np.nan, np.nan),
    position_bounds: tuple[float, float] = (-np.inf, np.inf),
    position_ci: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Verdict on one step: its amplitude, position and width against the field and bounds."""
    lo, hi = field
    reach = 1e-3 * max(hi - lo, 1e-12)
    # an interval that runs to the fit's limit (or without end): the data do not bound it
    position_open = any(
        np.isinf(end) or abs(end - bound) <= reach
        for end, bound in zip(position_interval, position_bounds, strict=True)
    )
    # an interval of the reported position wider than the whole field does not locate it
    reported = position_interval if position_ci is None else position_ci
    position_open |= bool(np.all(np.isfinite(reported)) and reported[1] - reported[0] > hi - lo)
    reported_text = f"[{reported[0]:.1f}, {reported[1]:.1f}]"
    notes: list[str] = []
    if amplitude_se > 0:
        significance = abs(amplitude) / amplitude_se
    else:  # no change in the field at all (a step far outside it), or one known exactly
        significance = 0.0 if abs(amplitude) < 1e-12 else np.inf
    if significance < STEP_SIGNIFICANCE:
        status = "no step"
        notes.append(
            f"no step: the change is {significance:.1f} standard errors "
            f"(below {STEP_SIGNIFICANCE:g})"
        )
    elif not lo <= position <= hi:
        status = "outside field"
        notes.append(
            f"no step within the field: the fitted position {position:.1f} lies outside "
            f"[{lo:.1f}, {hi:.1f}]"
        )
    elif position_open:
        status = "not resolved"
        notes.append(
            f"position not resolved: its 95 % interval {reported_text} reaches the limit of "
            "the fit or spans more than the field"
        )
    elif not plateaus_bounded:
        status = "outside field"
        notes.append(
            f"no step within the field: a rise near {position:.1f} whose far plateau the "
            "field does not reach"
        )
    else:
        status = "resolved"
    width_lo, width_hi = width_bounds
    at_lower = width <= width_lo * 1.05 or (
        np.isfinite(width_interval[0]) and width_interval[0] <= width_lo * 1.05
    )
    width_status = None
    upper_limit = None
    if status == "resolved":
        width_status = "resolved"
        if width >= width_hi * 0.95:
            width_status = "broader than the field"
            notes.append("width not resolved: the step is broader than the field")
        elif at_lower:
            width_status = "upper limit"
            if np.isfinite(width_interval[1]):
                upper_limit = float(width_interval[1])
                notes.append(f"width not resolved: sigma < {upper_limit:.2g} (95 %)")
            else:
                notes.append("width not resolved")
    return {
        "status": status,
        "amplitude_significance": float(significance),
        "width_status": width_status,
        "sigma_upper_limit": upper_limit,
        "notes": notes,
    }


def step_verdicts(
    model: str,
    n_layers: int,
    parameters: NDArray,
    covariance: NDArray,
    intervals: list[tuple[float, float]],
    lower: NDArray,
    upper: NDArray,
    field: tuple[float, float],
    field_change: tuple[float, float] | None = None,
    midpoint: tuple[float, tuple[float, float]] | None = None,
) -> list[dict[str, Any]]:
    """One verdict per step of a fitted gradient model, in the order of its positions.

    ``parameters``, ``covariance``, ``intervals`` (95 % of each parameter) and the bounds
    ``lower``/``upper`` follow :func:`cryospec.core.gradient_models.parameter_names`; ``field``
    is the profile's range of positions. ``field_change`` (value, standard error) is the
    single-step model's change from one end of the field to the other: its significance is
    the step's (a step whose far plateau lies outside the field has an amplitude no better
    known than its extrapolation, while the part of it the field holds may be clear).
    ``midpoint`` (position, 95 % interval) is the single-step model's half-height point, the
    position it reports, when that is not its first parameter.
    """
    p = np.asarray(parameters, dtype=float)
    cov = np.asarray(covariance, dtype=float)

    def amplitude_se(i: int, j: int) -> float:
        value = cov[i, i] + cov[j, j] - 2.0 * cov[i, j]
        return float(np.sqrt(value)) if np.isfinite(value) and value > 0 else 0.0

    def bounded(*indices: int) -> bool:
        return all(np.all(np.isfinite(intervals[i])) for i in indices)

    if model != "multilayer":
        change, change_se = field_change if field_change else (p[3] - p[2], amplitude_se(2, 3))
        position, position_ci = midpoint if midpoint else (p[0], intervals[0])
        return [
            _step_verdict(
                position,
                change,
                change_se,
                p[1],
                intervals[1],
                (lower[1], upper[1]),
                field,
                bounded(2, 3),
                intervals[0],
                (lower[0], upper[0]),
                position_ci,
            )
        ]
    n = n_layers
    out = []
    # step k goes from level k to level k + 1 whatever the order of the positions
    for k in np.argsort(p[:n]):
        s, a, b = n + k, 2 * n + k, 2 * n + k + 1
        out.append(
            _step_verdict(
                p[k],
                p[b] - p[a],
                amplitude_se(a, b),
                p[s],
                intervals[s],
                (lower[s], upper[s]),
                field,
                bounded(a, b),
                intervals[k],
                (lower[k], upper[k]),
            )
        )
    return out
