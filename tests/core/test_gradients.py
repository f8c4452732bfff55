"""Gradient models, fits and their intervals."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.gradients import (
    WIDTH_10_90,
    diffusion_profile,
    erf_step,
    exponential_decay,
    fit_gradient,
    multilayer_profile,
)
from cryospec.core.layer_count import select_layers

X = np.arange(64) * 2.5


def test_step_convention_and_probe():
    y = erf_step(X, 94.0, 10.0, 1.0, 3.0)
    assert y[0] == pytest.approx(1.0, abs=1e-6) and y[-1] == pytest.approx(3.0, abs=1e-3)
    assert erf_step(94.0, 94.0, 10.0, 1.0, 3.0) == pytest.approx(2.0)
    # A Gaussian probe adds in quadrature.
    np.testing.assert_allclose(
        erf_step(X, 94.0, 6.0, 0, 1, probe_sigma=8.0), erf_step(X, 94.0, 10.0, 0, 1)
    )
    assert WIDTH_10_90 == pytest.approx(2.5631, abs=1e-4)


@pytest.mark.parametrize(
    ("model", "function", "true"),
    [
        ("erf", erf_step, {"x0": 94.0, "sigma": 10.0, "c0": 0.5, "c1": 12.5}),
        ("diffusion", diffusion_profile, {"x0": 100.0, "length": 15.0, "c0": 0.0, "c1": 10.0}),
        ("exponential", exponential_decay, {"x0": 100.0, "length": 15.0, "c0": 0.0, "c1": 10.0}),
    ],
)
def test_noiseless_profiles_are_recovered(model, function, true):
    y = function(X, *true.values())
    fit = fit_gradient(X, y, np.full(X.size, 1e-4), model=model)
    assert fit.converged
    for name, value in true.items():
        assert fit.parameters[name] == pytest.approx(value, abs=1e-3 * max(1.0, abs(value)))
        lo, hi = fit.intervals[name]
        assert lo <= fit.parameters[name] <= hi


def test_position_interval_coverage_over_50_seeds():
    """The 95 % profile-likelihood interval of x0 covers the truth in 90-99 % of the seeds."""
    truth = erf_step(X, 94.0, 10.0, 0.0, 12.5)
    rng = np.random.default_rng(7)
    covered = 0
    n_seeds = 60
    for _ in range(n_seeds):
        y = truth + rng.normal(0.0, 0.4, X.size)
        lo, hi = fit_gradient(X, y, np.full(X.size, 0.16)).intervals["x0"]
        covered += lo < 94.0 < hi
    assert 0.90 <= covered / n_seeds <= 0.99


def test_multilayer_thickness_and_layer_choice():
    truth = multilayer_profile(X, [40.0, 116.0], [4.0, 5.0], [46.0, 80.0, 36.0])
    y = truth + np.random.default_rng(0).normal(0.0, 1.0, X.size)
    best, fits = select_layers(X, y, np.ones(X.size), max_layers=3)
    assert best.n_layers == 2
    # a third interface the data do not show (amplitude below 3 standard errors) is no candidate
    assert [f.n_layers for f in fits] == [1, 2]
    interfaces = best.derived["interfaces_nm"]
    assert interfaces == pytest.approx([40.0, 116.0], abs=1.5)
    assert best.derived["thickness_nm"] == pytest.approx(76.0, rel=0.03)
    lo, hi = best.derived_intervals["thickness_nm"]
    assert lo < 76.0 < hi
    assert best.to_dict()["derived"]["thickness_nm"] == pytest.approx(best.derived["thickness_nm"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "cubic"}, "model must be one of"),
        ({"model": "multilayer", "n_layers": 25}, "needs at least"),
        ({"model": "multilayer", "n_layers": 0}, "at least 1"),
    ],
)
def test_bad_arguments(kwargs, message):
    y = erf_step(X, 94.0, 10.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=message):
        fit_gradient(X, y, np.ones(X.size), **kwargs)


def test_bad_profiles():
    y = erf_step(X, 94.0, 10.0, 0.0, 1.0)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        fit_gradient(X, bad, np.ones(X.size))
    with pytest.raises(ValueError, match="variances must be positive"):
        fit_gradient(X, y, np.zeros(X.size))
    with pytest.raises(ValueError, match="needs at least"):
        fit_gradient(X[:5], y[:5], np.ones(5))


def test_a_flat_profile_is_reported_not_hidden():
    y = np.full(X.size, 2.0) + np.random.default_rng(1).normal(0, 0.01, X.size)
    fit = fit_gradient(X, y, np.full(X.size, 1e-4))
    # No step: the position is not determined, and its interval says so.
    lo, hi = fit.intervals["x0"]
    assert (hi - lo) > 50.0 or not fit.converged


def test_layer_choice_never_keeps_layers_thinner_than_their_interfaces():
    """Two steps closer than their widths are one step of another shape; their distance is no
    thickness, so such fits are not candidates (it happened on a one-step EDX profile)."""
    x = np.linspace(0.0, 150.0, 61)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        y = erf_step(x, 90.0, 12.0, 1.0, 0.7) + rng.normal(0, 0.01, x.size)
        best, fits = select_layers(x, y, np.full(x.size, 1e-4), max_layers=3)
        for fit in fits:
            v = fit._vector()
            n = fit.n_layers
            gaps = np.diff(v[:n])
            assert np.all(gaps > np.maximum(np.abs(v[n : 2 * n])[:-1], np.abs(v[n : 2 * n])[1:]))
        assert best.n_layers == 1


@pytest.mark.parametrize("probe", [0.0, 2.0])
@pytest.mark.parametrize(
    ("model", "n_layers", "p"),
    [
        ("erf", 1, [40.0, 5.0, 0.2, 0.9]),
        ("multilayer", 3, [20.0, 50.0, 80.0, 3.0, 6.0, 2.0, 0.1, 0.5, 0.3, 0.9]),
    ],
)
def test_the_step_models_analytic_jacobian_equals_finite_differences(model, n_layers, p, probe):
    from cryospec.core.gradient_models import evaluate_model, model_jacobian

    x = np.linspace(0.0, 100.0, 80)
    p = np.asarray(p)
    jac = model_jacobian(model, n_layers, x, p, probe)
    numeric = np.empty_like(jac)
    for i in range(p.size):
        h = 1e-6 * max(1.0, abs(p[i]))
        up, down = p.copy(), p.copy()
        up[i] += h
        down[i] -= h
        numeric[:, i] = (
            evaluate_model(model, n_layers, x, up, probe)
            - evaluate_model(model, n_layers, x, down, probe)
        ) / (2 * h)
    np.testing.assert_allclose(jac, numeric, atol=1e-8)
    assert model_jacobian("diffusion", 1, x, p[:4], probe) is None  # finite differences


@pytest.mark.parametrize("model", ["diffusion", "exponential"])
def test_a_source_on_the_low_x_side_is_fitted_mirrored(model):
    """A diffusion (or decay) from a source at low x, concentration falling with x: fitted as
    the same model on -x, its source and half-height point back on x and covered by their
    intervals; the one-sided fit of the other orientation is flagged. (The automatic choice
    compares the high-x orientation only: see ``choose_model``.)"""
    from scipy import special

    rng = np.random.default_rng(3)
    x = np.arange(0.0, 160.0, 2.5)
    x0, length, left, right = 50.0, 20.0, 0.9, 0.1
    u = np.clip(x - x0, 0.0, None) / length
    shape = special.erfc(u) if model == "diffusion" else np.exp(-u)
    truth = right + (left - right) * shape
    half = x0 + length * (special.erfcinv(0.5) if model == "diffusion" else np.log(2.0))
    sd = 0.02
    y = truth + rng.normal(0.0, sd, x.size)
    var = np.full(x.size, sd**2)
    fit = fit_gradient(x, y, var, model=model)
    summary = fit.summary()
    assert fit.mirrored and summary["source_side"] == "low x" and summary["status"] == "ok"
    lo, hi = summary["source_ci_nm"]
    assert lo < x0 < hi
    lo, hi = summary["position_ci_nm"]
    assert lo < half < hi
    assert np.max(np.abs(fit.evaluate(x) - truth)) < 3 * sd
    band_lo, band_hi = fit.band(x)
    assert np.all(band_lo <= fit.evaluate(x)) and np.all(fit.evaluate(x) <= band_hi)
    assert fit_gradient(x, y, var, model=model, side="high").summary()["status"] == "poor fit"
    assert fit_gradient(x, y, var, model=model, side="low").mirrored
    # the profile's mirror image is the usual orientation: not mirrored, same source
    direct = fit_gradient(x, y[::-1], var, model=model)
    assert not direct.mirrored
    assert direct.summary()["source_nm"] == pytest.approx(x[-1] - summary["source_nm"], abs=1e-3)
    with pytest.raises(ValueError, match="side must be one of"):
        fit_gradient(x, y, var, model=model, side="left")
