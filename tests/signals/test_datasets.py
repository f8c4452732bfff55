"""Physics checks of the built-in synthetic Li | interphase | LiPON datasets."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.cross_sections import partial_cross_section
from cryospec.core.dose import dose_per_pixel
from cryospec.data import EELS_EDGES, InterphaseGeometry, li_lipon, li_lipon_eds
from cryospec.edges import get_edge
from cryospec.signals import CryoEDSTEMSpectrum, CryoEELSSpectrum


def _window(energy, lo, hi):
    return (energy >= lo) & (energy < hi)


def _crossing(x, profile, level):
    frac = (profile - profile[0]) / (profile[-1] - profile[0])
    i = int(np.argmax(frac >= level))
    return x[i - 1] + (level - frac[i - 1]) / (frac[i] - frac[i - 1]) * (x[i] - x[i - 1])


def test_deterministic_for_a_seed():
    a = li_lipon(shape=(3, 40), seed=7)
    b = li_lipon(shape=(3, 40), seed=7)
    c = li_lipon(shape=(3, 40), seed=8)
    np.testing.assert_array_equal(a.core_loss.data, b.core_loss.data)
    np.testing.assert_array_equal(a.low_loss.data, b.low_loss.data)
    assert not np.array_equal(a.core_loss.data, c.core_loss.data)


def test_signals_axes_and_metadata(li_lipon_small):
    core_loss, low_loss, truth = li_lipon_small
    assert isinstance(core_loss, CryoEELSSpectrum) and isinstance(low_loss, CryoEELSSpectrum)
    assert core_loss.data.shape == (6, 64, 2048)
    assert core_loss.axes_manager.navigation_shape == (64, 6)
    energy_axis = core_loss.axes_manager.signal_axes[0]
    np.testing.assert_allclose(energy_axis.axis, truth.energy_eV)
    assert energy_axis.units == "eV" and energy_axis.is_binned
    ll_axis = low_loss.axes_manager.signal_axes[0]
    assert ll_axis.axis[0] < 0 < ll_axis.axis[-1]
    np.testing.assert_allclose(core_loss.axes_manager["x"].axis, truth.x_nm)
    tem = core_loss.metadata.Acquisition_instrument.TEM
    assert (tem.beam_energy, tem.convergence_angle, tem.Detector.EELS.collection_angle) == (
        300.0,
        10.0,
        20.0,
    )
    assert core_loss.get_acquisition_parameter("pixel_size_nm") == 2.5
    assert core_loss.metadata.CryoSpec.Dataset.seed == 3
    np.testing.assert_allclose(core_loss.dose_per_pixel().data, truth.dose_e_per_A2)
    assert truth.dose_e_per_A2 == pytest.approx(float(dose_per_pixel(40.0, 5e-3, 2.5)))


def test_truth_is_self_consistent(li_lipon_small):
    _, _, truth = li_lipon_small
    total = truth.background + sum(truth.edges.values())
    np.testing.assert_allclose(total, truth.core_loss_noiseless, rtol=1e-5)
    np.testing.assert_allclose(truth.phase_fractions.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(truth.li_environment_fractions.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(sum(truth.atomic_fraction.values()), 1.0, atol=1e-12)
    for element, density in truth.number_density.items():
        np.testing.assert_allclose(truth.areal_density[element], density * truth.thickness_nm)
    assert truth.interphase_thickness_nm == pytest.approx(76.0)
    # Li metal on the left, LiPON on the right.
    assert truth.phase_fractions[:, 0, 0].min() > 0.99
    assert truth.phase_fractions[:, -1, -1].min() > 0.99
    # The background follows its power law exactly.
    e = truth.energy_eV
    model = (
        truth.background_amplitude[..., None]
        * (e / 50.0) ** -truth.background_exponent[..., None]
        * 0.3
    )
    np.testing.assert_allclose(truth.background, model, rtol=1e-5)
    assert np.all((truth.background_exponent > 2) & (truth.background_exponent < 6))


def test_counts_follow_the_dose():
    low = li_lipon(shape=(2, 32), beam_current_pA=10.0, noise=False, seed=1)
    high = li_lipon(shape=(2, 32), beam_current_pA=30.0, noise=False, seed=1)
    assert high.truth.electrons_per_pixel == pytest.approx(3 * low.truth.electrons_per_pixel)
    np.testing.assert_allclose(high.core_loss.data, 3 * low.core_loss.data, rtol=1e-5)
    # The low loss holds every incident electron (a unit-area kernel).
    np.testing.assert_allclose(low.low_loss.data.sum(-1), low.truth.electrons_per_pixel, rtol=2e-3)
    frames = li_lipon(shape=(2, 32), beam_current_pA=10.0, n_frames=3, noise=False, seed=1)
    np.testing.assert_allclose(frames.core_loss.data, high.core_loss.data, rtol=1e-5)


def test_noise_is_poisson_on_electrons_times_gain():
    gain = 2.5
    noisy = li_lipon(shape=(8, 64), detector_gain=gain, seed=5)
    expected = noisy.truth.core_loss_noiseless.astype(float)
    counts = noisy.core_loss.data.astype(float)
    electrons = counts / gain
    np.testing.assert_allclose(electrons, np.round(electrons), atol=1e-3)
    # Mean and variance of the electrons match the expectation (Poisson: variance = mean).
    mask = expected > 50 * gain
    residual = (counts - expected)[mask] / gain
    mean = expected[mask] / gain
    assert abs(residual.mean()) < 5 * np.sqrt(mean.mean() / mask.sum())
    assert np.mean(residual**2 / mean) == pytest.approx(1.0, rel=0.03)


def _ratio_method(core_edge, low_loss, truth, edge, window):
    lo, hi = window
    signal = core_edge[..., _window(truth.energy_eV, lo, hi)].sum(-1)
    ll = low_loss[..., truth.low_loss_energy_eV < hi - lo].sum(-1)
    sigma = partial_cross_section(edge, (lo, hi), 300.0, 20.0, 10.0)
    return signal / (ll * sigma * 1e-10)


@pytest.mark.parametrize("element", ["Li", "P", "N", "O"])
def test_integrated_edge_scales_with_areal_density(element):
    """In a thin specimen (no plural scattering) the edge integral is I0 * n * sigma(Delta)."""
    _, low_loss, truth = li_lipon(shape=(4, 64), thickness_nm=(1.0, 1.0), noise=False, seed=3)
    assert truth.t_over_lambda.max() < 0.01
    edge = get_edge(EELS_EDGES[element])
    estimate = _ratio_method(
        truth.edges[edge.name], low_loss.data, truth, edge, edge.integration_window_eV
    )
    n = truth.areal_density[element]
    present = n > 0.05 * n.max()
    np.testing.assert_allclose(estimate[present], n[present], rtol=0.02)
    assert np.all(np.abs(estimate[n == 0]) < 1e-6 * n.max())


def test_plural_scattering_moves_edge_intensity_out_of_a_short_window(li_lipon_noiseless):
    """Egerton's ratio method underestimates by the plasmon share that leaves the window.

    The loss shrinks as the window grows: that is the plural scattering of the core loss.
    """
    _, low_loss, truth = li_lipon_noiseless
    edge = get_edge("O_K")
    n = truth.areal_density["O"]
    present = n > 0.2 * n.max()
    short = _ratio_method(truth.edges["O_K"], low_loss.data, truth, edge, (532.0, 570.0))
    wide = _ratio_method(truth.edges["O_K"], low_loss.data, truth, edge, (532.0, 640.0))
    error_short = np.abs(short[present] / n[present] - 1)
    error_wide = np.abs(wide[present] / n[present] - 1)
    assert np.all(error_wide < error_short)
    assert np.median(error_wide) < 0.1
    # The short-window loss grows with the relative thickness.
    tau = truth.t_over_lambda[present]
    assert np.corrcoef(tau, error_short)[0, 1] > 0.8


def test_noisy_edge_signal_tracks_areal_density(li_lipon_small):
    core_loss, _, truth = li_lipon_small
    for element in ("Li", "P", "O"):
        edge = get_edge(EELS_EDGES[element])
        w = _window(truth.energy_eV, *edge.integration_window_eV)
        others = truth.core_loss_noiseless - truth.edges[edge.name]
        signal = (core_loss.data - others)[..., w].sum(-1)
        r = np.corrcoef(signal.ravel(), truth.areal_density[element].ravel())[0, 1]
        assert r > 0.95, element


def test_gradients_sit_where_the_truth_says():
    geometry = InterphaseGeometry(roughness_nm=0.0, mosaic_amplitude=0.0)
    core_loss, _, truth = li_lipon(
        shape=(12, 80), thickness_nm=(60.0, 60.0), geometry=geometry, seed=2
    )
    pixel = truth.x_nm[1] - truth.x_nm[0]
    for element in ("P", "O"):
        edge = get_edge(EELS_EDGES[element])
        w = _window(truth.energy_eV, *edge.integration_window_eV)
        others = truth.core_loss_noiseless - truth.edges[edge.name]
        profile = (core_loss.data - others)[..., w].sum(-1).mean(axis=0)
        measured = _crossing(truth.x_nm, profile, 0.5)
        assert measured == pytest.approx(truth.gradients[element]["position_nm"], abs=pixel)
    assert truth.gradients["O"]["position_nm"] == pytest.approx(geometry.li_interface_nm, abs=1)
    # Nitrogen and phosphorus rise monotonically from the Li side toward LiPON.
    for element in ("N", "P"):
        assert truth.gradients[element]["monotonic"]
        assert truth.gradients[element]["low"] == 0
        assert geometry.li_interface_nm < truth.gradients[element]["position_nm"]
        assert truth.gradients[element]["position_nm"] < geometry.lipon_interface_nm


def test_roughness_shifts_rows():
    _, _, truth = li_lipon(shape=(16, 64), seed=4, noise=False)
    assert np.std(truth.row_shift_nm) == pytest.approx(truth.geometry.roughness_nm, rel=1e-6)
    metal = truth.phase_fractions[..., 0]
    # Each row's Li-metal edge sits at the nominal interface plus that row's shift.
    for row in range(16):
        position = _crossing(truth.x_nm, 1 - metal[row], 0.5)
        expected = truth.geometry.li_interface_nm + truth.row_shift_nm[row]
        assert position == pytest.approx(expected, abs=0.3)


def test_low_loss_thickness_and_plasmons(li_lipon_noiseless):
    _, low_loss, truth = li_lipon_noiseless
    tau = low_loss.estimate_thickness(threshold=3.0).data
    np.testing.assert_allclose(tau, truth.t_over_lambda, rtol=0.03)
    e = truth.low_loss_energy_eV
    above = e > 4.0
    li_peak = e[above][np.argmax(low_loss.data[0, 0, above])]
    lipon_peak = e[above][np.argmax(low_loss.data[0, -1, above])]
    assert li_peak == pytest.approx(7.5, abs=0.6)  # Li metal bulk plasmon
    assert lipon_peak > 15.0


def test_li_k_fine_structure_differs_between_phases(li_lipon_noiseless):
    _, _, truth = li_lipon_noiseless
    e = truth.energy_eV
    near = _window(e, 54.0, 75.0)
    shapes = {}
    for phase, reference in zip(truth.phases, truth.li_k_phase_cross_sections, strict=True):
        assert np.all(reference >= 0)
        shapes[phase] = reference[near] / reference[near].sum()
        # The fine structure redistributes, it does not add: same integral over 55-80 eV.
        w = _window(e, 55.0, 80.0)
        assert reference[w].sum() == pytest.approx(truth.cross_sections["Li_K"][w].sum(), rel=0.01)
    names = list(shapes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(shapes[a] - shapes[b]).max() > 0.1 * shapes[a].max(), (a, b)
    # The Li2O core exciton just above the onset; ionic compounds peak near 62 eV.
    assert e[near][np.argmax(shapes["Li2O"])] == pytest.approx(57.0, abs=1.0)
    assert e[near][np.argmax(shapes["Li3PO4"])] == pytest.approx(61.5, abs=1.0)
    # A Li-metal pixel shows the Li reference (broadened by the resolution and plural scattering).
    metal_pixel = truth.edges["Li_K"][0, 0, near]
    assert np.corrcoef(metal_pixel, shapes["Li"])[0, 1] > 0.95


def test_eds_dataset():
    eds, truth = li_lipon_eds(shape=(8, 64), seed=3)
    assert isinstance(eds, CryoEDSTEMSpectrum)
    assert eds.metadata.Signal.signal_type == "CryoEDS_TEM"
    assert sorted(eds.metadata.Sample.xray_lines) == ["N_Ka", "O_Ka", "P_Ka"]
    assert "Li" not in eds.metadata.Sample.elements
    assert eds.metadata.Acquisition_instrument.TEM.beam_energy == 300.0
    # Same specimen as the EELS dataset for the same arguments.
    _, _, eels_truth = li_lipon(shape=(8, 64), seed=3, noise=False)
    np.testing.assert_allclose(truth.areal_density["P"], eels_truth.areal_density["P"])
    # Line intensities follow the Cliff-Lorimer k-factors: C_P/C_N (weight) = k_P I_P / (k_N I_N).
    lipon = truth.phase_fractions[..., -1] > 0.99
    with np.errstate(divide="ignore", invalid="ignore"):  # no N on the Li side
        weight_ratio = (truth.areal_density["P"] * 30.974) / (truth.areal_density["N"] * 14.007)
    with np.errstate(divide="ignore", invalid="ignore"):
        cl = (truth.k_factors["P"] * truth.line_intensity["P_Ka"]) / (
            truth.k_factors["N"] * truth.line_intensity["N_Ka"]
        )
    np.testing.assert_allclose(cl[lipon], weight_ratio[lipon], rtol=1e-10)
    # The noisy spectrum integrates to the expected counts.
    total = float(truth.spectrum_noiseless.sum())
    assert eds.data.sum() == pytest.approx(total, abs=5 * np.sqrt(total))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beam_current_pA": -1.0}, "beam_current_pA"),
        ({"dwell_time_s": 0.0}, "dwell_time_s"),
        ({"pixel_size_nm": float("nan")}, "pixel_size_nm"),
        ({"energy_offset_eV": -5.0}, "energy_offset_eV"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        li_lipon(shape=(2, 8), **kwargs)


def test_eds_missing_k_factor():
    with pytest.raises(ValueError, match="k_factors has no value for N"):
        li_lipon_eds(shape=(2, 8), k_factors={"O": 1.0, "P": 1.0})
