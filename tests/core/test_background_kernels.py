"""Background-fitting kernels against closed forms and known truth."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.background import evaluate_background, fit_background, window_sum_variance
from cryospec.core.pooling import fit_background_dose_aware, neighbourhood_radius

E = np.linspace(40.0, 53.0, 44)
E_EDGE = np.linspace(55.0, 80.0, 84)


def _power_law(amplitude, r, energy=E, ref=45.0):
    return amplitude * (energy / ref) ** -r


def test_constant_mean_ml_is_the_sample_mean_and_neyman_ls_is_biased_low():
    """PHYSICS.md: for a constant mean, ML gives the sample mean, Neyman chi2 about mu - 1."""
    rng = np.random.default_rng(0)
    mu = 3.0
    counts = rng.poisson(mu, size=(20000, 30))
    energy = np.linspace(100.0, 130.0, 30)
    flat = np.zeros(counts.shape[0])  # exponent 0: a constant model
    ml = fit_background(counts, energy, shape=flat, estimator="ml")
    ls = fit_background(counts, energy, shape=flat, estimator="ls")
    # Per pixel, the ML amplitude equals that pixel's sample mean, to rounding.
    np.testing.assert_allclose(ml.amplitude, counts.mean(axis=1), rtol=1e-12)
    # The 1/max(n,1)-weighted least squares (a harmonic-type mean) is biased low by about 1.
    assert ls.amplitude.mean() == pytest.approx(mu - 1.0, abs=0.25)
    assert np.all(ls.amplitude <= ml.amplitude + 1e-12)


@pytest.mark.parametrize("model", ["power_law", "exponential"])
def test_noiseless_data_are_recovered_exactly(model):
    a_true, r_true = np.array([50.0, 500.0]), np.array([3.2, 4.1])
    if model == "power_law":
        counts = _power_law(a_true[:, None], r_true[:, None])
    else:
        counts = a_true[:, None] * np.exp(-0.08 * (E - 45.0))[None, :]
    for estimator in ("ml", "ls"):
        fit = fit_background(counts, E, model=model, estimator=estimator)
        np.testing.assert_allclose(fit.evaluate(E), counts, rtol=1e-6)
        assert fit.converged.all()
        if model == "power_law":
            np.testing.assert_allclose(fit.shape_parameter, r_true, rtol=1e-6)


def test_lcpl_recovers_a_mixture_of_its_own_exponents():
    counts = _power_law(30.0, 2.0) + _power_law(70.0, 5.0)
    fit = fit_background(counts[None, :], E, model="lcpl", exponents=(2.0, 5.0), reference_eV=45.0)
    np.testing.assert_allclose(fit.params[0], [30.0, 70.0], rtol=1e-3)
    np.testing.assert_allclose(fit.shape_parameter[0], [0.3, 0.7], rtol=1e-3)
    assert np.all(fit.params >= 0)


def test_ml_fit_is_unbiased_and_its_errors_are_right_at_low_counts():
    """Monte Carlo: the extrapolated background and its predicted error against truth."""
    rng = np.random.default_rng(1)
    truth = _power_law(20.0, 3.5)
    counts = rng.poisson(truth, size=(40000, E.size))
    fit = fit_background(counts, E)
    r = fit.shape_parameter
    assert r.mean() == pytest.approx(3.5, abs=0.02)
    # The Cramer-Rao standard error of r matches the scatter of r.
    assert np.sqrt(np.median(fit.covariance[:, 1, 1])) == pytest.approx(r.std(), rel=0.05)
    extrapolated = fit.evaluate(E_EDGE).sum(-1)
    true_sum = _power_law(20.0, 3.5, E_EDGE).sum()
    assert extrapolated.mean() == pytest.approx(true_sum, rel=0.02)
    predicted = np.sqrt(np.median(window_sum_variance(fit, E_EDGE)))
    assert predicted == pytest.approx(extrapolated.std(), rel=0.1)
    # The deviance per degree of freedom of a correct model is about 1.
    assert np.mean(fit.deviance / fit.dof) == pytest.approx(1.0, abs=0.05)


def test_dose_aware_fit_pools_the_shape_and_keeps_the_amplitude_per_pixel():
    rng = np.random.default_rng(2)
    amplitude = np.linspace(0.5, 2.0, 32)[None, :] * np.ones((24, 1))
    truth = _power_law(amplitude[..., None], 3.5)
    counts = rng.poisson(truth)
    fit, radius = fit_background_dose_aware(counts, E, target=3000.0)
    totals = counts.sum(-1)
    # Each pixel's neighbourhood reaches the target (or is the largest allowed).
    assert np.all(radius >= 1)
    assert radius[:, 0].mean() >= radius[:, -1].mean()
    # Amplitude per pixel: the closed-form ML amplitude for the pooled shape.
    g = (E / fit.reference_eV) ** -fit.shape_parameter[..., None]
    np.testing.assert_allclose(np.exp(fit.params[..., 0]), totals / g.sum(-1), rtol=1e-10)
    extrapolated = fit.evaluate(E_EDGE).sum(-1)
    true_sum = _power_law(amplitude, 3.5, E_EDGE[:, None, None]).sum(0)
    np.testing.assert_allclose(extrapolated.mean(), true_sum.mean(), rtol=0.02)
    plain = fit_background(counts, E).evaluate(E_EDGE).sum(-1)
    assert np.std(extrapolated - true_sum) < 0.5 * np.std(plain - true_sum)


def test_neighbourhood_radius_grows_until_the_target():
    totals = np.ones((9, 9))
    radius = neighbourhood_radius(totals, target=9.0, max_radius=5)
    assert radius[4, 4] == 1  # 3 x 3 = 9 counts
    assert radius[0, 0] == 2  # a corner sees only part of its square
    assert np.all(neighbourhood_radius(totals * 100, 50.0, 5) == 0)
    assert np.all(neighbourhood_radius(totals, 1e9, 3) == 3)  # never reached: the largest
    line = neighbourhood_radius(np.ones(10), target=5.0, max_radius=4)
    assert line[5] == 2


def test_zero_count_pixels_are_flagged_not_invented():
    counts = np.zeros((3, E.size))
    counts[0] = 5
    fit = fit_background(counts, E)
    assert fit.converged.tolist() == [True, False, False]
    assert np.all(fit.evaluate(E)[1:] == 0)
    assert np.all(np.isnan(fit.covariance[1:]))


@pytest.mark.parametrize(
    ("counts", "energy", "message"),
    [
        (np.full((2, 44), np.nan), E, "NaN or inf"),
        (np.full((2, 44), -1.0), E, "negative"),
        (np.ones((2, 4)), E[:4], "at least"),
        (np.ones((2, 44)), E[:40], "do not match"),
        (np.ones((2, 44)), E - 60.0, "positive energies"),
    ],
)
def test_bad_input(counts, energy, message):
    with pytest.raises(ValueError, match=message):
        fit_background(counts, energy)


def test_bad_model_and_estimator():
    with pytest.raises(ValueError, match="model must be one of"):
        fit_background(np.ones((1, 44)), E, model="polynomial")
    with pytest.raises(ValueError, match="estimator must be one of"):
        fit_background(np.ones((1, 44)), E, estimator="chi2")
    with pytest.raises(ValueError, match="line scan or a map"):
        fit_background_dose_aware(np.ones((2, 2, 2, 44)), E, target=10)


def test_evaluate_matches_the_model_definition():
    params = np.array([[np.log(10.0), 3.0]])
    np.testing.assert_allclose(
        evaluate_background(params, E, "power_law", 45.0), _power_law(10.0, 3.0)[None]
    )


def test_shape_parameter_stays_in_its_physical_range_at_very_low_counts():
    rng = np.random.default_rng(4)
    energy = np.linspace(480.0, 525.0, 150)
    counts = rng.poisson(0.1 * (energy / 500.0) ** -3.0, size=(5000, energy.size))
    fit = fit_background(counts, energy)
    r = fit.shape_parameter
    assert np.all((r >= 0.0) & (r <= 12.0))
    at_bound = (r == 0.0) | (r == 12.0)
    assert at_bound.any() and not fit.converged[at_bound].any()
    # Extrapolations stay finite and bounded.
    assert np.all(np.isfinite(fit.evaluate(np.linspace(532.0, 570.0, 20))))
