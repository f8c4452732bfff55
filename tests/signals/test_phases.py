"""Phase maps from reference spectra, and NMF components named by them, against synthetic truth."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.data import InterphaseGeometry, li_lipon

GRAINS = InterphaseGeometry(mosaic="grains")


@pytest.fixture(scope="module")
def grains():
    """Medium dose (40 pA, 5 ms, 2.5 nm pixels: about 2000 e/A^2), grain mosaic."""
    core_loss, low_loss, truth = li_lipon(shape=(24, 64), seed=1, geometry=GRAINS)
    result = core_loss.phase_maps(truth.phase_references(), low_loss=low_loss)
    return core_loss, low_loss, truth, result


def _li_atoms(truth, i):
    return truth.li_environment_fractions[..., i] * truth.areal_density["Li"]


def test_grain_mosaic_keeps_the_expected_shares_and_has_pure_pixels():
    _, _, truth = li_lipon(shape=(24, 64), seed=1, geometry=GRAINS, noise=False)
    fractions = truth.phase_fractions
    assert np.allclose(fractions.sum(axis=-1), 1.0)
    interphase = fractions[..., 1:4]
    # every interphase pixel holds one of Li2O, Li3N, Li3PO4 (away from the outer interfaces)
    assert np.all(np.count_nonzero(interphase > 1e-9, axis=-1) <= 1)
    for i in range(1, 4):
        assert np.sum(fractions[..., i] > 0.95) > 10
    with pytest.raises(ValueError, match="mosaic"):
        InterphaseGeometry(mosaic="checkerboard")


def test_phase_maps_correlate_with_the_true_maps_at_medium_dose(grains):
    _, _, truth, result = grains
    for i, name in enumerate(truth.phases):
        amount = result.amount[name].data.ravel()
        assert np.corrcoef(amount, _li_atoms(truth, i).ravel())[0, 1] > 0.95, name
        fraction = result.fraction[name].data.ravel()
        true_fraction = truth.li_environment_fractions[..., i].ravel()
        assert np.corrcoef(fraction, true_fraction)[0, 1] > 0.95, name
    # the references describe the data: deviance per degree of freedom about 1
    assert 0.9 < np.median(result.residual.data) < 1.2


def test_amounts_scale_with_the_incident_electrons(grains):
    _, _, truth, result = grains
    # references are dsigma/dE per Li atom in barn/eV: amount = I0 * n_Li * 1e-10 nm^2/barn * dE
    step = truth.energy_eV[1] - truth.energy_eV[0]
    expected = truth.electrons_per_pixel * 1e-10 * step
    total = sum(result.amount[name].data for name in truth.phases)
    ratio = np.median(total / truth.areal_density["Li"])
    assert ratio == pytest.approx(expected, rel=0.05)


def test_fraction_standard_errors_match_the_scatter(grains):
    _, _, truth, result = grains
    for i, name in enumerate(truth.phases):
        f = result.fraction[name].data
        se = result.fraction_se[name].data
        inside = (f > 0.1) & (f < 0.9)
        if inside.sum() < 50:
            continue
        z = (f - truth.li_environment_fractions[..., i])[inside] / se[inside]
        assert 0.5 < np.std(z) < 1.5, name
        assert abs(np.mean(z)) < 1.0, name


def test_lazy_phase_maps_equal_in_memory(grains):
    core_loss, low_loss, truth, result = grains
    lazy = core_loss.as_lazy()
    lazy.data = lazy.data.rechunk((8, 16, -1))
    lazy_result = lazy.phase_maps(truth.phase_references(), low_loss=low_loss)
    for name in truth.phases:
        np.testing.assert_allclose(
            lazy_result.fraction[name].data, result.fraction[name].data, atol=1e-8
        )


def test_nmf_components_are_labelled_with_the_phase_they_map(grains):
    core_loss, _, truth, result = grains
    s = core_loss.deepcopy()
    s.decomposition_kl(4, signal_range=(40.0, 90.0))
    labels = s.label_components(result)
    assert s.metadata.CryoSpec.Decomposition.labels == [name for name, _ in labels]
    loadings = s.learning_results.loadings
    true_maps = np.stack([_li_atoms(truth, i).ravel() for i in range(len(truth.phases))], -1)
    corr = np.corrcoef(np.c_[loadings, true_maps].T)[:4, 4:]
    confident = 0
    for k, (label, score) in enumerate(labels):
        if score > 0.7:
            confident += 1
            assert label == truth.phases[int(np.argmax(corr[k]))]
    assert confident >= 3
    assert {"Li", "Li2O", "LiPON"} <= {label for label, score in labels if score > 0.7}


def test_label_components_needs_a_decomposition(grains):
    core_loss, _, _, result = grains
    s = core_loss.deepcopy()
    with pytest.raises(ValueError, match="decomposition_kl"):
        s.label_components(result)


def test_bad_references_and_ranges_are_refused(grains):
    core_loss, _, truth, _ = grains
    refs = truth.phase_references()
    with pytest.raises(ValueError, match="non-empty"):
        core_loss.phase_maps({})
    with pytest.raises(ValueError, match="non-negative"):
        core_loss.phase_maps({"x": -refs["Li"].data})
    with pytest.raises(ValueError, match="channels"):
        core_loss.phase_maps({"x": refs["Li"].data[:100]})
    far = refs["Li"].deepcopy()
    far.axes_manager.signal_axes[0].offset = 2000.0
    with pytest.raises(ValueError, match="does not overlap"):
        core_loss.phase_maps({"x": far})
    with pytest.raises(ValueError, match="background end"):
        core_loss.phase_maps(refs, signal_range=(10.0, 90.0))
    negative = core_loss.deepcopy()
    negative.data[0, 0, 50] = -3.0
    with pytest.raises(ValueError, match="negative counts"):
        negative.phase_maps(refs, negative="raise")
    # by default they are fitted with the read noise, here estimated from the one negative count
    with pytest.warns(UserWarning, match="read noise of 3 counts"):
        shifted = negative.phase_maps(refs)
    assert shifted.noise["read_noise_counts"] == pytest.approx(3.0)
    assert np.all(np.isfinite(shifted.fraction["Li"].data))
