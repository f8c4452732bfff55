"""Offline hydrogenic cross-sections against exspy's implementation."""

from __future__ import annotations

import numpy as np
import pytest
from exspy._misc.eels.hydrogenic_gos import HydrogenicGOS

from cryospec.core.cross_sections import (
    differential_cross_section,
    edge_differential_cross_section,
    effective_collection_angle,
    partial_cross_section,
)


@pytest.mark.parametrize(
    ("element", "onset"), [("Li", 55.0), ("C", 284.0), ("N", 401.0), ("O", 532.0), ("F", 685.0)]
)
@pytest.mark.parametrize(("beam_keV", "beta_mrad"), [(200.0, 20.0), (300.0, 10.0)])
def test_k_shells_agree_with_exspy_within_one_percent(element, onset, beam_keV, beta_mrad):
    gos = HydrogenicGOS(f"{element}_K")
    spline = gos.integrateq(onset, beta_mrad * 1e-3, beam_keV)
    energy = onset + np.array([0.5, 2.0, 10.0, 30.0, 80.0, 200.0])
    ours = differential_cross_section(energy, element, "K", onset, beam_keV, beta_mrad)
    np.testing.assert_allclose(ours, spline(energy), rtol=0.01)


def test_p_l23_works_offline():
    energy = np.linspace(100.0, 400.0, 1001)
    sigma = edge_differential_cross_section("P_L2,3", energy, 300.0, 20.0, 10.0)
    assert np.all(np.isfinite(sigma))
    assert np.all(sigma[energy <= 132.0] == 0)
    assert np.all(sigma[energy > 132.0] > 0)
    # The delayed maximum of the L2,3 edge of a third-row element.
    assert energy[np.argmax(sigma)] > 135.0
    assert partial_cross_section("P_L23", (132.0, 172.0), 300.0, 20.0) > 0


def test_partial_cross_section_grows_with_window_and_angle():
    small = partial_cross_section("O_K", (532.0, 552.0), 300.0, 10.0)
    wide = partial_cross_section("O_K", (532.0, 572.0), 300.0, 10.0)
    bigger_angle = partial_cross_section("O_K", (532.0, 552.0), 300.0, 30.0)
    assert small < wide
    assert small < bigger_angle


@pytest.mark.parametrize(("alpha", "beta"), [(10.0, 20.0), (30.0, 10.0), (20.0, 20.0), (5.0, 50.0)])
def test_effective_angle_agrees_with_exspy(alpha, beta):
    from exspy._misc.eels.effective_angle import effective_angle

    energy = np.array([60.0, 140.0, 500.0])
    expected = [effective_angle(300.0, e, alpha, beta) for e in energy]
    np.testing.assert_allclose(
        effective_collection_angle(energy, 300.0, alpha, beta), expected, rtol=1e-10
    )


def test_effective_angle_limits():
    energy = np.array([60.0, 500.0])
    np.testing.assert_array_equal(effective_collection_angle(energy, 300.0, 0.0, 20.0), 20.0)
    beta_star = effective_collection_angle(energy, 300.0, 10.0, 20.0)
    assert np.all(beta_star < 20.0) and np.all(beta_star > 10.0)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"element": "Zr"}, "no hydrogenic parameters"),
        ({"shell": "M45"}, "K and L23"),
        ({"beam_energy_keV": 0.0}, "beam_energy_keV"),
        ({"collection_mrad": float("nan")}, "collection_mrad"),
    ],
)
def test_bad_input(kwargs, error):
    args = {
        "energy": [600.0],
        "element": "O",
        "shell": "K",
        "onset_eV": 532.0,
        "beam_energy_keV": 300.0,
        "collection_mrad": 20.0,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=error):
        differential_cross_section(**args)
