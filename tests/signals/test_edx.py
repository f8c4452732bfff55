"""EDX line intensities, Cliff-Lorimer fractions with errors, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

import cryospec
from cryospec.core.dose import MissingMetadataError
from cryospec.core.edx import cliff_lorimer_atomic
from cryospec.data import li_lipon_eds


@pytest.fixture(scope="module")
def eds():
    return li_lipon_eds(shape=(24, 64), seed=0)


def test_p_and_o_line_intensities_match_the_truth(eds):
    signal, truth = eds
    intensities = signal.line_intensities(count_target=200)
    for line in ("P_Ka", "O_Ka"):
        measured = intensities[line].data
        true = truth.line_intensity[line]
        present = true > 0.2 * true.max()
        assert measured[present].sum() / true[present].sum() == pytest.approx(1.0, abs=0.04)
        variance = intensities[line].metadata.Signal.Noise_properties.variance.data
        z = (measured - true)[present] / np.sqrt(variance[present])
        assert 0.8 < z.std() < 1.3


def test_cliff_lorimer_fractions_and_errors(eds):
    signal, truth = eds
    intensities = signal.line_intensities(["O_Ka", "P_Ka"], count_target=200)
    result = signal.quantify_lines(intensities, truth.k_factors)
    o = result["atomic_fraction"]["O"].data
    p = result["atomic_fraction"]["P"].data
    lipon = truth.phase_fractions[..., -1] > 0.99
    ratio = p[lipon].sum() / o[lipon].sum()
    true_ratio = truth.areal_density["P"][lipon].sum() / truth.areal_density["O"][lipon].sum()
    assert ratio == pytest.approx(true_ratio, rel=0.05)
    assert np.all(result["atomic_fraction_se"]["P"].data[lipon] > 0)


def test_fractions_of_a_subset_of_lines_say_among_which_elements(eds):
    """EDX fractions of two lines are among O and P only (the map holds N too): the titles and
    the result say so, and the two fractions sum to one where they are defined."""
    signal, truth = eds
    intensities = signal.line_intensities(["O_Ka", "P_Ka"], count_target=200)
    result = signal.quantify_lines(intensities, truth.k_factors)
    assert result["atomic_fraction_among"] == ["O", "P"]
    assert result["atomic_fraction"]["O"].metadata.General.title == ("O atomic fraction among O, P")
    assert result["atomic_fraction_se"]["P"].metadata.General.title.endswith("among O, P")
    total = result["atomic_fraction"]["O"].data + result["atomic_fraction"]["P"].data
    defined = np.isfinite(total)
    assert defined.any()
    np.testing.assert_allclose(total[defined], 1.0)


def test_delta_method_errors_against_monte_carlo():
    rng = np.random.default_rng(0)
    intensity = np.array([400.0, 900.0])
    variance = intensity.copy()
    k, weights = np.array([2.0, 1.0]), np.array([14.0, 31.0])
    _, std = cliff_lorimer_atomic(intensity, variance, k, weights)
    draws = rng.normal(intensity, np.sqrt(variance), size=(20000, 2))
    fractions, _ = cliff_lorimer_atomic(draws, np.ones_like(draws), k, weights)
    np.testing.assert_allclose(fractions.std(axis=0), std, rtol=0.05)


def test_lithium_is_refused_with_a_reason(eds):
    signal, _ = eds
    with pytest.raises(ValueError, match="Map Li by EELS"):
        signal.line_intensities(["Li_Ka", "P_Ka"])


def test_bad_input(eds):
    signal, _truth = eds
    small = signal.inav[:8, :2]
    with pytest.raises(ValueError, match="outside the energy axis"):
        small.line_intensities(["Pb_Ka"])
    with pytest.raises(ValueError, match="no k-factor for N"):
        small.quantify_lines(small.line_intensities(["N_Ka", "P_Ka"]), {"P": 1.0})
    bare = small.deepcopy()
    del bare.metadata.Acquisition_instrument.TEM.beam_energy
    with pytest.raises(MissingMetadataError, match="beam_energy"):
        bare.line_intensities(["P_Ka"])


def test_real_nist_sio2_spectrum_image(data_dir):
    """shared/realdata: NIST SiO2 EDX spectrum image (about 50 counts per pixel)."""
    s = cryospec.load(data_dir / "nist_SiO2_EDS_SI_128x128.hspy")
    assert s.metadata.Signal.signal_type == "CryoEDS_TEM"
    s = s.inav[:32, :32]
    intensities = s.line_intensities(["O_Ka", "Si_Ka"], count_target=200)
    for m in intensities.values():
        assert np.all(np.isfinite(m.data))
        assert m.data.mean() > 0
    # SiO2: O/Si near 2 with k-factors of 1 would be wrong; with any k-factors the pipeline runs
    # and gives fractions in [0, 1] on average.
    result = s.quantify_lines(intensities, {"O": 1.0, "Si": 1.0})
    assert 0.0 < np.nanmean(result["atomic_fraction"]["O"].data) < 1.0


def test_overlapping_n_and_o_lines_are_fitted_together(eds):
    signal, truth = eds
    intensities = signal.line_intensities(count_target=200)
    for line in ("N_Ka", "O_Ka"):
        assert intensities[line].metadata.CryoSpec.LineIntensity.method == "joint fit"
        measured, true = intensities[line].data, truth.line_intensity[line]
        present = true > 0.2 * true.max()
        assert measured[present].sum() / true[present].sum() == pytest.approx(1.0, abs=0.04)
        variance = intensities[line].metadata.Signal.Noise_properties.variance.data
        z = (measured - true)[present] / np.sqrt(variance[present])
        assert 0.8 < z.std() < 1.25
    assert intensities["P_Ka"].metadata.CryoSpec.LineIntensity.method == "side windows"


def test_p_over_n_in_the_lipon_plateau(eds):
    signal, truth = eds
    result = signal.quantify_lines(signal.line_intensities(count_target=200), truth.k_factors)
    lipon = truth.phase_fractions[..., -1] > 0.99
    p = result["atomic_fraction"]["P"].data[lipon].sum()
    n = result["atomic_fraction"]["N"].data[lipon].sum()
    true = truth.areal_density["P"][lipon].sum() / truth.areal_density["N"][lipon].sum()
    assert p / n == pytest.approx(true, rel=0.10)


@pytest.mark.parametrize(("element", "upper_nm"), [("P", None), ("N", 110.0)])
def test_edx_gradient_positions_within_one_pixel(eds, element, upper_nm):
    """Profiles and erf fits work unchanged on EDX maps. The measured N and P fractions are
    fitted, and so is the true fraction map (among N, O and P) with the same profile direction,
    weights and depth range: P agrees within one pixel, N within its 95 % interval. The
    direction across the interface is the one of the N, O and P maps together (one N map alone
    is too noisy to orient a profile). Below 50 nm (Li metal) none of N, O, P is present and
    the fractions are undefined; N rises twice (Li3N in the interphase, then LiPON, 3 % higher
    at 116 nm), so its interphase gradient is fitted below 110 nm, as one would choose the fit
    window."""
    from cryospec.app.figures import common_direction
    from cryospec.signals.cryo_profile import auto_profile

    signal, truth = eds
    result = signal.quantify_lines(signal.line_intensities(count_target=200), truth.k_factors)
    density = {el: truth.areal_density[el] for el in ("N", "O", "P")}
    upper = truth.x_nm[-1] if upper_nm is None else upper_nm
    maps = {el: result["atomic_fraction"][el].isig[50.0:upper, :] for el in density}
    direction = common_direction(list(maps.values()))
    variance = result["atomic_fraction_se"][element].isig[50.0:upper, :].data ** 2
    true_map = maps[element].deepcopy()
    true_map.data = (density[element] / sum(density.values()))[:, (truth.x_nm >= 50.0)][
        :, : true_map.data.shape[1]
    ]
    fits = [
        auto_profile(m, variance=variance, direction=direction).fit_gradient("erf").fit
        for m in (maps[element], true_map)
    ]
    measured, expected = (f.parameters["x0"] for f in fits)
    pixel = truth.x_nm[1] - truth.x_nm[0]
    if element == "P":
        assert measured == pytest.approx(expected, abs=pixel)
    else:
        # N Ka holds ~30 counts per pixel in LiPON at this dose: its position's 95 % interval
        # is 3-6 nm wide (over seeds 0-5 the error stays inside it but exceeds one pixel in
        # two of six), so the interval, not one pixel, is what the data can promise.
        lo, hi = fits[0].intervals["x0"]
        assert lo <= expected <= hi


def test_fractions_are_undefined_where_no_quantified_element_is_present(eds):
    signal, truth = eds
    result = signal.quantify_lines(signal.line_intensities(), truth.k_factors)
    fraction = result["atomic_fraction"]["O"].data
    metal = truth.x_nm < truth.geometry.li_interface_nm - 15.0  # Li metal: no N, O or P
    assert np.isnan(fraction[:, metal]).mean() > 0.8
    lipon = truth.x_nm > truth.geometry.lipon_interface_nm + 15.0
    assert np.all(np.isfinite(fraction[:, lipon]))
    assert np.all(np.isfinite(result["atomic_fraction_se"]["O"].data[:, lipon]))
