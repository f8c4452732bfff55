"""Energy calibration from an edge onset and zero-loss alignment."""

from __future__ import annotations

import numpy as np
import pytest

import cryospec
from cryospec.core.calibration import find_edge_onset
from cryospec.data import li_lipon


@pytest.fixture(scope="module")
def dataset():
    # twice the default dose: the weak N K edge rises 5 standard errors above the background
    return li_lipon(shape=(8, 64), seed=0, beam_current_pA=80.0)


@pytest.mark.parametrize("shift", [-10.0, 0.0, 7.3])
@pytest.mark.parametrize("edge", ["O_K", "N_K"])
def test_onset_is_found_within_half_an_ev(dataset, shift, edge):
    core_loss, _, truth = dataset
    onset = cryospec.get_edge(edge).onset_eV
    found = find_edge_onset(core_loss.data.sum((0, 1)), truth.energy_eV + shift, edge)
    assert found == pytest.approx(onset + shift, abs=0.5)


def test_calibrate_from_edge_moves_the_axis(dataset):
    core_loss, _, _ = dataset
    shifted = core_loss.deepcopy()
    shifted.axes_manager[-1].offset -= 6.0
    calibrated, offset = shifted.calibrate_from_edge("O_K")
    assert offset == pytest.approx(6.0, abs=0.5)
    assert calibrated.axes_manager[-1].offset == pytest.approx(30.0, abs=0.5)
    assert calibrated.metadata.CryoSpec.Calibration.edge == "O_K"
    assert shifted.axes_manager[-1].offset == pytest.approx(24.0)  # input untouched


def test_real_nmc_core_loss_offset_from_o_k():
    """The NMC core loss of shared/realdata: O K rises about 15 eV below the tabulated onset
    (its pre-peak lies a few eV below 532 eV in a calibrated oxide spectrum)."""
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "NMC_SiDoped_SI_440-1054eV_OK_TML.dm3"
    s = cryospec.load(path)
    calibrated, offset = s.calibrate_from_edge("O_K")
    assert 10.0 < offset < 18.0
    found = calibrated.metadata.CryoSpec.Calibration.found_eV
    assert 514.0 < found < 522.0


def test_no_edge_gives_a_clear_error(dataset):
    core_loss, _, truth = dataset
    noise = np.random.default_rng(0).poisson(5.0, size=truth.energy_eV.size).astype(float)
    with pytest.raises(ValueError, match="no edge rise"):
        find_edge_onset(noise, truth.energy_eV, "O_K")
    with pytest.raises(ValueError, match="does not fit in the energy axis"):
        find_edge_onset(core_loss.data.sum((0, 1)), truth.energy_eV, "F_K")


def test_zero_loss_alignment(dataset):
    core_loss, low_loss, _ = dataset
    shifted_ll, shifted_cl = low_loss.deepcopy(), core_loss.deepcopy()
    # Displace the spectra of the right half by 2 channels (0.6 eV).
    shifted_ll.data[:, 32:] = np.roll(shifted_ll.data[:, 32:], 2, axis=-1)
    shifted_cl.data[:, 32:] = np.roll(shifted_cl.data[:, 32:], 2, axis=-1)
    aligned_cl, aligned_ll, shift = shifted_cl.align_zero_loss(shifted_ll)
    assert shift.data[:, :32] == pytest.approx(0.0, abs=0.05)
    assert shift.data[:, 32:] == pytest.approx(0.6, abs=0.05)
    from cryospec.core.low_loss import zero_loss_peak

    centre, _ = zero_loss_peak(aligned_ll.data, aligned_ll.axes_manager[-1].axis)
    assert np.abs(centre).max() < 0.1
    # The core loss moved with it: the O K rise is back in place in every column.
    for half in (slice(0, 32), slice(32, 64)):
        found = find_edge_onset(
            aligned_cl.data[:, half].sum((0, 1)), aligned_cl.axes_manager[-1].axis, "O_K"
        )
        assert found == pytest.approx(532.0, abs=0.5)
