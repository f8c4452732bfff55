"""Quantification against the built-in dataset's truth."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cryospec.core.dose import MissingMetadataError
from cryospec.data import li_lipon

EDGES = ["Li_K", "P_L23", "N_K", "O_K"]
ELEMENTS = ["Li", "P", "N", "O"]


@pytest.fixture(scope="module")
def medium():
    return li_lipon(shape=(24, 64), beam_current_pA=40.0, seed=0)


@pytest.fixture(scope="module")
def model_result(medium):
    core_loss, low_loss, _ = medium
    return core_loss.quantify(EDGES, low_loss=low_loss)


def test_model_fit_atomic_ratios_within_5_percent(medium, model_result):
    _, _, truth = medium
    o_true = truth.areal_density["O"]
    plateau = o_true > 0.5 * o_true.max()
    o_est = model_result.areal_density["O"].data[plateau].sum()
    for element in ("Li", "P", "N"):
        est = model_result.areal_density[element].data[plateau].sum() / o_est
        true = truth.areal_density[element][plateau].sum() / o_true[plateau].sum()
        assert est == pytest.approx(true, rel=0.05), element
    assert model_result.units == "atoms/nm²"


@pytest.mark.parametrize("element", ELEMENTS)
def test_model_fit_errors_are_calibrated(medium, model_result, element):
    _, _, truth = medium
    n = truth.areal_density[element]
    present = n > 0.2 * n.max()
    est = model_result.areal_density[element].data
    se = model_result.areal_density_se[element].data
    z = (est - n)[present] / se[present]
    assert 0.8 < z.std() < 1.25
    assert abs(z.mean()) < 0.5
    assert est[present].sum() / n[present].sum() == pytest.approx(1.0, abs=0.03)


def test_atomic_fractions_and_their_errors(medium, model_result):
    _, _, truth = medium
    total = sum(model_result.atomic_fraction[el].data for el in ELEMENTS)
    np.testing.assert_allclose(total, 1.0, rtol=1e-10)
    true_total = sum(truth.areal_density[el] for el in ELEMENTS)
    fraction = truth.areal_density["P"] / true_total
    lipon = truth.phase_fractions[..., -1] > 0.99
    est = model_result.atomic_fraction["P"].data[lipon]
    assert est.mean() == pytest.approx(fraction[lipon].mean(), rel=0.05)
    z = (est - fraction[lipon]) / model_result.atomic_fraction_se["P"].data[lipon]
    assert 0.7 < z.std() < 1.3


def test_thickness_residual_and_result_layout(medium, model_result):
    _, _, truth = medium
    np.testing.assert_allclose(model_result.t_over_lambda.data, truth.t_over_lambda, atol=0.02)
    assert np.median(model_result.residual.data) == pytest.approx(1.0, abs=0.1)
    summary = model_result.summary()
    assert set(summary["elements"]) == set(ELEMENTS)
    assert summary["elements"]["O"]["areal_density_mean"] > 0
    stacked = model_result.stack()
    names = stacked.metadata.CryoSpec.Quantification.maps
    assert "areal_density:Li" in names and "t_over_lambda" in names
    assert "areal_density_se:Li" in names and "atomic_fraction_se:O" in names
    i = names.index("areal_density_se:Li")
    np.testing.assert_array_equal(stacked.data[i], model_result.areal_density_se["Li"].data)
    assert stacked.data.shape == (len(names), 24, 64)


def test_lazy_and_in_memory_agree(medium):
    core_loss, low_loss, _ = medium
    crop, ll_crop = core_loss.inav[20:40, :8], low_loss.inav[20:40, :8]
    eager = crop.quantify(EDGES, low_loss=ll_crop)
    lazy = crop.as_lazy()
    lazy.data = lazy.data.rechunk((4, 10, -1))
    out = lazy.quantify(EDGES, low_loss=ll_crop)
    for element in ELEMENTS:
        np.testing.assert_allclose(
            out.areal_density[element].data, eager.areal_density[element].data, rtol=1e-6
        )


def test_integration_method_in_a_thin_specimen():
    """Without plural scattering Egerton's ratio method is exact up to the background."""
    core_loss, low_loss, truth = li_lipon(
        shape=(6, 64), thickness_nm=(5.0, 5.0), beam_current_pA=4000.0, seed=1
    )
    result = core_loss.quantify(EDGES, low_loss=low_loss, method="integration")
    for element in ("Li", "P", "O"):
        n = truth.areal_density[element]
        present = n > 0.2 * n.max()
        ratio = result.areal_density[element].data[present].sum() / n[present].sum()
        assert ratio == pytest.approx(1.0, abs=0.04), element


def test_without_low_loss_the_dose_metadata_sets_the_scale(medium):
    core_loss, _, truth = medium
    crop = core_loss.inav[50:, :4]
    result = crop.quantify(["O_K"])
    assert result.units == "atoms/nm²"
    np.testing.assert_allclose(result.incident_electrons.data, truth.electrons_per_pixel)
    bare = crop.deepcopy()
    del bare.metadata.CryoSpec.Acquisition.beam_current_pA
    assert bare.quantify(["O_K"]).units == "relative"


def test_bad_input(medium):
    core_loss, low_loss, _ = medium
    crop = core_loss.inav[:4, :2]
    with pytest.raises(KeyError, match="known edges"):
        crop.quantify(["Xx_K"])
    with pytest.raises(ValueError, match="outside the energy axis"):
        crop.quantify(["F_K"])
    with pytest.raises(ValueError, match="one edge per element"):
        crop.quantify(["P_L23", "P_L1"])
    with pytest.raises(ValueError, match="navigation shape"):
        crop.quantify(["O_K"], low_loss=low_loss)
    with pytest.raises(ValueError, match="method must be"):
        crop.quantify(["O_K"], method="magic")
    shifted = low_loss.inav[:4, :2].deepcopy()
    shifted.axes_manager[-1].offset += 3.0
    with pytest.raises(ValueError, match="not calibrated"):
        crop.quantify(["O_K"], low_loss=shifted)
    bare = crop.deepcopy()
    del bare.metadata.Acquisition_instrument.TEM.Detector.EELS.collection_angle
    with pytest.raises(MissingMetadataError, match="collection_angle"):
        bare.quantify(["O_K"])
    short = crop.isig[:560.0]
    with pytest.raises(ValueError, match=r"outside the energy axis|too close to the end"):
        short.quantify(["O_K"])


@pytest.fixture(scope="module")
def with_cobalt():
    """The built-in dataset with a Co M2,3 edge under Li K (same plural scattering)."""
    from cryospec.core.edge_shapes import edge_shapes

    core_loss, low_loss, truth = li_lipon(shape=(12, 64), beam_current_pA=40.0, seed=0, noise=False)
    energy = truth.energy_eV
    cobalt = edge_shapes(
        energy,
        ("Co_M23",),
        300.0,
        20.0,
        10.0,
        low_loss=low_loss.data,
        low_loss_energy=truth.low_loss_energy_eV,
        cross_section="hydrogenic",  # the empirical M2,3 shape, 1 at its maximum
    )[..., 0]
    amplitude = 0.5 * truth.edges["Li_K"][..., np.searchsorted(energy, 62.0)]
    noisy = core_loss.deepcopy()
    rng = np.random.default_rng(1)
    noisy.data = rng.poisson(core_loss.data + amplitude[..., None] * cobalt).astype(np.float32)
    return noisy, low_loss, truth, amplitude


def test_declared_transition_metals_are_fitted_with_li_k(with_cobalt):
    core_loss, low_loss, truth, amplitude = with_cobalt
    declared = core_loss.deepcopy()
    declared.add_elements(("Co",))
    result = declared.quantify(EDGES, low_loss=low_loss)
    n = truth.areal_density["Li"]
    assert result.areal_density["Li"].data.sum() / n.sum() == pytest.approx(1.0, abs=0.04)
    assert set(result.overlap_amplitude) == {"Co_M23"}
    recovered = result.overlap_amplitude["Co_M23"].data.mean() / amplitude.mean()
    assert recovered == pytest.approx(1.0, abs=0.1)


def test_undeclared_transition_metals_raise_a_warning(with_cobalt):
    core_loss, low_loss, truth, _ = with_cobalt
    with pytest.warns(UserWarning, match="transition metals"):
        result = core_loss.quantify(EDGES, low_loss=low_loss)
    # Without them in the model, their intensity is taken for Li.
    n = truth.areal_density["Li"]
    assert result.areal_density["Li"].data.sum() / n.sum() > 1.2


def test_real_nmc_transition_metals_are_flagged_when_undeclared(data_dir):
    """Real Si-doped NMC (tests/data, the low-loss acquisition: it holds the zero-loss peak and
    the Li K / Mn, Co, Ni M2,3 region on the plasmon tail, summed over its 42 pixels, zero-loss
    peak moved to 0 eV). Undeclared, the M2,3 edges are flagged; declared, they are in the model
    and no warning is given. (Detector gain 1.5 counts per electron from the photon-transfer
    slope of this file: variance = 1.5 x mean + 65.)"""
    import warnings

    import cryospec
    from cryospec.core.low_loss import zero_loss_peak

    measured = cryospec.load(data_dir / "NMC_SiDoped_SI_lowloss_-60-554eV.dm3")
    spectrum = measured.sum(measured.axes_manager.navigation_axes)
    centre, _ = zero_loss_peak(spectrum.data[None], spectrum.axes_manager[-1].axis)
    assert centre[0] == pytest.approx(-3.2, abs=0.3)
    spectrum.axes_manager[-1].offset -= centre[0]
    spectrum.set_microscope_parameters(convergence_angle=10.0)  # not recorded in the file
    spectrum.set_acquisition_parameters(detector_gain=1.5)
    low_loss, core_loss = spectrum.isig[:40.0], spectrum.isig[30.0:140.0]
    with pytest.warns(UserWarning, match="transition metals"):
        core_loss.quantify(["Li_K"], low_loss=low_loss, show_progressbar=False)
    declared = core_loss.deepcopy()
    declared.add_elements(("Mn", "Co", "Ni"))
    with warnings.catch_warnings():
        # no transition-metal warning once they are declared (the fit-health warnings of a
        # poor fit on this real spectrum are another matter)
        warnings.filterwarnings("error", message=".*transition metals", category=UserWarning)
        result = declared.quantify(["Li_K"], low_loss=low_loss, show_progressbar=False)
    assert set(result.overlap_amplitude) == {"Mn_M23", "Co_M23", "Ni_M23"}
    assert float(np.ravel(result.t_over_lambda.data)[0]) == pytest.approx(0.51, abs=0.05)


def test_no_warning_without_transition_metals(medium):
    import warnings

    core_loss, low_loss, _ = medium
    with warnings.catch_warnings():
        # no transition-metal warning (the Li metal columns hold no P, N or O: those are
        # reported as not detected, another warning)
        warnings.filterwarnings("error", message=".*transition metals", category=UserWarning)
        core_loss.inav[:, :6].quantify(EDGES, low_loss=low_loss.inav[:, :6])


@pytest.mark.parametrize("current", [40.0, 400.0])
def test_no_m23_warning_with_an_averaged_low_loss(current):
    """The README's separate low loss (the map's mean) leaves a mismatch under Li K that the
    M2,3 shapes reduce a little (mean deviance drop 15 at 40 pA, 147 at 400 pA, half the
    deviance per degree of freedom left): no transition-metal warning for a sample without
    them. With a Co M2,3 edge, or on the real NMC, the warning stays (tests above)."""
    import warnings

    core_loss, low_loss, _ = li_lipon(shape=(12, 64), beam_current_pA=current, seed=0)
    averaged = low_loss.mean(low_loss.axes_manager.navigation_axes)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*transition metals", category=UserWarning)
        core_loss.quantify(EDGES, low_loss=averaged)


def test_background_model_choice_for_integration(medium):
    core_loss, low_loss, _ = medium
    crop, ll = core_loss.inav[:, :4], low_loss.inav[:, :4]
    result = crop.quantify(
        ["O_K"], low_loss=ll, method="integration", background_model="exponential"
    )
    assert np.all(np.isfinite(result.areal_density["O"].data))
    with pytest.raises(ValueError, match="power-law background"):
        crop.quantify(["O_K"], low_loss=ll, background_model="exponential")
    with pytest.raises(ValueError, match="background_model must be one of"):
        crop.quantify(["O_K"], low_loss=ll, method="integration", background_model="spline")


def test_a_separately_acquired_low_loss_is_used_for_every_pixel(medium, model_result):
    """One low-loss spectrum (a separate acquisition, averaged) gives the plural scattering and
    t/lambda of the area; the electrons per pixel then come from the dose metadata."""
    core_loss, low_loss, truth = medium
    mean_low_loss = low_loss.mean(low_loss.axes_manager.navigation_axes)
    result = core_loss.quantify(EDGES, low_loss=mean_low_loss)
    assert result.units == "atoms/nm²"
    np.testing.assert_allclose(
        result.incident_electrons.data, core_loss.electrons_per_pixel(), rtol=1e-12
    )
    tau = result.t_over_lambda.data
    assert np.ptp(tau) == 0.0
    assert tau.flat[0] == pytest.approx(np.mean(model_result.t_over_lambda.data), rel=0.05)
    o_true = truth.areal_density["O"]
    plateau = o_true > 0.5 * o_true.max()
    o_est = result.areal_density["O"].data[plateau].sum()
    # The thickness spans 46-93 nm over the map: one average low loss misses the plural
    # scattering of the thick and thin ends, most for N K (measured 0.99, 1.01, 0.90 of the
    # truth; with the pixel-matched low loss 0.98, 1.01, 1.01; with none 1.24, 0.87, 0.39).
    for element, tolerance in (("Li", 0.05), ("P", 0.05), ("N", 0.12)):
        est = result.areal_density[element].data[plateau].sum() / o_est
        true = truth.areal_density[element][plateau].sum() / o_true[plateau].sum()
        assert est == pytest.approx(true, rel=tolerance), element
    # Egerton's ratio method: I_l(Delta) is the separate spectrum's share times the dose.
    ratio = core_loss.quantify(["Li_K", "O_K"], low_loss=mean_low_loss, method="integration")
    matched = core_loss.quantify(["Li_K", "O_K"], low_loss=low_loss, method="integration")
    for element in ("Li", "O"):
        mean = ratio.areal_density[element].data[plateau].mean()
        assert mean == pytest.approx(
            matched.areal_density[element].data[plateau].mean(), rel=0.1
        ), element
    lazy = core_loss.as_lazy().quantify(EDGES, low_loss=mean_low_loss)
    np.testing.assert_allclose(
        lazy.areal_density["Li"].data, result.areal_density["Li"].data, rtol=1e-6
    )


def test_a_low_loss_of_another_shape_is_refused_with_what_to_do(medium):
    core_loss, low_loss, _ = medium
    with pytest.raises(ValueError, match="as one spectrum for every pixel"):
        core_loss.quantify(EDGES, low_loss=low_loss.inav[:10])


def test_hartree_slater_cross_sections_are_a_choice_with_provenance(
    li_lipon_small, tmp_path, monkeypatch
):
    monkeypatch.setenv("CRYOSPEC_CACHE_DIR", str(tmp_path))
    core_loss, low_loss, _ = li_lipon_small
    edges = ["Li_K", "O_K"]
    model = core_loss.quantify(edges, low_loss=low_loss, cross_section="hartree-slater")
    record = model.summary()["cross_section"]
    assert record["choice"] == "hartree-slater" and "Hartree-Fock-Slater" in record["method"]
    assert set(record["edges"]) == set(edges)
    assert np.all(np.isfinite(model.areal_density["Li"].data))
    # Egerton's ratio method: the areal densities scale with the inverse partial cross-sections
    results = {
        choice: core_loss.quantify(edges, method="integration", cross_section=choice)
        for choice in ("hydrogenic", "hartree-slater")
    }
    for edge, element in (("Li_K", "Li"), ("O_K", "O")):
        sigma = {
            choice: r.summary()["cross_section"]["edges"][edge]["partial_cross_section_barn"]
            for choice, r in results.items()
        }
        np.testing.assert_allclose(
            results["hartree-slater"].areal_density[element].data * sigma["hartree-slater"],
            results["hydrogenic"].areal_density[element].data * sigma["hydrogenic"],
            rtol=1e-9,
        )
    with pytest.raises(ValueError, match="cross_section must be one of"):
        core_loss.quantify(edges, cross_section="dirac")


def test_every_shell_of_the_database_can_be_quantified(li_lipon_small, tmp_path, monkeypatch):
    """With computed cross-sections an edge beyond the hydrogenic tables (Ti L2,3 here, on a
    spectrum that holds none) is fitted: it comes out near zero, not an error."""
    monkeypatch.setenv("CRYOSPEC_CACHE_DIR", str(tmp_path))
    core_loss = li_lipon_small[0]
    with pytest.raises(ValueError, match="no hydrogenic parameters"):
        core_loss.quantify(["Ti_L23", "O_K"], cross_section="hydrogenic")
    result = core_loss.quantify(["Ti_L23", "O_K"])  # Hartree-Slater, the default
    ti = np.nanmedian(result.atomic_fraction["Ti"].data)
    assert ti < 0.05


def _areal_densities(result):
    return {el: np.asarray(result.areal_density[el].data) for el in result.areal_density}


@pytest.mark.parametrize("method", ["model", "integration"])
def test_low_loss_with_a_shorter_exposure_gives_the_same_areal_densities(
    li_lipon_noiseless, method
):
    """Dual EELS records the low loss with a fraction of the core loss's exposure: the incident
    electrons are its counts scaled by the exposure ratio (dwell time x frames of each)."""
    core_loss, low_loss, _ = li_lipon_noiseless
    edges = ["Li_K", "P_L23", "O_K"]
    reference = _areal_densities(core_loss.quantify(edges, low_loss=low_loss, method=method))
    short = low_loss.deepcopy()
    short.data = short.data / 100.0
    short.set_acquisition_parameters(
        dwell_time_s=low_loss.get_acquisition_parameter("dwell_time_s") / 100.0
    )
    result = core_loss.quantify(edges, low_loss=short, method=method)
    for element, values in _areal_densities(result).items():
        np.testing.assert_allclose(values, reference[element], rtol=0.01)
    assert any("exposure is 100 times" in note for note in result.summary()["notes"])


def test_low_loss_at_a_third_of_the_dispersion_is_resampled(li_lipon_noiseless):
    from cryospec.data import li_lipon

    core_loss, low_loss, _ = li_lipon_noiseless
    # the same specimen and acquisition, the low loss recorded at 0.1 eV per channel
    _, fine, _ = li_lipon(
        shape=(6, 64),
        seed=3,
        noise=False,
        energy_step_eV=0.1,
        n_channels=256,
        n_low_loss_channels=3072,
    )
    assert fine.axes_manager[-1].scale == pytest.approx(core_loss.axes_manager[-1].scale / 3)
    edges = ["Li_K", "P_L23", "N_K", "O_K"]
    reference = _areal_densities(core_loss.quantify(edges, low_loss=low_loss))
    result = core_loss.quantify(edges, low_loss=fine)
    for element, values in _areal_densities(result).items():
        total = values.sum() / reference[element].sum()
        assert total == pytest.approx(1.0, abs=0.01), element
    assert any("resampled" in note for note in result.summary()["notes"])
    one = fine.mean(fine.axes_manager.navigation_axes)  # one spectrum for every pixel
    core_loss.quantify(edges, low_loss=one)  # resampled too, no dispersion error


def test_one_detector_gain_applies_to_both_spectra(li_lipon_noiseless):
    core_loss, low_loss, _ = li_lipon_noiseless
    edges = ["Li_K", "O_K"]
    reference = _areal_densities(core_loss.quantify(edges, low_loss=low_loss))
    core, low = core_loss.deepcopy(), low_loss.deepcopy()
    for s in (core, low):
        s.data = s.data * 2.5
        del s.metadata.CryoSpec.Acquisition.detector_gain
    with pytest.raises(MissingMetadataError, match="detector_gain"):
        core.quantify(edges, low_loss=low)
    core.set_acquisition_parameters(detector_gain=2.5)
    with pytest.raises(MissingMetadataError, match="the low loss has no detector gain"):
        core.quantify(edges, low_loss=low)
    result = core.quantify(edges, low_loss=low, detector_gain=2.5)
    for element, values in _areal_densities(result).items():
        np.testing.assert_allclose(
            values, reference[element], rtol=1e-4, atol=1e-5 * reference[element].max()
        )


def test_plasmon_energy_below_40_ev_and_a_gain_step_diagnosed(li_lipon_noiseless):
    core_loss, low_loss, _ = li_lipon_noiseless
    edges = ["Li_K", "O_K"]
    reference = core_loss.quantify(edges, low_loss=low_loss)
    stepped = low_loss.deepcopy()
    energy = stepped.axes_manager[-1].axis
    stepped.data = np.where(energy > 150.0, stepped.data * 1e4, stepped.data).astype("float32")
    with pytest.warns(UserWarning, match="gain step"):
        result = core_loss.quantify(edges, low_loss=stepped)
    # the near-edge widths hold one plasmon energy (about 15-25 eV here), not the step at 150+
    assert result.near_edge_eV["Li_K"] == pytest.approx(reference.near_edge_eV["Li_K"])
    assert result.near_edge_eV["Li_K"] < 25.0 + 40.0
    assert any("gain step" in note for note in result.summary()["notes"])


def test_absent_edge_is_reported_not_detected_with_an_upper_limit(li_lipon_small):
    core_loss, low_loss, _ = li_lipon_small
    with pytest.warns(UserWarning, match="C is not detected"):
        result = core_loss.quantify(["Li_K", "C_K", "P_L23", "N_K", "O_K"], low_loss=low_loss)
    health = result.summary()["fit_health"]
    carbon = health["elements"]["C"]
    assert carbon["detected"] is False and carbon["upper_limit"] > 0
    assert carbon["upper_limit"] < 0.02 * np.nanmean(result.areal_density["O"].data)
    assert health["elements"]["O"]["detected"] and health["elements"]["Li"]["detected"]
    assert health["poor_fit_fraction"] < 0.1


def test_a_poor_fit_is_never_silent(li_lipon_small):
    """P L2,3 left out of the model (it is in the data): the fit is poor and says so."""
    core_loss, low_loss, _ = li_lipon_small
    with pytest.warns(UserWarning, match="fits poorly"):
        result = core_loss.quantify(["Li_K", "N_K", "O_K"], low_loss=low_loss)
    assert result.summary()["fit_health"]["poor_fit_fraction"] > 0.1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fit_range_eV": (600.0, 40.0)}, "fit_range_eV must be"),
        ({"fit_range_eV": (40.0, float("nan"))}, "fit_range_eV must be"),
        ({"background_windows_eV": [(53.0, 40.0)]}, r"background_windows_eV\[0\] must be"),
    ],
)
def test_reversed_or_non_finite_ranges_are_named(li_lipon_small, kwargs, match):
    core_loss, low_loss, _ = li_lipon_small
    with pytest.raises(ValueError, match=match):
        core_loss.quantify(EDGES, low_loss=low_loss, **kwargs)


def test_a_descending_energy_axis_is_named(li_lipon_small):
    core_loss = li_lipon_small[0].deepcopy()
    axis = core_loss.axes_manager[-1]
    axis.offset, axis.scale = axis.axis[-1], -axis.scale
    with pytest.raises(ValueError, match="the energy axis descends"):
        core_loss.quantify(["O_K"])


def test_a_nan_in_the_fit_range_is_located(li_lipon_small):
    """NaN in one channel above the edges (620 eV), not in a background window: the error says
    where it is."""
    core_loss, low_loss, _ = li_lipon_small
    bad = core_loss.deepcopy()
    channel = int(np.searchsorted(bad.axes_manager[-1].axis, 620.0))
    bad.data[2, 5, channel] = np.nan
    with pytest.raises(ValueError, match=r"fit channels: nan at 6[12]\d\.\d eV \(pixel \(2, 5\)"):
        bad.quantify(EDGES, low_loss=low_loss, bin_width=0.0)


def test_fractions_of_a_subset_say_among_which_elements(medium):
    """Atomic fractions of a subset of the edges are fractions among those elements only: the
    maps' titles and the summary say so."""
    core_loss, low_loss, _ = medium
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = core_loss.quantify(["Li_K", "O_K"], low_loss=low_loss)
    assert result.summary()["atomic_fraction_among"] == ["Li", "O"]
    title = result.atomic_fraction["Li"].metadata.General.title
    assert title.endswith("among Li, O")
    total = result.atomic_fraction["Li"].data + result.atomic_fraction["O"].data
    np.testing.assert_allclose(total[np.isfinite(total)], 1.0)
