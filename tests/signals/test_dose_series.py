"""Dose-fractionated acquisitions: simulated damage, decay fit, zero-dose extrapolation."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.dose_series import fit_dose_decay, frame_mean_remaining
from cryospec.data import li_lipon
from cryospec.edges import get_edge

CRITICAL = {"Li": 2.0e4, "P": 6000.0, "O": 3000.0}


@pytest.fixture(scope="module")
def damaged():
    return li_lipon(
        shape=(16, 64),
        n_frames=8,
        frame_axis=True,
        critical_dose_e_per_A2=CRITICAL,
        damage_floor=0.2,
        beam_current_pA=100.0,
        dwell_time_s=2e-3,
        seed=4,
    )


def test_frame_mean_remaining_integrates_the_exponential():
    d, dc = 500.0, 1500.0
    h = frame_mean_remaining(4, d, dc)
    dose = np.linspace(0, 4 * d, 400001)
    curve = np.exp(-dose / dc)
    for k in range(4):
        inside = (dose >= k * d) & (dose <= (k + 1) * d)
        assert h[k] == pytest.approx(curve[inside].mean(), rel=1e-4)
    np.testing.assert_array_equal(frame_mean_remaining(3, d, None), 1.0)
    assert frame_mean_remaining(50, d, dc, floor=0.3)[-1] == pytest.approx(0.3, abs=1e-3)


def test_damaged_dataset(damaged):
    core_loss, _, truth = damaged
    assert core_loss.axes_manager.navigation_shape == (64, 16, 8)
    assert core_loss.frame_axis().size == 8
    cumulative = core_loss.dose_per_pixel().data[:, 0, 0]
    np.testing.assert_allclose(cumulative, truth.frame_dose_e_per_A2 * np.arange(1, 9))
    np.testing.assert_allclose(truth.damage_factor["N"], 1.0)
    assert np.all(np.diff(truth.damage_factor["O"]) < 0)
    # The O K signal of the last frame has decayed toward the floor.
    frames = truth.core_loss_noiseless - truth.background / 8
    w = truth.energy_eV > 540
    first, last = frames[0][..., w].sum(), frames[-1][..., w].sum()
    assert last < first


def test_critical_doses_are_recovered_within_their_interval(damaged):
    core_loss, _, _ = damaged
    results = core_loss.fit_dose_series(["Li_K", "P_L23", "O_K"], count_target=3000)
    for edge, result in results.items():
        true = CRITICAL[edge.split("_")[0]]
        lo, hi = result.critical_dose_ci95
        assert lo < true < hi, (edge, result.critical_dose, (lo, hi))
        assert hi / lo < 1.5  # an informative interval
        assert result.floor == pytest.approx(0.2, abs=0.1)
        assert result.reduced_chi2 == pytest.approx(1.0, abs=0.2)
        assert result.frame_signals.data.shape == (8, 16, 64)
        # the signal falls frame by frame: no rise between two frames beyond 3 standard errors
        # of the mean per-pixel change (near the floor the fall is within the noise)
        steps = np.diff(result.frame_signals.data.reshape(8, -1), axis=0)
        se = steps.std(axis=1, ddof=1) / np.sqrt(steps.shape[1])
        assert np.all(steps.mean(axis=1) < 3 * se)
        assert result.mean_signal[-1] < result.mean_signal[0]


@pytest.mark.parametrize("edge", ["Li_K", "O_K"])
def test_zero_dose_maps_match_the_undamaged_truth(damaged, edge):
    core_loss, _, truth = damaged
    result = core_loss.fit_dose_series(edge, count_target=3000)[edge]
    lo, hi = get_edge(edge).integration_window_eV
    w = (truth.energy_eV >= lo) & (truth.energy_eV <= hi)
    true0 = truth.edges[edge][..., w].sum(-1) / 8
    element = edge.split("_")[0]
    present = truth.areal_density[element] > 0.2 * truth.areal_density[element].max()
    ratio = result.zero_dose.data[present].mean() / true0[present].mean()
    assert ratio == pytest.approx(1.0, abs=0.03)
    z = (result.zero_dose.data - true0)[present] / result.zero_dose_se.data[present]
    assert np.std(z) == pytest.approx(1.0, abs=0.25)


def test_fit_dose_decay_checks_its_input():
    good = np.ones((4, 3))
    with pytest.raises(ValueError, match="at least 3 frames"):
        fit_dose_decay(good[:2], good[:2], 100.0)
    with pytest.raises(ValueError, match="must both"):
        fit_dose_decay(good, good[:, :2], 100.0)
    with pytest.raises(ValueError, match="variances"):
        fit_dose_decay(good, -good, 100.0)
    with pytest.raises(ValueError, match="frame_dose"):
        fit_dose_decay(good, good, 0.0)


def test_without_a_frame_axis_the_error_says_what_is_needed():
    core_loss, _, _ = li_lipon(shape=(2, 8), seed=0)
    with pytest.raises(ValueError, match="navigation axis named 'frame'"):
        core_loss.fit_dose_series("Li_K")


def test_a_slice_of_frames_keeps_its_doses(damaged):
    core_loss, _, truth = damaged
    s = core_loss.inav[:, :, 2:5]
    np.testing.assert_allclose(
        s.dose_per_pixel().data[:, 0, 0], truth.frame_dose_e_per_A2 * np.array([3, 4, 5])
    )
