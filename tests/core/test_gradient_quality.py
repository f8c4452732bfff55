"""Goodness of fit, model choice and the verdicts on steps of gradient fits (synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.gradient_quality import runs_test
from cryospec.core.gradients import (
    diffusion_profile,
    erf_step,
    exponential_decay,
    fit_gradient,
    multilayer_profile,
)

X = np.arange(64) * 2.5
NOISE = 0.005


def _noisy(y, seed):
    return y + np.random.default_rng(seed).normal(0.0, NOISE, y.size)


def test_runs_test():
    alternating = np.tile([1.0, -1.0], 20)
    runs, z, p = runs_test(alternating)
    assert runs == 40 and z > 5 and p > 0.99
    blocks = np.repeat([1.0, -1.0, 1.0, -1.0], 10)
    runs, z, p = runs_test(blocks)
    assert runs == 4 and p < 1e-4
    # independent signs: the p-value is uniform, so below 1 % in about 1 % of the draws
    rng = np.random.default_rng(0)
    p_values = [runs_test(rng.normal(size=60))[2] for _ in range(400)]
    assert 0.0 <= np.mean(np.array(p_values) < 0.01) < 0.03


@pytest.mark.parametrize(
    ("truth", "chosen"),
    [
        (erf_step(X, 80.0, 6.0, 0.1, 0.5), "erf"),
        (diffusion_profile(X, 100.0, 30.0, 0.1, 0.5), "diffusion"),
        (exponential_decay(X, 100.0, 20.0, 0.1, 0.5), "exponential"),
        (multilayer_profile(X, [40, 116], [4, 5], [0.0, 0.33, 0.43]), "multilayer (2 interfaces)"),
    ],
)
def test_auto_chooses_the_model_that_made_the_profile(truth, chosen):
    fit = fit_gradient(X, _noisy(truth, 1), np.full(X.size, NOISE**2), model="auto")
    assert fit.selection["chosen"] == chosen
    assert fit.goodness["passed"] and fit.reduced_chi2 < 2
    assert {c["model"] for c in fit.selection["candidates"]} >= {"erf", "diffusion"}
    summary = fit.summary()
    assert summary["status"] == "ok" and summary["selection"]["chosen"] == chosen


def test_a_model_that_does_not_describe_the_profile_is_flagged():
    two_steps = _noisy(multilayer_profile(X, [40, 116], [4, 5], [0.0, 0.3, 0.5]), 2)
    variance = np.full(X.size, NOISE**2)
    fit = fit_gradient(X, two_steps, variance, model="erf")
    summary = fit.summary()
    assert summary["status"] == "poor fit"
    assert not summary["goodness"]["passed"] and summary["goodness"]["runs_p_value"] < 0.01
    assert any("does not describe the profile" in note for note in summary["notes"])
    # the same profile, model chosen: two interfaces at the truth
    chosen = fit_gradient(X, two_steps, variance, model="auto")
    assert chosen.summary()["status"] == "ok"
    np.testing.assert_allclose(chosen.derived["interfaces_nm"], [40, 116], atol=1.0)


@pytest.mark.parametrize("seed", range(6))
def test_a_profile_without_a_step_reports_no_step(seed):
    flat = 0.2 + np.random.default_rng(seed).normal(0.0, 0.01, X.size)
    summary = fit_gradient(X, flat, np.full(X.size, 1e-4)).summary()
    assert summary["position_status"] == "no step"
    assert summary["position_nm"] is None and summary["width_10_90_nm"] is None


def test_a_width_at_its_bound_is_an_upper_limit():
    sharp = _noisy(np.where(X > 70.3, 0.5, 0.1), 3)
    summary = fit_gradient(X, sharp, np.full(X.size, NOISE**2)).summary()
    assert summary["width_status"] == "upper limit"
    assert summary["sigma_nm"] is None and summary["width_10_90_nm"] is None
    # the step lies between two pixels: sigma is below about a pixel, not a value
    assert 0.0 < summary["sigma_upper_limit_nm"] < 2.5
    assert summary["position_nm"] == pytest.approx(70.3, abs=1.25)
    assert any("sigma <" in note for note in summary["notes"])


def test_width_intervals_stay_positive():
    """Profile-likelihood intervals on widths (the delta method gave negative lower ends)."""
    y = _noisy(erf_step(X, 80.0, 2.0, 0.1, 0.14), 4)
    fit = fit_gradient(X, y, np.full(X.size, NOISE**2))
    low, high = fit.summary()["width_10_90_ci_nm"] or (fit.derived_intervals["width_10_90_nm"])
    assert 0.0 < low < high
    layered = fit_gradient(
        X,
        _noisy(multilayer_profile(X, [40, 116], [1.5, 5], [0.0, 0.05, 0.1]), 5),
        np.full(X.size, NOISE**2),
        model="multilayer",
        n_layers=2,
    )
    for low, high in layered.summary()["widths_10_90_ci_nm"]:
        assert 0.0 < low < high


def test_a_step_beyond_the_field_is_no_step_within_it():
    """Only the foot of a rise lies in the field: its position is not reported."""
    y = _noisy(erf_step(X, 175.0, 15.0, 0.0, 0.5), 6)
    summary = fit_gradient(X, y, np.full(X.size, NOISE**2)).summary()
    assert summary["position_status"] == "no step within the field"
    assert summary["position_nm"] is None
