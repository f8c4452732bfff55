"""CryoEELSSpectrum.subtract_background on the built-in dataset: accuracy, lazy, errors."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.dose import MissingMetadataError
from cryospec.data import li_lipon
from cryospec.edges import get_edge
from cryospec.signals import CryoEELSSpectrum


@pytest.fixture(scope="module")
def low_dose():
    return li_lipon(shape=(16, 64), beam_current_pA=4.0, seed=11)


def _edge_error(sub, truth, edge):
    element = edge.split("_")[0]
    lo, hi = get_edge(edge).integration_window_eV
    w = (truth.energy_eV >= lo) & (truth.energy_eV <= hi)
    true = truth.edges[edge][..., w].sum(-1)
    est = sub.data[..., w].sum(-1)
    present = truth.areal_density[element] > 0.2 * truth.areal_density[element].max()
    return (est - true)[present] / true[present].mean()


def test_li_k_at_very_low_dose_is_unbiased(low_dose):
    core_loss, _, truth = low_dose
    pre = (truth.energy_eV > 45) & (truth.energy_eV < 53)
    assert core_loss.data[..., pre].mean() < 60  # tens of counts per channel before Li K
    sub = core_loss.subtract_background("Li_K", count_target=4000)
    err = _edge_error(sub, truth, "Li_K")
    assert abs(err.mean()) < 0.02
    assert abs(err.mean()) < 3 * err.std() / np.sqrt(err.size) + 0.005


def test_dose_aware_o_k_beats_the_per_pixel_fit_at_very_low_dose(low_dose):
    core_loss, _, truth = low_dose
    aware = _edge_error(core_loss.subtract_background("O_K", count_target=4000), truth, "O_K")
    plain = _edge_error(core_loss.subtract_background("O_K"), truth, "O_K")
    # The pooled shape's error is shared by a whole neighbourhood (about 200 pixels here), so
    # the mean over one small map scatters by about 2 % from seed to seed.
    assert abs(aware.mean()) < 0.06
    # The pooled shape removes most of the exponent's scatter; the per-pixel fit is bounded to
    # the physical range of r (0-12), so it does not explode, but it scatters more.
    assert aware.std() < 0.85 * plain.std()


def test_variance_is_propagated_and_matches_the_scatter(low_dose):
    core_loss, _, truth = low_dose
    sub = core_loss.subtract_background("Li_K", count_target=4000)
    variance = sub.metadata.Signal.Noise_properties.variance
    assert isinstance(variance, CryoEELSSpectrum)
    assert variance.data.shape == sub.data.shape
    lo, hi = get_edge("Li_K").integration_window_eV
    w = (truth.energy_eV >= lo) & (truth.energy_eV <= hi)
    # Channels far above the window: variance is the counts' Poisson variance plus the
    # background's; standardised residuals against the truth have unit variance.
    residual = sub.data[..., w] - truth.edges["Li_K"][..., w]
    z = residual / np.sqrt(variance.data[..., w])
    assert np.var(z) == pytest.approx(1.0, abs=0.1)
    below = truth.energy_eV < 40.0
    assert np.all(sub.data[..., below] == 0)
    assert sub.metadata.CryoSpec.Background.model == "power_law"
    assert sub.metadata.CryoSpec.History[-1]["subtract_background"]["edge"] == "Li_K"


def test_fit_result_signals(low_dose):
    core_loss, _, truth = low_dose
    _sub, result = core_loss.subtract_background("Li_K", count_target=4000, return_fit=True)
    assert result.shape.data.shape == (16, 64)
    assert result.neighbourhood_radius.data.max() >= 1
    assert np.all(result.converged.data)
    assert np.abs(result.shape.data - truth.background_exponent).mean() < 0.1
    assert np.nanmean(result.reduced_deviance.data) == pytest.approx(1.0, abs=0.1)
    _lcpl_sub, lcpl = core_loss.subtract_background("Li_K", model="lcpl", return_fit=True)
    assert lcpl.shape.data.shape == (16, 64, 4)


def test_lazy_and_in_memory_give_the_same_numbers(low_dose):
    core_loss, _, _ = low_dose
    lazy = core_loss.as_lazy()
    lazy.data = lazy.data.rechunk((4, 16, -1))
    for kwargs in ({}, {"count_target": 4000}):
        eager = core_loss.subtract_background("Li_K", **kwargs)
        out = lazy.subtract_background("Li_K", **kwargs)
        assert out._lazy
        assert out.metadata.Signal.Noise_properties.variance._lazy
        np.testing.assert_array_equal(out.data.compute(), eager.data)
        # Same numbers up to float32 rounding of the block-wise einsum.
        np.testing.assert_allclose(
            out.metadata.Signal.Noise_properties.variance.data.compute(),
            eager.metadata.Signal.Noise_properties.variance.data,
            rtol=1e-6,
        )


def test_lazy_path_computes_nothing_before_compute_and_reads_each_block_once(low_dose):
    """The lazy fit runs inside the blocks beside the subtraction: building the result
    computes nothing, and computing it (or writing it) reads every input block once."""
    import dask
    from dask.callbacks import Callback

    core_loss, _, _ = low_dose
    lazy = core_loss.as_lazy()
    lazy.data = lazy.data.rechunk((4, -1, -1))
    inputs = set(dask.core.flatten(lazy.data.__dask_keys__()))
    seen = []

    class Watch(Callback):
        def _pretask(self, key, dsk, state):
            seen.append(key)

    with Watch():
        result = lazy.subtract_background("Li_K")
    assert seen == []
    with Watch():
        computed = result.data.compute()
    read = [key for key in seen if key in inputs]
    assert sorted(read) == sorted(inputs)  # every block once, none twice
    np.testing.assert_allclose(computed, core_loss.subtract_background("Li_K").data, rtol=1e-5)


def test_lazy_fit_errors_name_the_problem(low_dose):
    core_loss, _, _ = low_dose
    bad = core_loss.deepcopy()
    bad.data[0, 0, bad.axes_manager[-1].value2index(48.0)] = -3.0  # in the Li K window
    with pytest.raises(ValueError, match="negative counts in the background windows"):
        bad.as_lazy().subtract_background("Li_K", negative="raise").data.compute()
    clipped = bad.as_lazy().subtract_background("Li_K", negative="clip").data.compute()
    assert np.all(np.isfinite(clipped))
    # the default fits them with the read noise: a lazy signal is read once, so it is given
    with pytest.raises(ValueError, match="give read_noise"):
        bad.as_lazy().subtract_background("Li_K").data.compute()
    shifted = bad.as_lazy().subtract_background("Li_K", read_noise=3.0)
    assert shifted.metadata.CryoSpec.Background.read_noise == 3.0
    assert np.all(np.isfinite(shifted.data.compute()))
    # in memory, it is estimated from the negative counts, with a warning
    with pytest.warns(UserWarning, match="read noise of 3 counts"):
        estimated = bad.subtract_background("Li_K")
    assert estimated.metadata.CryoSpec.Background.read_noise == pytest.approx(3.0)
    np.testing.assert_allclose(estimated.data, shifted.data.compute(), rtol=1e-5, atol=1e-6)


def test_inplace_and_gain(low_dose):
    core_loss, _, _truth = low_dose
    copy = core_loss.deepcopy()
    assert copy.subtract_background("Li_K", inplace=True) is None
    np.testing.assert_array_equal(copy.data, core_loss.subtract_background("Li_K").data)
    # The gain scales the variance, not the fitted background.
    doubled = core_loss.deepcopy()
    doubled.data = doubled.data * 2
    a = core_loss.subtract_background("Li_K", detector_gain=1.0)
    b = doubled.subtract_background("Li_K", detector_gain=2.0)
    np.testing.assert_allclose(b.data, 2 * a.data, rtol=1e-4, atol=1e-3)
    va = a.metadata.Signal.Noise_properties.variance.data
    vb = b.metadata.Signal.Noise_properties.variance.data
    np.testing.assert_allclose(vb, 4 * va, rtol=1e-3)


def test_input_variance_is_used_when_present(low_dose):
    core_loss, _, _ = low_dose
    s = core_loss.inav[:8, :4].deepcopy()
    s.estimate_poissonian_noise_variance()
    s.metadata.Signal.Noise_properties.variance.data *= 3.0
    three = s.subtract_background("Li_K").metadata.Signal.Noise_properties.variance.data
    s.metadata.Signal.Noise_properties.variance.data /= 3.0
    one = s.subtract_background("Li_K").metadata.Signal.Noise_properties.variance.data
    counts_variance = s.metadata.Signal.Noise_properties.variance.data
    # Same background variance in both; the counts' part is the input's, tripled.
    np.testing.assert_allclose(
        (three - one)[..., 200:], 2 * counts_variance[..., 200:], rtol=1e-4, atol=1e-4
    )


def _small():
    core_loss, _, _ = li_lipon(shape=(3, 8), seed=0)
    return core_loss


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"edge": "Li_K", "windows": [(20.0, 50.0)]}, "outside the energy axis"),
        ({"edge": "Li_K", "windows": [(45.0, 58.0)]}, "overlaps the Li_K onset"),
        ({"windows": [(45.0, 45.5)]}, "at least 5 are needed"),
        ({"windows": [(50.0, 45.0)]}, "lo < hi"),
        ({}, "give an edge name"),
        ({"edge": "Li_K", "model": "cubic"}, "model must be one of"),
        ({"edge": "Li_K", "negative": "ignore"}, "negative must be"),
        ({"edge": "Li_K", "read_noise": -1.0}, "read_noise"),
        ({"edge": "Zr_K"}, "not in the cryospec edge database"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, KeyError), match=message):
        _small().subtract_background(**kwargs)


def test_nan_and_negative_counts():
    s = _small()
    s.data[0, 0, 40] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        s.subtract_background("Li_K")
    s = _small()
    s.data[0, 0, 40] = -3.0
    with pytest.raises(ValueError, match="negative counts"):
        s.subtract_background("Li_K", negative="raise")
    with pytest.raises(ValueError, match="negative counts"):
        # the shifted-Poisson fit is a power law by maximum likelihood: not this estimator
        s.subtract_background("Li_K", estimator="ls")
    out = s.subtract_background("Li_K", negative="clip")
    assert out.metadata.CryoSpec.Background.negative == "clip"
    assert s.data[0, 0, 40] == -3.0  # the input is untouched


def test_missing_gain_is_named():
    s = _small()
    del s.metadata.CryoSpec.Acquisition.detector_gain
    with pytest.raises(MissingMetadataError, match="detector_gain"):
        s.subtract_background("Li_K")
    assert s.subtract_background("Li_K", detector_gain=1.0) is not None


def test_non_uniform_axis_is_refused():
    import hyperspy.api as hs

    energy = np.geomspace(30.0, 600.0, 256)
    s = hs.signals.Signal1D(
        np.ones((2, 256)),
        axes=[{"size": 2}, {"axis": energy, "units": "eV", "name": "Energy loss"}],
    )
    s.set_signal_type("CryoEELS")
    with pytest.raises(ValueError, match="not uniform"):
        s.subtract_background("Li_K", detector_gain=1.0)


@pytest.fixture(scope="module")
def thick_noiseless():
    return li_lipon(shape=(8, 64), beam_current_pA=4000.0, noise=False, seed=0)


def test_p_l23_on_the_li_k_tail_needs_the_tail_in_the_model(thick_noiseless):
    core_loss, low_loss, truth = thick_noiseless
    plain = _edge_error(core_loss.subtract_background("P_L23", preceding_edges=[]), truth, "P_L23")
    with_tail = _edge_error(
        core_loss.subtract_background("P_L23", preceding_edges="Li_K", low_loss=low_loss),
        truth,
        "P_L23",
    )
    assert plain.mean() < -0.08  # a single power law misses the curved Li K tail
    assert abs(with_tail.mean()) < 0.02
    assert np.abs(with_tail).max() < 0.05


def test_preceding_edge_mode_at_very_low_dose(low_dose):
    core_loss, low_loss, truth = low_dose
    sub, result = core_loss.subtract_background(
        "P_L23", preceding_edges=["Li_K"], low_loss=low_loss, count_target=4000, return_fit=True
    )
    err = _edge_error(sub, truth, "P_L23")
    assert abs(err.mean()) < 0.05
    assert set(result.edge_coefficients) == {"Li_K"}
    assert result.windows_eV == [(40.0, 53.0), (105.0, 128.0)]
    assert sub.metadata.CryoSpec.Background.plural_scattering == "low loss given"
    # The background's own error, summed over the P window, is part of the spread.
    predicted = np.sqrt(result.window_sum_variance(132.0, 172.0))
    assert np.all(np.isfinite(predicted)) and np.all(predicted > 0)


def test_preceding_edge_mode_lazy_matches(thick_noiseless):
    core_loss, low_loss, _ = thick_noiseless
    eager = core_loss.subtract_background("P_L23", preceding_edges="Li_K", low_loss=low_loss)
    lazy = core_loss.as_lazy()
    lazy.data = lazy.data.rechunk((4, 16, -1))
    out = lazy.subtract_background("P_L23", preceding_edges="Li_K", low_loss=low_loss)
    np.testing.assert_allclose(out.data.compute(), eager.data, rtol=1e-5, atol=1e-3)


def test_preceding_edge_mode_errors(thick_noiseless):
    core_loss, low_loss, _ = thick_noiseless
    with pytest.raises(ValueError, match="model='power_law'"):
        core_loss.subtract_background("P_L23", preceding_edges="Li_K", model="lcpl")
    with pytest.raises(ValueError, match="low_loss is used with preceding_edges"):
        core_loss.subtract_background("P_L23", preceding_edges=[], low_loss=low_loss)
    with pytest.raises(ValueError, match="navigation shape"):
        core_loss.subtract_background("P_L23", preceding_edges="Li_K", low_loss=low_loss.inav[:10])
    # a low loss at another dispersion is resampled onto the core loss's channels (#17), no
    # longer refused
    coarse = low_loss.deepcopy()
    axis = coarse.axes_manager[-1]
    axis.offset, axis.scale = 2 * axis.offset, 2 * axis.scale  # zero-loss peak still at 0 eV
    subtracted = core_loss.subtract_background("P_L23", preceding_edges="Li_K", low_loss=coarse)
    assert subtracted.metadata.CryoSpec.Background.plural_scattering == "low loss given"
    assert np.all(np.isfinite(subtracted.data))
    bare = core_loss.deepcopy()
    del bare.metadata.Acquisition_instrument.TEM.beam_energy
    with pytest.raises(MissingMetadataError, match="beam_energy"):
        bare.subtract_background("P_L23", preceding_edges="Li_K")


def test_li_k_tail_under_p_from_the_declared_elements(low_dose):
    """P L2,3 on the tail of Li K: preceding_edges="auto" models the tails of the declared
    elements' edges below (here Li K); a plain power law underestimates P on this dataset."""
    core_loss, _, truth = low_dose
    energy = core_loss.axes_manager.signal_axes[0].axis
    window = (energy > 140) & (energy < 180)
    true = truth.edges["P_L23"][..., window].sum(-1)
    present = true > 0.3 * true.max()

    def bias(subtracted):
        net = subtracted.data[..., window].sum(-1)
        return float(net[present].sum() / true[present].sum() - 1)

    with_tails = core_loss.subtract_background("P_L23", preceding_edges="auto")
    record = with_tails.metadata.CryoSpec.Background
    assert record.model == "power_law + tails of Li_K"
    assert "Li_K" in record.note and "declared" in record.note
    plain = core_loss.subtract_background("P_L23", preceding_edges=[])
    assert plain.metadata.CryoSpec.Background.model == "power_law"
    assert abs(bias(with_tails)) < 0.03
    assert bias(plain) < -0.05
    assert core_loss.subtract_background("P_L23").metadata.CryoSpec.Background.model == (
        "power_law"
    )  # the default
    # nothing below Li K, explicit windows: a plain power law
    below_li = core_loss.subtract_background("Li_K", preceding_edges="auto")
    assert below_li.metadata.CryoSpec.Background.model == "power_law"
    explicit = core_loss.subtract_background(
        "P_L23", preceding_edges="auto", windows=[(110.0, 128.0)]
    )
    assert explicit.metadata.CryoSpec.Background.model == "power_law"


def test_li_k_tail_model_is_not_the_default_on_data_cryospec_did_not_make():
    """exspy-made data (tests/independent_forward_model: hydrogenic Li K with fine structure,
    Drude plasmons, Poisson noise at 2e6 electrons per pixel): the P L2,3 signal is the
    difference from the same data without P. There the Li K tail model biases P more than the
    plain power law, which is why the plain power law stays the default."""
    from independent_forward_model import exspy_spectrum_image

    kwargs = {"electrons_per_pixel": 2e6, "shape": (4, 4), "energy_range_eV": (30.0, 300.0)}
    with_p = exspy_spectrum_image({"Li_K": 2000.0, "P_L23": 500.0}, seed=1, **kwargs)
    without = exspy_spectrum_image({"Li_K": 2000.0}, seed=1, **kwargs)
    energy = with_p.core_loss.axes_manager.signal_axes[0].axis
    window = (energy > 140) & (energy < 180)
    true = (with_p.core_loss.data - without.core_loss.data)[..., window].sum(-1).mean()
    signal = with_p.core_loss
    signal.metadata.set_item("Sample.elements", ["Li", "P"])

    def bias(**kwargs):
        net = signal.subtract_background("P_L23", **kwargs).data[..., window].sum(-1).mean()
        return net / true - 1

    plain = bias()
    tails = bias(preceding_edges="auto", low_loss=with_p.low_loss)
    assert abs(plain) < abs(tails)
    assert abs(plain) < 0.12
