"""The pure input-check kernels: channel jumps (corrupt values against real spikes and edges),
the low loss's dark level, and the edges below the requested ones, on data cryospec did not
make (exspy's edges, tests/independent_forward_model) as well as its own."""

from __future__ import annotations

import numpy as np
import pytest
from independent_forward_model import exspy_spectrum_image

from cryospec.core.count_checks import MAX_CHANNEL_JUMP, count_checks
from cryospec.core.low_loss import dark_level
from cryospec.core.unrequested_edges import find_edges_below
from cryospec.edges import get_edge


@pytest.fixture(scope="module")
def exspy_made():
    """Li K, N K and O K from exspy at 1e6 electrons per pixel."""
    return exspy_spectrum_image({"Li_K": 2000.0, "N_K": 200.0, "O_K": 1000.0}, shape=(2, 2))


def test_count_checks_pass_real_spectra_and_find_an_overflowed_channel(exspy_made):
    counts = np.asarray(exspy_made.core_loss.data, dtype=float)
    abs_sum, jump, _ = np.moveaxis(count_checks(counts), -1, 0)
    assert np.all(abs_sum > 0)
    assert jump.max() < 10  # edges are steps, noise is noise: far below the limit
    spoiled = counts.copy()
    spoiled[1, 0, 700] = 1e30
    _, jump, channel = np.moveaxis(count_checks(spoiled), -1, 0)
    assert jump[1, 0] > MAX_CHANNEL_JUMP and channel[1, 0] == 700
    assert jump[0, 0] < 10


def test_count_checks_are_scale_free_and_pass_x_ray_hits():
    rng = np.random.default_rng(0)
    counts = rng.poisson(50.0, size=(3, 500)).astype(float)
    counts[0, 100] += 1e4  # an X-ray hit: a spike, not a corrupt value
    jump = count_checks(counts)[..., 1]
    assert jump[0] < MAX_CHANNEL_JUMP
    np.testing.assert_allclose(count_checks(counts * 1e30, gain=1e30)[..., 1], jump, rtol=1e-12)


def test_an_empty_spectrum_has_zero_sum_and_no_jump():
    checks = count_checks(np.zeros((2, 100)))
    np.testing.assert_array_equal(checks[..., 0], 0.0)
    np.testing.assert_array_equal(checks[..., 1], 0.0)


def test_dark_level_of_a_clean_and_an_offset_low_loss(exspy_made):
    low_loss = exspy_made.low_loss
    energy = low_loss.axes_manager.signal_axes[0].axis
    summed = np.asarray(low_loss.data, dtype=float).reshape(-1, energy.size).sum(0)
    level, se, share = dark_level(summed, energy, 4)
    assert abs(level) < 5 * se + 1e-9 * summed.max()  # exspy's low loss: no dark level
    level, se, share = dark_level(summed - 4 * 50.0, energy, 4)
    assert level == pytest.approx(-50.0, abs=5 * se + 0.5)
    assert share < -0.001


def test_an_edge_below_the_requested_ones_is_found_on_exspy_data(exspy_made):
    summed = np.asarray(exspy_made.core_loss.data, dtype=float).reshape(-1, 2233).sum(0)
    energy = exspy_made.core_loss.axes_manager.signal_axes[0].axis
    found = find_edges_below(summed, energy, [get_edge("O_K")])
    assert found and "Li_K" in found[0].candidates
    assert 50.0 <= found[0].onset_eV <= 60.0


def test_no_edge_below_is_found_where_there_is_none():
    data = exspy_spectrum_image({"O_K": 1000.0}, shape=(2, 2), energy_range_eV=(380.0, 700.0))
    summed = np.asarray(data.core_loss.data, dtype=float).reshape(4, -1).sum(0)
    energy = data.core_loss.axes_manager.signal_axes[0].axis
    assert find_edges_below(summed, energy, [get_edge("O_K")]) == []


@pytest.mark.parametrize("fwhm", [0.5, 1.5, 3.0])
def test_the_plasmon_is_found_beyond_a_broad_zero_loss_tail(fwhm):
    """A zero-loss peak with Lorentzian tails (a cold-field or monochromated source's is
    narrower, a thermionic one's broader) and a Drude plasmon at 22 eV holding a tenth of the
    counts: the largest value above 3 eV is the tail for broad peaks; with the tail mirrored
    off, the plasmon is found within 0.3 eV, and the zero-loss centre does not move it."""
    from cryospec.core.low_loss import low_loss_summary, plasmon_energy

    energy = np.arange(-20.0, 80.0, 0.1)
    for shift in (0.0, -3.3):
        e = energy - shift
        gamma = fwhm / 2
        zlp = 1e6 * gamma**2 / (e**2 + gamma**2)
        drude = e * 22.0**2 * 4.0 / ((e**2 - 22.0**2) ** 2 + (e * 4.0) ** 2)
        drude = np.where(e > 0, drude, 0.0)
        drude *= 0.1 * zlp.sum() / drude.sum()
        spectrum = (zlp + drude)[None]
        centre = low_loss_summary(spectrum, energy)[0, 0]
        assert centre == pytest.approx(shift, abs=0.05)
        assert plasmon_energy(spectrum, energy, np.array([centre]))[0] == pytest.approx(
            22.0, abs=0.3
        )
        if shift == 0.0 and fwhm >= 1.5:
            above = (energy > 3.0) & (energy <= 40.0)
            # the largest value above 3 eV (the rule before) is the tail's
            assert energy[above][np.argmax(spectrum[0, above])] < 3.5
