"""Spike removal on the built-in dataset with injected spikes."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.spikes import find_spikes
from cryospec.data import li_lipon


@pytest.fixture(scope="module")
def spiky():
    core_loss, _, truth = li_lipon(shape=(12, 64), beam_current_pA=40.0, seed=5)
    rng = np.random.default_rng(3)
    n = 40
    iy, ix = rng.integers(0, 12, n), rng.integers(0, 64, n)
    ic = rng.integers(1, 2046, n)
    noise = np.sqrt(np.maximum(truth.core_loss_noiseless[iy, ix, ic], 1.0))
    height = 30 * noise + 50 * rng.uniform(1, 5, n)
    injected = core_loss.deepcopy()
    injected.data[iy, ix, ic] += height
    injected.data[iy[:10], ix[:10], ic[:10] + 1] += height[:10] / 2  # two-channel hits
    return core_loss, injected, truth, (iy, ix, ic)


def test_clean_data_are_not_touched(spiky):
    core_loss, _, _, _ = spiky
    cleaned, replaced = core_loss.remove_spikes()
    assert replaced.data.sum() == 0
    np.testing.assert_array_equal(cleaned.data, core_loss.data)
    assert cleaned.metadata.CryoSpec.Spikes.replaced_channels == 0


def test_injected_spikes_are_removed_and_counted(spiky):
    core_loss, injected, _, (iy, ix, ic) = spiky
    cleaned, replaced = injected.remove_spikes()
    assert replaced.data.shape == (12, 64)
    # Every injected channel is back within the noise of the original.
    original = core_loss.data[iy, ix, ic]
    noise = np.sqrt(np.maximum(original, 1.0))
    assert np.all(np.abs(cleaned.data[iy, ix, ic] - original) < 6 * noise + 5)
    expected = np.zeros((12, 64), dtype=int)
    np.add.at(expected, (iy, ix), 1)
    np.add.at(expected, (iy[:10], ix[:10]), 1)
    assert replaced.data.sum() == expected.sum()
    np.testing.assert_array_equal(replaced.data, expected)
    # Nothing else changed: edges and fine structure are intact.
    changed = cleaned.data != injected.data
    assert changed.sum() == expected.sum()


@pytest.mark.parametrize("kwargs", [{"beam_current_pA": 4000.0}, {"noise": False}])
def test_edges_and_fine_structure_are_never_touched(kwargs):
    """At high dose the Li K fine structure and the edge onsets are sharp: none is a spike."""
    core_loss, _, _ = li_lipon(shape=(8, 64), seed=6, **kwargs)
    cleaned, replaced = core_loss.remove_spikes()
    assert replaced.data.sum() == 0
    np.testing.assert_array_equal(cleaned.data, core_loss.data)


def test_lazy_gives_the_same_result(spiky):
    _, injected, _, _ = spiky
    eager, replaced = injected.remove_spikes()
    lazy = injected.as_lazy()
    lazy.data = lazy.data.rechunk((5, 20, -1))
    out, lazy_replaced = lazy.remove_spikes()
    np.testing.assert_array_equal(out.data.compute(), eager.data)
    np.testing.assert_array_equal(lazy_replaced.data.compute(), replaced.data)


def test_single_spectrum_and_line_scan():
    rng = np.random.default_rng(0)
    spectrum = rng.poisson(200 * np.exp(-np.arange(512) / 300.0)).astype(float)
    spectrum[100] += 5000
    mask, _ = find_spikes(spectrum)
    assert mask[100] and mask.sum() == 1
    line = rng.poisson(np.full((10, 256), 50.0)).astype(float)
    line[4, 30] += 2000
    mask, _ = find_spikes(line)
    assert mask[4, 30] and mask.sum() == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        find_spikes(np.ones((3, 3, 20)), spectral_width=4)
    with pytest.raises(ValueError, match="threshold"):
        find_spikes(np.ones((3, 3, 20)), threshold=0)


def test_variance_of_replaced_channels_follows_the_replacement(spiky):
    _, injected, _, (iy, ix, ic) = spiky
    s = injected.deepcopy()
    s.set_noise_model()
    cleaned, _ = s.remove_spikes()
    variance = cleaned.metadata.Signal.Noise_properties.variance.data
    np.testing.assert_allclose(variance[iy, ix, ic], np.clip(cleaned.data[iy, ix, ic], 0, None))
    untouched = cleaned.data == injected.data
    np.testing.assert_allclose(variance[untouched], np.clip(injected.data[untouched], 0, None))
