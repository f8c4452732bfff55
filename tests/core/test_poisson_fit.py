"""The Poisson model fit kernel (power law + edge shapes, every pixel at once) on NumPy arrays."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.background import default_reference_eV
from cryospec.core.edge_shapes import edge_shapes
from cryospec.core.poisson_fit import channel_bins, fit_power_law_with_edges
from cryospec.core.quantify import EdgeModelResult, atomic_fractions, fit_edge_model

ENERGY = np.arange(40.0, 200.0, 0.5)
ONSETS = (60.0, 120.0)


def _shapes(energy=ENERGY):
    """Two delayed edge-like shapes (arbitrary units), zero below their onsets."""
    out = []
    for onset in ONSETS:
        u = np.clip(energy - onset, 0.0, None) / 4.0
        out.append(u**2 / (1.0 + u**2) * (onset / energy) ** 3)
    return np.stack(out, axis=-1)


def _expected(amp, r, coef, energy=ENERGY):
    reference = default_reference_eV(energy, "power_law")  # the fit's amplitude is there
    power = amp[..., None] * (energy / reference) ** -np.asarray(r)[..., None]
    return power + np.einsum("nj,...j->...n", _shapes(energy), coef)


ANCHOR = ENERGY < ONSETS[0]
TRUE_AMP, TRUE_R, TRUE_COEF = 400.0, 3.2, np.array([900.0, 300.0])


def test_noiseless_counts_give_back_the_parameters():
    counts = _expected(np.array([TRUE_AMP]), np.array([TRUE_R]), TRUE_COEF[None])
    fit = fit_power_law_with_edges(counts, ENERGY, _shapes(), ANCHOR)
    np.testing.assert_allclose(fit.params[0, 0], TRUE_AMP, rtol=1e-4)
    np.testing.assert_allclose(fit.params[0, 1], TRUE_R, rtol=1e-4)
    np.testing.assert_allclose(fit.params[0, 2:], TRUE_COEF, rtol=1e-4)
    assert fit.converged[0]
    assert fit.dof == ENERGY.size - 4
    assert fit.deviance[0] < 1e-6


def test_poisson_noise_unbiased_and_errors_calibrated():
    rng = np.random.default_rng(0)
    n_pixels = 600
    mu = _expected(
        np.full(n_pixels, TRUE_AMP), np.full(n_pixels, TRUE_R), np.tile(TRUE_COEF, (n_pixels, 1))
    )
    counts = rng.poisson(mu).astype(float)
    fit = fit_power_law_with_edges(counts, ENERGY, _shapes(), ANCHOR)
    se = np.sqrt(np.diagonal(fit.covariance, axis1=-2, axis2=-1))
    truth = np.array([TRUE_AMP, TRUE_R, *TRUE_COEF])
    z = (fit.params - truth) / se
    # unbiased: the mean error is within 4 standard errors of the mean
    assert np.all(np.abs(z.mean(axis=0)) < 4 / np.sqrt(n_pixels) + 0.05)
    # the Fisher errors match the scatter of the estimates
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.12)
    # the deviance per degree of freedom is about 1 when the model holds
    assert abs(np.median(fit.deviance / fit.dof) - 1.0) < 0.1
    assert np.all(fit.converged)


def test_absent_edge_stays_non_negative():
    rng = np.random.default_rng(1)
    mu = _expected(np.full(200, TRUE_AMP), np.full(200, TRUE_R), np.tile([900.0, 0.0], (200, 1)))
    fit = fit_power_law_with_edges(rng.poisson(mu).astype(float), ENERGY, _shapes(), ANCHOR)
    assert np.all(fit.params[:, [0, 2, 3]] >= 0)
    se = np.sqrt(fit.covariance[:, 3, 3])
    assert np.median(fit.params[:, 3] / se) < 2  # consistent with no edge


def test_binning_and_channel_selection_keep_the_likelihood():
    rng = np.random.default_rng(2)
    mu = _expected(np.full(50, TRUE_AMP), np.full(50, TRUE_R), np.tile(TRUE_COEF, (50, 1)))
    counts = rng.poisson(mu).astype(float)
    full = fit_power_law_with_edges(counts, ENERGY, _shapes(), ANCHOR)
    binned = fit_power_law_with_edges(counts, ENERGY, _shapes(), ANCHOR, bin_width=0.02)
    se_full = np.sqrt(np.diagonal(full.covariance, axis1=-2, axis2=-1))
    se_binned = np.sqrt(np.diagonal(binned.covariance, axis1=-2, axis2=-1))
    # summed Poisson counts stay Poisson: the binned fit is as unbiased, a little less precise
    truth = np.array([TRUE_AMP, TRUE_R, *TRUE_COEF])
    assert np.all(np.abs(((binned.params - truth) / se_binned).mean(0)) < 0.5)
    ratio = np.median(se_binned / se_full, axis=0)
    assert np.all((ratio >= 0.99) & (ratio < 1.3))
    # the fit channels marked within longer spectra give the same fit as a copy of them
    wider = np.concatenate([np.full((50, 7), 5.0), counts, np.full((50, 3), 5.0)], axis=-1)
    mask = np.r_[np.zeros(7, bool), np.ones(ENERGY.size, bool), np.zeros(3, bool)]
    marked = fit_power_law_with_edges(
        wider, ENERGY, _shapes(), ANCHOR, bin_width=0.02, channels=mask
    )
    np.testing.assert_allclose(marked.params, binned.params, rtol=1e-10)


def test_channel_bins_grow_with_energy_and_respect_gaps():
    energy = np.r_[np.arange(50.0, 60.0, 0.5), np.arange(80.0, 200.0, 0.5)]
    starts = channel_bins(energy, 0.04)
    widths = np.diff(np.r_[starts, energy.size])
    assert widths[0] < widths[-1]
    assert np.flatnonzero(energy == 80.0)[0] in starts  # no bin straddles the gap


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: np.where(np.arange(c.shape[-1]) == 5, np.nan, c), "finite and >= 0"),
        (lambda c: c - 1e4, "finite and >= 0"),
    ],
)
def test_bad_counts_are_refused(change, message):
    counts = _expected(np.array([TRUE_AMP]), np.array([TRUE_R]), TRUE_COEF[None])
    with pytest.raises(ValueError, match=message):
        fit_power_law_with_edges(change(counts), ENERGY, _shapes(), ANCHOR)


def test_too_few_anchor_channels_are_refused():
    counts = _expected(np.array([TRUE_AMP]), np.array([TRUE_R]), TRUE_COEF[None])
    anchor = ENERGY < 41.5
    with pytest.raises(ValueError, match="at least 5 channels"):
        fit_power_law_with_edges(counts, ENERGY, _shapes(), anchor)


def test_empty_pixel_is_not_converged():
    counts = _expected(
        np.array([TRUE_AMP, TRUE_AMP]), np.array([TRUE_R, TRUE_R]), np.tile(TRUE_COEF, (2, 1))
    )
    counts[1] = 0.0
    fit = fit_power_law_with_edges(counts, ENERGY, _shapes(), ANCHOR)
    assert fit.converged.tolist() == [True, False]


def test_edge_model_recovers_areal_densities_and_packs_losslessly():
    energy = np.arange(30.0, 644.0, 0.3)
    microscope = (300.0, 20.0, 10.0)
    edges = ("Li_K", "O_K")
    shapes = edge_shapes(energy, edges, *microscope)
    density = np.array([[3000.0, 1500.0], [1000.0, 2500.0]])
    incident = 2e5
    scale = incident * 0.3 * 1e-10
    background = 5e4 * (energy / 100.0) ** -3.5
    counts = background + (shapes @ density.T).T * scale
    result = fit_edge_model(counts, energy, list(edges), microscope, incident, bin_width=0.0)
    np.testing.assert_allclose(result.areal_density, density, rtol=2e-3)
    assert np.all(result.converged)
    again = EdgeModelResult.unpack(result.pack(), result.edges, result.overlaps)
    for name in ("areal_density", "covariance", "background_exponent", "reduced_deviance"):
        np.testing.assert_array_equal(getattr(again, name), getattr(result, name))
    with pytest.raises(ValueError, match="values per pixel"):
        EdgeModelResult.unpack(result.pack()[..., :-1], result.edges)


def test_atomic_fraction_errors_follow_the_delta_method():
    rng = np.random.default_rng(3)
    density = np.array([300.0, 100.0, 600.0])
    covariance = np.diag([20.0, 10.0, 30.0]) ** 2
    fraction, se = atomic_fractions(density, covariance)
    draws = rng.multivariate_normal(density, covariance, size=20000)
    sampled = draws / draws.sum(-1, keepdims=True)
    np.testing.assert_allclose(fraction, sampled.mean(0), atol=2e-3)
    np.testing.assert_allclose(se, sampled.std(0), rtol=0.05)


@pytest.mark.parametrize("bin_width", [0.0, 0.04])
def test_read_noise_shifted_poisson_is_unbiased_with_honest_errors(bin_width):
    """Counts of a dark-subtracted detector (Poisson + Gaussian read noise of 8 electrons, a
    third of them negative) fitted as shifted Poisson: the edge amplitudes within 5 % of the
    truth and a tenth of a pixel's standard error (measured -2 % and -3 % for a standard error
    of 39 % per pixel: the small-sample bias of a maximum-likelihood fit this noisy), their
    standard errors and the deviance per degree of freedom those of the noise (the plain
    Poisson fit refuses the negative counts)."""
    rng = np.random.default_rng(5)
    amp, r, coef = np.full(3000, 4.0), np.full(3000, 3.2), np.tile([12.0, 4.0], (3000, 1))
    expected = _expected(amp, r, coef)
    counts = rng.poisson(expected) + rng.normal(0.0, 8.0, expected.shape)
    assert (counts < 0).mean() > 0.2
    with pytest.raises(ValueError, match="finite and >= 0"):
        fit_power_law_with_edges(counts, ENERGY, _shapes(), ANCHOR, bin_width=bin_width)
    fit = fit_power_law_with_edges(
        counts, ENERGY, _shapes(), ANCHOR, bin_width=bin_width, read_noise=8.0
    )
    found = fit.params[:, 2:]
    se = np.sqrt(np.diagonal(fit.covariance, axis1=-2, axis2=-1))[:, 2:]
    scatter = found.std(axis=0)
    bias = np.abs(found.mean(0) - coef[0])
    np.testing.assert_array_less(bias, 0.05 * coef[0])
    np.testing.assert_array_less(bias, 0.1 * scatter)
    np.testing.assert_allclose(se.mean(0), scatter, rtol=0.1)
    assert np.median(fit.deviance / fit.dof) == pytest.approx(1.0, abs=0.1)


def test_power_law_read_noise_is_the_poisson_fit_without_it():
    from cryospec.core.background import fit_background
    from cryospec.core.poisson_fit import fit_power_law_read_noise

    e = np.linspace(40.0, 53.0, 44)
    counts = np.random.default_rng(0).poisson(30.0 * (e / 45.0) ** -3.5, size=(50, 44))
    plain, shifted = fit_background(counts, e), fit_power_law_read_noise(counts, e, 0.0)
    np.testing.assert_allclose(shifted.params, plain.params, rtol=1e-9)
    np.testing.assert_allclose(shifted.covariance, plain.covariance, rtol=1e-6, atol=1e-12)
    assert shifted.reference_eV == plain.reference_eV
    with pytest.raises(ValueError, match="read_noise must be finite"):
        fit_power_law_read_noise(counts, e, -1.0)


def test_plurally_scattered_shapes_hold_to_the_last_channel():
    """The gain side of the zero-loss peak reaches above the axis: the last channels of a
    shape convolved with a low loss equal those of the same shape on a longer axis (they used
    to drop by up to 37 % over the last peak width)."""
    from cryospec.core.edge_shapes import edge_shapes

    step = 0.5
    ll_energy = np.arange(-10.0, 60.0, step)
    low_loss = np.exp(-0.5 * (ll_energy / 1.5) ** 2) + 0.05 * np.exp(
        -0.5 * ((ll_energy - 22) / 4) ** 2
    )
    short = np.arange(400.0, 600.0, step)
    longer = np.arange(400.0, 650.0, step)
    args = (("N_K", "O_K"), 300.0, 20.0, 10.0, low_loss, ll_energy)
    a = edge_shapes(short, *args, cross_section="hydrogenic")
    b = edge_shapes(longer, *args, cross_section="hydrogenic")[: short.size]
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * b.max())
