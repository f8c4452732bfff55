"""Quantification of spectrum images that cryospec did not make (tests/independent_forward_model:
exspy's hydrogenic edges with fine structure, convolved with a Drude low loss by exspy,
``m.as_signal()``, Poisson noise).

The cross-sections are those of the forward model (hydrogenic): these tests measure the fit
(background, plural scattering, fine structure, subsets of the edges, edges not requested),
not the difference between cross-section models. 1e4 e/A² on 2.5 nm pixels (6.25e6 electrons
per pixel), an 8 x 8 map.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from independent_forward_model import exspy_spectrum_image

TRUTH = {"Li_K": 1500.0, "N_K": 240.0, "O_K": 1700.0}  # atoms/nm², a LiPON-like film


@pytest.fixture(scope="module")
def independent():
    return exspy_spectrum_image(TRUTH, electrons_per_pixel=6.25e6, shape=(8, 8), seed=2)


def _quantify(data, edges, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = data.core_loss.quantify(
            edges, low_loss=data.low_loss, cross_section="hydrogenic", **kwargs
        )
    mean = {el: float(np.mean(m.data)) for el, m in result.areal_density.items()}
    return result, mean, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    "edges",
    [
        ["Li_K", "N_K", "O_K"],
        ["Li_K", "O_K"],
        pytest.param(
            ["N_K", "O_K"],
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured N -6 % with the joint fit (the default; +1 % with "
                "fit_ranges='local'): the weak N K edge fitted from its own window with O K",
            ),
        ),
        ["Li_K"],
        ["O_K"],
    ],
)
def test_every_subset_of_the_edges(independent, edges):
    """Areal densities within 5 % for the full set and every subset: an edge in the data that
    was not requested is found and no requested edge absorbs it (measured: Li K alone over the
    whole axis -44 %, Li/O without N K -13 % before)."""
    result, mean, messages = _quantify(independent, edges)
    for element, value in mean.items():
        assert value == pytest.approx(independent.areal_density[element], rel=0.05), element
    requested = {e.split("_")[0] for e in edges}
    if "N" not in requested and "Li" in requested:
        # N K lies in the range of Li K: it is found, said in the notes and as a warning
        assert any("not requested rises at 39" in note for note in result.notes)
        assert any("not requested" in m for m in messages)
    if "O" in requested and len(requested) > 1:
        ratios = {el: mean[el] / mean["O"] for el in mean if el != "O"}
        for element, ratio in ratios.items():
            true = independent.areal_density[element] / independent.areal_density["O"]
            assert ratio == pytest.approx(true, rel=0.05), element


@pytest.mark.parametrize("edges", [["Li_K", "N_K", "O_K"], ["N_K", "O_K"], ["Li_K"]])
def test_local_fits_are_an_option(independent, edges):
    """Each edge from its own range (within 5 % here; twice the joint fit's statistical error,
    and they fail on close edges of real spectra: see tests/signals/test_real_standards.py)."""
    joint, _, _ = _quantify(independent, edges)
    local, mean, _ = _quantify(independent, edges, fit_ranges="local")
    assert joint.summary()["fit_ranges"] == "global"
    assert local.summary()["fit_ranges"] == "local"
    for element, value in mean.items():
        assert value == pytest.approx(independent.areal_density[element], rel=0.05), element


def test_no_unrequested_edge_when_all_are_requested(independent):
    result, _, _ = _quantify(independent, ["Li_K", "N_K", "O_K"])
    assert not any("not requested" in note for note in result.notes)


def test_hartree_slater_on_hydrogenic_data(independent):
    """The default cross-sections (Hartree-Slater) on these hydrogenic data: the areal densities
    come out above the truth by about the ratio of the two models' cross-sections (Li K 0.67-0.80,
    N K and O K 0.87-0.92 of the hydrogenic ones, tests/core/test_hfs_cross_sections.py); N/O,
    whose two models differ alike, stays within 10 % (measured +8 %)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = independent.core_loss.quantify(["N_K", "O_K"], low_loss=independent.low_loss)
    mean = {el: float(np.mean(m.data)) for el, m in q.areal_density.items()}
    assert mean["O"] / TRUTH["O_K"] == pytest.approx(1.0 / 0.9, rel=0.05)
    ratio = mean["N"] / mean["O"]
    assert ratio == pytest.approx(TRUTH["N_K"] / TRUTH["O_K"], rel=0.10)


def test_integration_counts_and_cross_section_over_the_same_channels():
    """The integration method sums the channels whose centres lie in the window: its
    cross-section and low-loss reach are taken over the range those channels cover (one rule).
    On exspy-made data (1e9 electrons per pixel, so the noise is 0.2 % for Li, 0.5 % for O)
    the areal densities at 2 eV per channel then hold within 1.5 % (Li) and 4 % (O) of those
    at 0.25 eV: measured -0.8 / -0.4 % and +2.9 / +2.1 % (seeds 1, 2), where the continuous
    window gave +3.2 / +3.6 % and +6.0 / +5.1 %."""
    truth = {"Li_K": 1500.0, "N_K": 240.0, "O_K": 1700.0}
    means = {}
    for step in (0.25, 2.0):
        data = exspy_spectrum_image(
            truth, electrons_per_pixel=1e9, shape=(2, 2), step_eV=step, seed=1
        )
        result, means[step], _ = _quantify(data, list(truth), method="integration")
        covered = result.summary()["cross_section"]["edges"]["O_K"]["window_eV"]
        energy = data.core_loss.axes_manager.signal_axes[0].axis
        inside = energy[(energy >= 530.0) & (energy <= 570.0)]
        assert covered == pytest.approx([inside[0] - step / 2, inside[-1] + step / 2])
    assert means[2.0]["Li"] == pytest.approx(means[0.25]["Li"], rel=0.015)
    assert means[2.0]["O"] == pytest.approx(means[0.25]["O"], rel=0.04)
