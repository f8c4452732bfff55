"""EDX of real standards with theoretical k-factors: SiO2 (O/Si = 2) and SrTiO3 (1:1:3)."""

from __future__ import annotations

import warnings

import hyperspy.api as hs
import numpy as np
import pytest

import cryospec


@pytest.fixture(scope="module")
def sio2(data_dir):
    """tests/data: NIST SiO2 EDX spectrum image, JEOL at 200 kV, window not recorded."""
    return cryospec.load(data_dir / "nist_SiO2_EDS_SI_128x128.hspy")


@pytest.fixture(scope="module")
def sto(data_dir):
    """tests/data: pyTEMlib SrTiO3 EDX spectrum, Titan with Super-X G2 (Velox)."""
    signals = hs.load(data_dir / "pyTEMlib_EDS-STO_Velox.emd")
    spectrum = next(
        s for s in signals if s.axes_manager.signal_dimension == 1 and s.data.size > 1000
    )
    spectrum.set_signal_type("CryoEDS_TEM")
    return spectrum


def _value(signal) -> float:
    return float(np.ravel(signal.data)[0])


def test_sio2_energy_offset_and_resolution_are_measured(sio2):
    """The file's lines sit 27-35 eV above their tabulated energies and are broader than its
    recorded 130 eV resolution: both are measured and the windows placed there."""
    summed = sio2.sum((0, 1))
    intensities = summed.line_intensities(["O_Ka", "Si_Ka"])
    calibration = intensities["O_Ka"].metadata.CryoSpec.LineIntensity.calibration
    assert sorted(calibration.lines_fitted) == ["O_Ka", "Si_Ka"]
    assert calibration.offset_keV + calibration.gain * 1.74 - 1.74 == pytest.approx(0.035, abs=0.01)
    assert 140 < calibration.resolution_MnKa_eV < 156
    assert calibration.recorded_resolution_MnKa_eV == 130.0


def test_sio2_o_over_si_is_two_within_20_percent(sio2):
    """Default detector (the file does not record its window: the polymer preset, with a
    warning); the film is thin, so no absorption correction is needed (none is possible: the
    file records no live time)."""
    summed = sio2.sum((0, 1))
    intensities = summed.line_intensities(["O_Ka", "Si_Ka"])
    with pytest.warns(UserWarning, match="window is not recorded"):
        result = summed.quantify_lines(intensities)
    ratio = _value(result["atomic_fraction"]["O"]) / _value(result["atomic_fraction"]["Si"])
    assert ratio == pytest.approx(2.0, rel=0.20)
    assert result["k_factors"]["source"] == "theoretical"
    assert result["k_factors"]["detector"] == "polymer"
    assert result["absorption"]["method"].startswith("none")
    # exspy's Cliff-Lorimer on the same intensities with the same k-factors: the same numbers
    k = result["k_factors"]["values"]
    exspy_result = summed.quantification(
        [intensities["O_Ka"], intensities["Si_Ka"]],
        method="CL",
        factors=[k["O"], k["Si"]],
        composition_units="atomic",
        plot_result=False,
        show_progressbar=False,
    )
    assert _value(exspy_result[0]) / 100 == pytest.approx(
        _value(result["atomic_fraction"]["O"]), rel=1e-9
    )


def test_sio2_map_o_over_si_per_pixel(sio2):
    part = sio2.inav[:64, :64]
    intensities = part.line_intensities(["O_Ka", "Si_Ka"], count_target=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = part.quantify_lines(intensities)
    o, si = result["atomic_fraction"]["O"].data, result["atomic_fraction"]["Si"].data
    assert np.nanmedian(o / si) == pytest.approx(2.0, rel=0.20)


def test_srtio3_is_one_one_three_within_20_percent(sto):
    """The Velox file names a Super-X G2 (windowless), its 18-degree elevation, the screen
    current, the live time and the solid angle: the zeta-factor method finds the film's mass
    thickness and corrects O Ka's absorption, which is about 45 % here."""
    intensities = sto.line_intensities(["O_Ka", "Ti_Ka", "Sr_Ka"])
    result = sto.quantify_lines(intensities)
    fractions = {el: _value(m) for el, m in result["atomic_fraction"].items()}
    assert fractions["Sr"] / fractions["Ti"] == pytest.approx(1.0, rel=0.20)
    assert fractions["O"] / fractions["Ti"] == pytest.approx(3.0, rel=0.20)
    absorption = result["absorption"]
    assert absorption["method"] == "zeta factors from the dose"
    assert absorption["take_off_deg"] == pytest.approx(18.0, abs=1.5)
    thickness_nm = float(np.ravel(absorption["mass_thickness_g_cm2"])[0]) / 5.12 * 1e7
    assert 20 < thickness_nm < 200
    assert result["k_factors"]["detector"] == "windowless"
    # Without the correction O is far too low: the correction is what brings it to 3.
    plain = sto.quantify_lines(intensities, absorption="none")
    o_plain = _value(plain["atomic_fraction"]["O"]) / _value(plain["atomic_fraction"]["Ti"])
    assert o_plain < 0.6 * 3.0


def test_theoretical_k_factors_are_recorded_on_the_maps(sto):
    intensities = sto.line_intensities(["Ti_Ka", "Sr_Ka"])
    result = sto.quantify_lines(intensities)
    node = result["atomic_fraction"]["Ti"].metadata.CryoSpec.EDX.k_factors
    assert node.source == "theoretical"
    assert node.reference_line == "Si_Ka"
    assert "Casnati" in node.ingredients
    assert node.values["Ti"] == pytest.approx(result["k_factors"]["values"]["Ti"])


@pytest.mark.parametrize("absorption", [False, True])
def test_builtin_dataset_fractions_with_theoretical_k_factors(absorption):
    """The built-in generator uses the same theoretical k-factors (polymer window recorded in
    its metadata) and, with ``absorption=True``, the same thin-film absorption: the LiPON
    plateau's fractions come back within 10 %, the absorption corrected from the film's mass
    thickness (the generator's overall efficiency is no physical solid angle, so the zeta
    method does not apply to it)."""
    from cryospec.data import li_lipon_eds

    eds, truth = li_lipon_eds(shape=(24, 64), seed=0, absorption=absorption)
    lipon = truth.phase_fractions[..., -1] > 0.99
    intensities = eds.line_intensities(count_target=200)
    result = eds.quantify_lines(
        intensities, mass_thickness=truth.mass_thickness_g_cm2 if absorption else None
    )
    assert result["k_factors"]["detector_from"].startswith("file metadata")
    assert result["absorption"]["method"] == (
        "given mass thickness"
        if absorption
        else "none (no solid angle recorded: give mass_thickness)"
    )
    total = sum(truth.areal_density[el] for el in ("N", "O", "P"))
    for element in ("N", "O", "P"):
        measured = np.nanmean(result["atomic_fraction"][element].data[lipon])
        true = (truth.areal_density[element][lipon] / total[lipon]).mean()
        assert measured == pytest.approx(true, rel=0.10)
    if absorption:
        # without the correction N (most absorbed) reads low
        plain = eds.quantify_lines(intensities, absorption="none")
        n_plain = np.nanmean(plain["atomic_fraction"]["N"].data[lipon])
        n_corrected = np.nanmean(result["atomic_fraction"]["N"].data[lipon])
        assert n_plain < n_corrected


def test_l_line_k_factors_are_flagged(sto):
    """Sr La instead of Sr Ka: quantified, with the factor-2.5 warning."""
    intensities = sto.line_intensities(["Ti_Ka", "Sr_Ka"])
    intensities["Sr_La"] = intensities.pop("Sr_Ka")
    with pytest.warns(UserWarning, match="factor of 2.5"):
        result = sto.quantify_lines(intensities, absorption="none")
    assert result["k_factors"]["relative_uncertainty"]["Sr"] >= 1.0


def test_bad_edx_quantification_arguments_are_refused(sto):
    """Unknown presets, a wrong metadata preset, a bad absorption option, a negative mass
    thickness or solid angle, an M line: each refused with a message naming it."""
    intensities = sto.line_intensities(["Ti_Ka", "Sr_Ka"])
    with pytest.raises(ValueError, match="unknown detector preset 'beryllium'"):
        sto.quantify_lines(intensities, detector="beryllium")
    with pytest.raises(ValueError, match="absorption must be 'auto' or 'none'"):
        sto.quantify_lines(intensities, absorption="yes")
    with pytest.raises(ValueError, match="mass thickness must be finite and not negative"):
        sto.quantify_lines(intensities, mass_thickness=-1e-5)
    with pytest.raises(ValueError, match="solid angle must be a positive number"):
        sto.quantify_lines(intensities, solid_angle_sr=0.0)
    with pytest.raises(ValueError, match="k_factors must be 'theoretical'"):
        sto.quantify_lines(intensities, k_factors="vendor")
    tagged = sto.deepcopy()
    tagged.metadata.set_item("CryoSpec.EDX.detector", "glass")
    with pytest.raises(ValueError, match=r"metadata\.CryoSpec\.EDX\.detector is 'glass'"):
        tagged.quantify_lines(intensities)
    # a preset named in the metadata is used, and said so
    tagged.metadata.set_item("CryoSpec.EDX.detector", "Si3N4")
    result = tagged.quantify_lines(intensities, absorption="none")
    assert result["k_factors"]["detector"] == "Si3N4"
    assert result["k_factors"]["detector_from"].startswith("file metadata")
