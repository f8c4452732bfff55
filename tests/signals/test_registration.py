"""The HyperSpy extension: registration, type round trips, exspy methods on the subclasses."""

from __future__ import annotations

from importlib.metadata import entry_points

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from exspy.signals import EDSTEMSpectrum, EELSSpectrum
from hyperspy.extensions import ALL_EXTENSIONS

from cryospec.signals import (
    CryoEDSTEMSpectrum,
    CryoEELSSpectrum,
    LazyCryoEDSTEMSpectrum,
    LazyCryoEELSSpectrum,
)

ACQ = {"beam_current_pA": 12.0, "dwell_time_s": 2e-3, "pixel_size_nm": 1.5, "detector_gain": 2.0}


def test_entry_point_names_the_package():
    eps = entry_points(group="hyperspy.extensions")
    assert any(ep.name == "cryospec" and ep.value == "cryospec" for ep in eps)


@pytest.mark.parametrize(
    ("cls", "signal_type", "lazy"),
    [
        ("CryoEELSSpectrum", "CryoEELS", False),
        ("LazyCryoEELSSpectrum", "CryoEELS", True),
        ("CryoEDSTEMSpectrum", "CryoEDS_TEM", False),
        ("LazyCryoEDSTEMSpectrum", "CryoEDS_TEM", True),
    ],
)
def test_signal_types_are_listed_by_hyperspy(cls, signal_type, lazy, capsys):
    entry = ALL_EXTENSIONS["signals"][cls]
    assert entry["signal_type"] == signal_type
    assert entry["lazy"] is lazy
    assert entry["signal_dimension"] == 1
    hs.print_known_signal_types()
    assert signal_type in capsys.readouterr().out


def test_subclasses_of_exspy():
    assert issubclass(CryoEELSSpectrum, EELSSpectrum)
    assert issubclass(CryoEDSTEMSpectrum, EDSTEMSpectrum)
    assert issubclass(LazyCryoEELSSpectrum, CryoEELSSpectrum)
    assert issubclass(LazyCryoEDSTEMSpectrum, CryoEDSTEMSpectrum)


@pytest.mark.parametrize(
    ("signal_type", "cls", "lazy_cls"),
    [
        ("CryoEELS", CryoEELSSpectrum, LazyCryoEELSSpectrum),
        ("cryo EELS", CryoEELSSpectrum, LazyCryoEELSSpectrum),
        ("CryoEDS_TEM", CryoEDSTEMSpectrum, LazyCryoEDSTEMSpectrum),
    ],
)
def test_set_signal_type_gives_the_class_and_lazy_twin(signal_type, cls, lazy_cls):
    s = hs.signals.Signal1D(np.ones((2, 3, 32)))
    s.set_signal_type(signal_type)
    assert type(s) is cls
    lazy = hs.signals.Signal1D(da.ones((2, 3, 32), chunks=(1, 3, 32))).as_lazy()
    lazy.set_signal_type(signal_type)
    assert type(lazy) is lazy_cls
    back = hs.signals.Signal1D(np.ones((2, 3, 32)))
    back.set_signal_type(signal_type)
    back.set_signal_type("")
    assert type(back) is hs.signals.Signal1D


@pytest.fixture(params=["CryoEELS", "CryoEDS_TEM"])
def cryo_signal(request):
    s = hs.signals.Signal1D(np.arange(4 * 5 * 64, dtype=float).reshape(4, 5, 64) + 1)
    s.set_signal_type(request.param)
    s.set_acquisition_parameters(**ACQ)
    return s


def _same_cryo_metadata(a, b):
    assert a.metadata.CryoSpec.as_dictionary() == b.metadata.CryoSpec.as_dictionary()


def test_lazy_compute_deepcopy_and_slicing_keep_type_and_metadata(cryo_signal):
    cls = type(cryo_signal)
    lazy = cryo_signal.as_lazy()
    assert lazy._lazy and isinstance(lazy, cls) and type(lazy).__name__ == f"Lazy{cls.__name__}"
    _same_cryo_metadata(cryo_signal, lazy)
    computed = lazy.deepcopy()
    computed.compute()
    assert type(computed) is cls
    _same_cryo_metadata(cryo_signal, computed)
    copy = cryo_signal.deepcopy()
    assert type(copy) is cls
    _same_cryo_metadata(cryo_signal, copy)
    for sliced in (cryo_signal.inav[1:3, 0], cryo_signal.isig[10:20], lazy.inav[0]):
        assert isinstance(sliced, cls)
        _same_cryo_metadata(cryo_signal, sliced)
    mapped = cryo_signal.map(lambda x: x * 2, inplace=False)
    assert isinstance(mapped, cls)
    _same_cryo_metadata(cryo_signal, mapped)


@pytest.mark.parametrize("extension", ["hspy", "zspy"])
def test_file_round_trip_keeps_type_and_metadata(cryo_signal, tmp_path, extension):
    path = tmp_path / f"s.{extension}"
    cryo_signal.save(path)
    for lazy in (False, True):
        back = hs.load(path, lazy=lazy)
        assert isinstance(back, type(cryo_signal))
        assert back._lazy is lazy
        _same_cryo_metadata(cryo_signal, back)
        np.testing.assert_array_equal(np.asarray(back.data), cryo_signal.data)


def test_exspy_eels_methods_work_on_the_subclass():
    from cryospec.data import li_lipon

    # simulated with the hydrogenic cross-sections, the model of exspy's edge fitted below
    core_loss, low_loss, truth = li_lipon(shape=(6, 64), seed=3, cross_section="hydrogenic")
    assert isinstance(core_loss, CryoEELSSpectrum)
    # Thickness by exspy's log-ratio on our low loss.
    tau = low_loss.estimate_thickness(threshold=3.0)
    np.testing.assert_allclose(tau.data, truth.t_over_lambda, atol=0.02)
    # Background removal, result keeps the class and the metadata.
    sub = core_loss.remove_background(signal_range=(40.0, 53.0), fast=True)
    assert isinstance(sub, CryoEELSSpectrum)
    _same_cryo_metadata(core_loss, sub)
    # exspy's edge bookkeeping and its model with the offline hydrogenic GOS.
    assert {"Li_K", "O_K", "N_K"} <= set(core_loss.subshells)
    spectrum = core_loss.inav[50, 0].isig[480.0:640.0]
    spectrum.set_microscope_parameters(beam_energy=300, convergence_angle=10, collection_angle=20)
    model = spectrum.create_model(auto_add_edges=False, GOS="hydrogenic")
    model.components.PowerLaw.estimate_parameters(spectrum, 480.0, 525.0)
    from exspy.components import EELSCLEdge

    edge = EELSCLEdge("O_K", GOS="hydrogenic")
    model.append(edge)
    model.fit()
    # exspy's edge intensity is I0 * n in 1/barn (1 barn = 1e-10 nm^2). Fitting a single-
    # scattering edge to plurally scattered data recovers about the zero-loss share, e^-t/lambda.
    expected = truth.electrons_per_pixel * truth.areal_density["O"][0, 50] * 1e-10
    ratio = edge.intensity.value / expected
    assert ratio == pytest.approx(np.exp(-truth.t_over_lambda[0, 50]), rel=0.15)


def test_exspy_eds_methods_work_on_the_subclass():
    from cryospec.data import li_lipon_eds

    eds, truth = li_lipon_eds(shape=(4, 32), seed=1)
    assert isinstance(eds, CryoEDSTEMSpectrum)
    intensities = eds.get_lines_intensity()
    assert [m.metadata.Sample.xray_lines[0] for m in intensities] == list(truth.xray_lines)
    kfactors = [truth.k_factors[line.split("_")[0]] for line in truth.xray_lines]
    composition = eds.quantification(intensities, method="CL", factors=kfactors, plot_result=False)
    assert len(composition) == 3


def test_exspy_eds_branches_on_signal_type_still_work():
    def make(signal_type):
        s = hs.signals.Signal1D(np.ones((2, 256)))
        s.axes_manager[-1].scale, s.axes_manager[-1].units = 0.01, "keV"
        s.set_signal_type(signal_type)
        s.set_microscope_parameters(tilt_stage=10.0, elevation_angle=20.0, azimuth_angle=0.0)
        return s

    s, reference = make("CryoEDS_TEM"), make("EDS_TEM")
    assert s.metadata.Signal.signal_type == "CryoEDS_TEM"
    assert s.get_take_off_angle() == pytest.approx(reference.get_take_off_angle())
    assert s._get_line_energy("P_Ka", "auto") == reference._get_line_energy("P_Ka", "auto")


def test_map_spectra_blocks_in_memory_arrays_identically():
    from cryospec._chunks import map_spectra

    data = np.random.default_rng(0).random((6, 10, 32))

    def kernel(block, scale):
        return (block * scale).sum(-1, keepdims=True)

    scale = np.arange(60.0).reshape(6, 10, 1)
    whole = map_spectra(kernel, data, scale, n_out=1, dtype=float)
    blocks = map_spectra(kernel, data, scale, n_out=1, dtype=float, max_pixels=20)
    assert isinstance(blocks, np.ndarray)
    np.testing.assert_allclose(blocks, whole)
