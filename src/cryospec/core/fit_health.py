"""Fit health: what a quantification's numbers are worth (poorly fitted pixels, elements not
detected, with their upper limits)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from cryospec.core.quantify import EdgeModelResult

__all__ = [
    "DETECTION_SIGNIFICANCE",
    "OUTLIER_FACTOR",
    "POOR_FIT_DEVIANCE",
    "POOR_FIT_SHARE",
    "fit_health",
]


# Reduced Poisson deviance above which a pixel's fit is called poor (about 1 when the model
# describes counts that are electrons; far above it when the model misses a feature or the
# counts are not electrons, e.g. a wrong detector gain).
POOR_FIT_DEVIANCE = 1.5
# Share of poor pixels above which the quantification as a whole is flagged.
POOR_FIT_SHARE = 0.1
# Significance (map-summed areal density over its standard error) below which an element is
# reported as not detected.
DETECTION_SIGNIFICANCE = 3.0
_ONE_SIDED_95 = 1.6448536269514722
# A pixel whose reduced deviance exceeds this many times the map's median (and this value) is
# an outlier: a spike (X-ray hit) or a damaged spectrum the model cannot follow.
OUTLIER_FACTOR = 20.0


def _outlier_warning(reduced_deviance: NDArray, warnings: list[str]) -> None:
    finite = np.isfinite(reduced_deviance)
    if reduced_deviance.size < 2 or not finite.any():
        return
    median = float(np.median(reduced_deviance[finite]))
    limit = OUTLIER_FACTOR * max(median, 1.0)
    outliers = finite & (reduced_deviance > limit)
    if not outliers.any():
        return
    worst = np.unravel_index(
        int(np.argmax(np.where(outliers, reduced_deviance, -np.inf))), reduced_deviance.shape
    )
    warnings.append(
        f"{int(outliers.sum())} pixel(s) fit far worse than the map (Poisson deviance per "
        f"degree of freedom {float(reduced_deviance[worst]):.3g} at pixel "
        f"{tuple(int(i) for i in worst)}, median {median:.3g}): a spike (X-ray hit) or a "
        "damaged spectrum? Their amounts are not reliable, and the map's detection tests are "
        "weakened; s.remove_spikes() removes spikes"
    )


def fit_health(
    density: NDArray,
    covariance: NDArray,
    elements: list[str],
    reduced_deviance: NDArray | None = None,
    summed: EdgeModelResult | None = None,
) -> dict:
    """What a quantification's numbers are worth: the share of poorly fitted pixels and, per
    element, whether it is detected over the map.

    An element is detected when its mean areal density exceeds ``DETECTION_SIGNIFICANCE``
    standard errors: from ``summed``, the model fitted to the map's summed spectrum, when given
    (the per-pixel fits keep every amount non-negative, so their sum is biased above zero for an
    absent edge; its errors scaled by the square root of its deviance per degree of freedom, the
    model's mismatch at a whole map's counts), else from the sum of the pixels' values and
    variances (Egerton's ratio method, unconstrained). Otherwise the mean areal density is
    reported with a one-sided 95 % upper limit instead of a bare number. ``at_zero`` is the
    share of pixels whose amount sits at zero.

    Returns
    -------
    dict
        ``{"poor_fit_fraction", "median_reduced_deviance", "elements": {el: {"detected",
        "significance", "at_zero", "upper_limit"}}, "warnings": [...]}`` (JSON-ready).
    """
    variance = np.clip(np.diagonal(covariance, axis1=-2, axis2=-1), 0, None)
    flat_density = density.reshape(-1, density.shape[-1])
    flat_variance = variance.reshape(-1, variance.shape[-1])
    usable = np.all(np.isfinite(flat_density), axis=-1) & np.all(np.isfinite(flat_variance), -1)
    total = flat_density[usable].sum(axis=0)
    total_se = np.sqrt(flat_variance[usable].sum(axis=0))
    n = max(int(usable.sum()), 1)
    mean, mean_se = total / n, total_se / n
    if summed is not None:
        # with the counts of a whole map the model's own mismatch dominates its Poisson error:
        # the errors are scaled by the square root of the deviance per degree of freedom
        # (quasi-likelihood), so that a systematic misfit is not taken for a detection
        overdispersion = np.sqrt(max(float(summed.reduced_deviance[0]), 1.0))
        mean, mean_se = summed.areal_density[0], summed.standard_error[0] * overdispersion
    out: dict = {"elements": {}, "warnings": []}
    for i, element in enumerate(elements):
        with np.errstate(divide="ignore", invalid="ignore"):
            significance = float(mean[i] / mean_se[i]) if mean_se[i] > 0 else float("inf")
        detected = bool(significance >= DETECTION_SIGNIFICANCE)
        record = {
            "detected": detected,
            "significance": significance if np.isfinite(significance) else None,
            "at_zero": float(np.mean(flat_density[usable, i] <= 0.0)) if usable.any() else None,
            "upper_limit": None,
        }
        if not detected:
            record["upper_limit"] = float(max(mean[i], 0.0) + _ONE_SIDED_95 * mean_se[i])
            out["warnings"].append(
                f"{element} is not detected: its amount over the map is {significance:.1f} "
                f"standard errors from zero (mean areal density below {record['upper_limit']:.3g}"
                ", 95 % upper limit)"
            )
        out["elements"][element] = record
    out["poor_fit_fraction"] = None
    out["median_reduced_deviance"] = None
    if reduced_deviance is not None:
        _outlier_warning(np.asarray(reduced_deviance, dtype=float), out["warnings"])
        values = np.asarray(reduced_deviance, dtype=float).ravel()
        values = values[np.isfinite(values)]
        if values.size:
            poor = float(np.mean(values > POOR_FIT_DEVIANCE))
            out["poor_fit_fraction"] = poor
            out["median_reduced_deviance"] = float(np.median(values))
            if poor > POOR_FIT_SHARE:
                out["warnings"].append(
                    f"the model fits poorly (Poisson deviance per degree of freedom above "
                    f"{POOR_FIT_DEVIANCE:g}) in {100 * poor:.0f} % of the pixels (median "
                    f"{out['median_reduced_deviance']:.3g}): the model misses a feature of the "
                    "spectra (an edge not requested, fine structure, the background), or the "
                    "counts are not electrons (check the detector gain)"
                )
    return out
