"""Acquisition metadata in metadata.CryoSpec and the dose it implies."""

from __future__ import annotations

import hyperspy.api as hs
import numpy as np
import pytest

from cryospec.core.dose import ACQUISITION_FIELDS, MissingMetadataError, dose_per_pixel
from cryospec.signals import CryoEELSSpectrum

E = 1.602176634e-19


def _signal(shape=(3, 4, 16)):
    return CryoEELSSpectrum(np.ones(shape))


def test_dose_formula_from_first_principles():
    # 10 pA for 1 ms is 6.24e4 electrons, over a (25 Å)^2 pixel.
    expected = 10e-12 * 1e-3 / E / 25.0**2
    assert dose_per_pixel(10.0, 1e-3, 2.5) == pytest.approx(expected, rel=1e-12)
    assert dose_per_pixel(10.0, 1e-3, 2.5, n_frames=7) == pytest.approx(7 * expected, rel=1e-12)


def test_set_and_read_every_field():
    s = _signal()
    values = {
        "beam_current_pA": 15.0,
        "dwell_time_s": 2e-3,
        "pixel_size_nm": 0.8,
        "n_frames": 4,
        "detector_gain": 1.7,
        "temperature_K": 95.0,
    }
    assert set(values) == set(ACQUISITION_FIELDS)
    s.set_acquisition_parameters(**values)
    for key, value in values.items():
        assert s.metadata.CryoSpec.Acquisition[key] == value
        assert s.get_acquisition_parameter(key) == value
    assert s.acquisition_parameters == values
    # Only the given fields change.
    s.set_acquisition_parameters(beam_current_pA=30.0)
    assert s.metadata.CryoSpec.Acquisition.dwell_time_s == 2e-3


def test_dose_map_is_a_navigation_signal_with_the_right_value():
    s = _signal()
    s.set_acquisition_parameters(
        beam_current_pA=15.0, dwell_time_s=2e-3, pixel_size_nm=0.8, n_frames=4
    )
    dose = s.dose_per_pixel()
    assert isinstance(dose, hs.signals.Signal2D)
    assert dose.data.shape == (3, 4)
    expected = 15e-12 * 2e-3 * 4 / E / 8.0**2
    np.testing.assert_allclose(dose.data, expected, rtol=1e-12)
    assert dose.metadata.Signal.quantity == "Dose (e/Å²)"
    assert s.electrons_per_pixel() == pytest.approx(15e-12 * 2e-3 * 4 / E)
    lazy = s.as_lazy().dose_per_pixel()
    assert lazy._lazy
    np.testing.assert_allclose(lazy.compute() or lazy.data, expected, rtol=1e-12)
    line = CryoEELSSpectrum(np.ones((5, 16)))
    line.set_acquisition_parameters(beam_current_pA=1.0, dwell_time_s=1.0, pixel_size_nm=1.0)
    assert isinstance(line.dose_per_pixel(), hs.signals.Signal1D)


@pytest.mark.parametrize("missing", ["beam_current_pA", "dwell_time_s", "pixel_size_nm"])
def test_missing_field_error_names_it(missing):
    s = _signal()
    given = {"beam_current_pA": 1.0, "dwell_time_s": 1.0, "pixel_size_nm": 1.0}
    del given[missing]
    s.set_acquisition_parameters(**given)
    with pytest.raises(MissingMetadataError, match=missing):
        s.dose_per_pixel()
    with pytest.raises(KeyError, match=missing):  # MissingMetadataError is a KeyError
        s.get_acquisition_parameter(missing)


def test_gain_and_temperature_have_no_silent_default():
    s = _signal()
    for name in ("detector_gain", "temperature_K"):
        with pytest.raises(MissingMetadataError, match=name):
            s.get_acquisition_parameter(name)
    assert s.get_acquisition_parameter("n_frames") == 1  # documented default: one frame


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beam_current_pA": -1.0}, "beam_current_pA must be finite and positive"),
        ({"dwell_time_s": float("nan")}, "dwell_time_s must be finite"),
        ({"pixel_size_nm": 0.0}, "pixel_size_nm must be finite and positive"),
        ({"n_frames": 2.5}, "n_frames must be a whole number"),
        ({"detector_gain": "1"}, "detector_gain must be a number"),
        ({"temperature_K": True}, "temperature_K must be a number"),
    ],
)
def test_bad_values_are_refused(kwargs, message):
    s = _signal()
    with pytest.raises(ValueError, match=message):
        s.set_acquisition_parameters(**kwargs)
    assert not s.metadata.has_item("CryoSpec")


def test_standard_hyperspy_nodes_are_used_when_cryospec_is_silent():
    s = _signal()
    s.metadata.set_item("Acquisition_instrument.TEM.beam_current", 0.02)  # nA
    s.metadata.set_item("Acquisition_instrument.TEM.Detector.EELS.dwell_time", 0.01)
    s.metadata.set_item("Acquisition_instrument.TEM.Detector.EELS.frame_number", 3)
    for axis in s.axes_manager.navigation_axes:
        axis.scale, axis.units = 0.002, "µm"
    assert s.get_acquisition_parameter("beam_current_pA") == pytest.approx(20.0)
    assert s.get_acquisition_parameter("dwell_time_s") == 0.01
    assert s.get_acquisition_parameter("n_frames") == 3
    assert s.get_acquisition_parameter("pixel_size_nm") == pytest.approx(2.0)
    # metadata.CryoSpec wins over the standard nodes.
    s.set_acquisition_parameters(beam_current_pA=5.0)
    assert s.get_acquisition_parameter("beam_current_pA") == 5.0


def test_unrecorded_zero_current_is_reported_not_used(data_dir):
    import cryospec

    s = cryospec.load(data_dir / "NMC_SiDoped_SI_35-649eV_LiK_SiL.dm3")
    assert s.metadata.Acquisition_instrument.TEM.beam_current == 0.0  # as the file says
    with pytest.raises(MissingMetadataError, match="not recorded in the file"):
        s.dose_per_pixel()
    s.set_acquisition_parameters(beam_current_pA=50.0)
    # Dwell time (0.05 s) and pixel size (1.49 nm, from the µm axes) come from the file.
    expected = 50e-12 * 0.05 / E / (s.axes_manager["x"].scale * 1e4) ** 2
    np.testing.assert_allclose(s.dose_per_pixel().data, expected, rtol=1e-6)


def test_non_square_pixels_need_an_explicit_size():
    s = _signal()
    s.axes_manager[0].scale, s.axes_manager[0].units = 1.0, "nm"
    s.axes_manager[1].scale, s.axes_manager[1].units = 2.0, "nm"
    with pytest.raises(ValueError, match="square pixels"):
        s.get_acquisition_parameter("pixel_size_nm")


def test_damage_thresholds_have_sources():
    from cryospec.edges import damage_thresholds

    thresholds = damage_thresholds()
    assert {"Li metal", "Li2CO3", "LiOH", "electrolyte"} <= set(thresholds)
    assert thresholds["Li metal"].critical_dose_e_per_A2 == 1e5
    assert thresholds["Li2CO3 (room temperature)"].critical_dose_e_per_A2 == 750.0
    for t in thresholds.values():
        assert t.source.strip() and t.status in {"checked", "approximate"} and t.conditions


def test_flag_damage_compares_the_cumulative_dose():
    s = _signal((2, 3, 16))
    s.set_acquisition_parameters(beam_current_pA=10.0, dwell_time_s=1e-3, pixel_size_nm=0.25)
    dose = float(s.dose_per_pixel().data[0, 0])  # 1e4 e/Å² at (2.5 Å)^2 pixels
    assert dose == pytest.approx(9986.4, rel=1e-4)
    assert not s.flag_damage("Li2CO3").data.any()
    flags = s.flag_damage("Li2CO3", prior_dose=20.0)
    assert flags.data.all()
    assert flags.metadata.CryoSpec.Damage.source.startswith("2025 perspective")
    assert flags.metadata.CryoSpec.Damage.flagged_fraction == 1.0
    assert s.flag_damage("Li metal").data.sum() == 0
    # A user threshold overrides the database; the map can vary through prior_dose.
    prior = np.zeros((2, 3))  # numpy order (y, x) of the navigation shape (3, 2)
    prior[0, 0] = 1e5
    custom = s.flag_damage("my SEI", critical_dose=5e4, prior_dose=prior)
    assert custom.data.sum() == 1 and custom.data[0, 0]
    assert custom.metadata.CryoSpec.Damage.source == "given by the user"
    with pytest.raises(KeyError, match="pass critical_dose"):
        s.flag_damage("unobtainium")
    with pytest.raises(ValueError, match="critical_dose must be positive"):
        s.flag_damage("x", critical_dose=-1.0)
    with pytest.raises(ValueError, match="prior_dose"):
        s.flag_damage("Li2CO3", prior_dose=np.zeros((3, 2)))
    assert s.as_lazy().flag_damage("Li2CO3", prior_dose=20.0)._lazy


def test_noise_model_stores_the_poisson_variance():
    s = _signal((2, 3, 16))
    s.data = s.data * 7.0
    s.set_acquisition_parameters(detector_gain=2.0)
    s.set_noise_model(read_noise=3.0)
    variance = s.metadata.Signal.Noise_properties.variance
    np.testing.assert_allclose(variance.data, 2.0 * 7.0 + 9.0)
    assert s.metadata.CryoSpec.Noise.read_noise == 3.0
    with pytest.raises(MissingMetadataError, match="detector_gain"):
        _signal().set_noise_model()
    with pytest.raises(ValueError, match="read_noise"):
        s.set_noise_model(read_noise=-1.0)
