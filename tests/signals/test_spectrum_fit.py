"""The mean spectrum and the model fitted to it (``QuantificationResult.spectrum_fit``), measured
on spectrum images that cryospec did not make (exspy's hydrogenic edges with fine structure and
a Drude low loss, ``tests/independent_forward_model``): the curves are the fit's, they describe
the data where they were fitted, and the figure draws them."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from independent_forward_model import exspy_spectrum_image

matplotlib.use("Agg")

TRUTH = {"Li_K": 1500.0, "N_K": 240.0, "O_K": 1700.0}  # atoms/nm²
EDGES = list(TRUTH)


@pytest.fixture(scope="module")
def independent():
    return exspy_spectrum_image(TRUTH, electrons_per_pixel=6.25e6, shape=(4, 4), seed=5)


def _quantify(data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return data.core_loss.quantify(
            EDGES, low_loss=data.low_loss, cross_section="hydrogenic", **kwargs
        )


def test_the_mean_spectrum_is_the_data_per_pixel(independent):
    fit = _quantify(independent).spectrum_fit
    data = np.asarray(independent.core_loss.data, dtype=float)
    assert fit.n_pixels == 16
    np.testing.assert_allclose(fit.counts, data.reshape(-1, data.shape[-1]).mean(axis=0))
    np.testing.assert_array_equal(
        fit.energy, independent.core_loss.axes_manager.signal_axes[0].axis
    )


@pytest.mark.parametrize("fit_ranges", ["global", "local"])
def test_the_model_describes_the_spectrum_where_it_was_fitted(independent, fit_ranges):
    result = _quantify(independent, fit_ranges=fit_ranges)
    fit = result.spectrum_fit
    assert fit.method == "model"
    assert len(fit.curves) == (1 if fit_ranges == "global" else len(EDGES))
    for curve in fit.curves:
        data = np.interp(curve.energy, fit.energy, fit.counts)
        model = curve.model
        np.testing.assert_allclose(model, curve.background + sum(curve.edges.values()))
        # Poisson deviations of the 16 summed pixels, in the fitted channels: no offset, and a
        # spread near 1 (exspy's fine structure lies in the channels left out)
        z = ((data - model) / np.sqrt(model / fit.n_pixels))[curve.fitted]
        assert abs(np.mean(z)) < 0.1  # measured 0.005-0.008
        assert 0.8 < np.std(z) < 1.25  # measured 1.00-1.02
        assert np.all(curve.background > 0)
        assert set(curve.edges) <= set(EDGES)
    # the deviance per degree of freedom of the summed fit is shown: about 1 here (measured
    # 0.90 global, 0.87 local), as the per-pixel fits' (about 1.01)
    assert 0.7 < fit.reduced_deviance < 1.3
    assert 0.7 < float(np.mean(result.residual.data)) < 1.3


def test_the_edges_are_marked_with_their_left_out_regions(independent):
    result = _quantify(independent)
    marks = {m.name: m for m in result.spectrum_fit.edges}
    assert list(marks) == EDGES
    for name, mark in marks.items():
        lo, hi = mark.left_out_eV
        assert lo == mark.onset_eV
        assert hi - lo == pytest.approx(result.near_edge_eV[name])
        curve = result.spectrum_fit.curves[0]
        inside = (curve.energy > lo + 0.5) & (curve.energy < hi - 0.5)
        assert inside.any() and not curve.fitted[inside].any()


def test_the_integration_method_shows_each_edges_background_fit(independent):
    fit = _quantify(independent, method="integration").spectrum_fit
    assert fit.method == "integration"
    assert len(fit.curves) == len(EDGES)
    for curve, mark in zip(fit.curves, fit.edges, strict=True):
        assert curve.edges == {}
        assert curve.energy[-1] <= mark.integration_eV[1]
        data = np.interp(curve.energy, fit.energy, fit.counts)[curve.fitted]
        model = curve.background[curve.fitted]
        z = (data - model) / np.sqrt(model / fit.n_pixels)
        assert abs(np.mean(z)) < 0.1  # measured below 0.002
        assert 0.7 < np.std(z) < 1.3  # measured 0.86-1.07


def test_the_figure_draws_data_model_and_residual(independent):
    import matplotlib.pyplot as plt

    fig = _quantify(independent).spectrum_fit.plot()
    top, bottom = fig.axes
    labels = [line.get_label() for line in top.get_lines()]
    assert {"data", "model", "background"} <= set(labels)
    assert top.get_yscale() == "log"
    assert bottom.get_ylabel() == "residual (SD)"
    texts = [t.get_text() for t in top.texts]
    assert texts == ["Li K", "N K", "O K"]
    plt.close(fig)


def test_keep_curves_refuses_more_than_one_spectrum():
    from cryospec.core.quantify import fit_edge_model

    with pytest.raises(ValueError, match="one spectrum"):
        fit_edge_model(
            np.ones((2, 100)), np.linspace(40, 140, 100), ["Li_K"], (300.0, 20.0, 10.0), 1.0,
            keep_curves=True,
        )  # fmt: skip
