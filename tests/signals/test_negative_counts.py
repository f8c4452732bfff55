"""Negative counts of a dark-subtracted detector: the shifted-Poisson read-noise model.

Measured on spectrum images that cryospec did not make (tests/independent_forward_model:
exspy's edges, ``m.as_signal()``, then a CCD-like detector: 4 counts per electron and Gaussian
read noise with the dark level subtracted), and on the real dark-subtracted files of tests/data
(attribution in its README).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from independent_forward_model import exspy_spectrum_image

import cryospec
from cryospec.app.cli import main

TRUTH = {"Li_K": 1500.0, "N_K": 240.0, "O_K": 1700.0}  # atoms/nm², a LiPON-like film
EDGES = ["Li_K", "N_K", "O_K"]


@pytest.fixture(scope="module")
def dark_subtracted():
    """5e6 electrons per pixel, 4 x 4 pixels; read noise 80 counts (20 electrons): about a
    quarter of the values are negative."""
    return exspy_spectrum_image(
        TRUTH, electrons_per_pixel=5e6, shape=(4, 4), seed=3, gain=4.0, read_noise=80.0
    )


def _quantify(data, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = data.core_loss.quantify(
            EDGES, low_loss=data.low_loss, cross_section="hydrogenic", **kwargs
        )
    return result, [str(w.message) for w in caught]


def _errors(result, truth):
    """Per element: the map mean's relative error, the standard error of the mean from the
    fit, and from the scatter of the pixels."""
    out = {}
    for element, density in result.areal_density.items():
        values = np.asarray(density.data).ravel()
        se = np.asarray(result.areal_density_se[element].data).ravel()
        true = truth[element]
        out[element] = (
            values.mean() / true - 1.0,
            se.mean() / np.sqrt(values.size) / true,
            values.std(ddof=1) / np.sqrt(values.size) / true,
        )
    return out


def test_shifted_poisson_is_unbiased_with_honest_errors(dark_subtracted):
    """The default: every amount within 3 standard errors of the truth, the standard errors
    those of the pixels' scatter, the deviance per degree of freedom near 1, and the read noise
    estimated from the negative counts said (measured: Li -0.3 %, N +4 %, O -11 % for standard
    errors of 1.2, 30 and 9 %; deviance/dof 1.09)."""
    data = dark_subtracted
    assert (data.core_loss.data < 0).mean() > 0.15
    result, messages = _quantify(data)
    for element, (error, se, scatter) in _errors(result, data.areal_density).items():
        assert abs(error) < 3 * se, element
        assert 0.5 < se / scatter < 2.0, element
    assert _errors(result, data.areal_density)["Li"][0] == pytest.approx(0.0, abs=0.05)
    health = result.summary()["fit_health"]
    assert health["median_reduced_deviance"] < 1.3
    noise = result.summary()["noise"]
    assert noise["negative"] == "shift" and noise["negative_counts"] > 0
    # the root mean square of the negative counts: a lower bound of the 80 counts simulated
    assert 40.0 < noise["read_noise_counts"] <= 80.0
    assert any("root mean square of the negative counts" in m for m in messages)
    assert any("shifted Poisson" in note for note in result.notes)


def test_the_given_read_noise_is_used(dark_subtracted):
    result, messages = _quantify(dark_subtracted, read_noise=80.0)
    noise = result.summary()["noise"]
    assert noise["read_noise_counts"] == 80.0 and noise["read_noise_source"] == "given"
    assert not any("root mean square" in m for m in messages)
    for element, (error, se, _) in _errors(result, dark_subtracted.areal_density).items():
        assert abs(error) < 3 * se, element


def test_clipping_biases_and_says_so(dark_subtracted):
    """``negative="clip"`` (max(counts, 0)): the weak N K edge doubles (measured +97 %), and the
    clipped counts no longer fit a Poisson model (deviance/dof 8); both are said."""
    data = dark_subtracted
    shifted, _ = _quantify(data)
    clipped, messages = _quantify(data, negative="clip")
    n_shift = _errors(shifted, data.areal_density)["N"][0]
    n_clip = _errors(clipped, data.areal_density)["N"][0]
    assert n_clip > 0.5 and abs(n_clip) > abs(n_shift)
    assert any("biases weak signal upwards" in m for m in messages)
    assert any("fits poorly" in m for m in messages)
    assert clipped.summary()["noise"]["negative"] == "clip"


def test_raise_refuses_negative_counts(dark_subtracted):
    with pytest.raises(ValueError, match=r"negative counts .* negative='shift'"):
        dark_subtracted.core_loss.quantify(EDGES, negative="raise")
    with pytest.raises(ValueError, match="negative must be one of"):
        dark_subtracted.core_loss.quantify(EDGES, negative="ignore")
    with pytest.raises(ValueError, match="read_noise must be finite"):
        dark_subtracted.core_loss.quantify(EDGES, read_noise=-1.0)


def test_integration_method_takes_the_same_choice(dark_subtracted):
    """The ratio method on the same data, against the same method on its Poisson twin (the
    same electrons without read noise): with the background windows fitted as shifted Poisson
    Li K and O K agree within 3 standard errors (measured: Li -20.7 % against -20.9 %, O -3 %
    against -19 % for a standard error of 22 %; the ratio method's own bias on these data is the
    same with and without read noise); clipped, O K is off by more than the truth (-137 %)."""
    data = dark_subtracted
    twin = exspy_spectrum_image(TRUTH, electrons_per_pixel=5e6, shape=(4, 4), seed=3, gain=4.0)
    poisson, _ = _quantify(twin, method="integration")
    shifted, _ = _quantify(data, method="integration")
    clipped, _ = _quantify(data, method="integration", negative="clip")
    assert shifted.summary()["noise"]["negative"] == "shift"
    reference = _errors(poisson, data.areal_density)
    for element in ("Li", "O"):
        error, se, _ = _errors(shifted, data.areal_density)[element]
        assert abs(error - reference[element][0]) < 3 * se, element
    assert abs(_errors(clipped, data.areal_density)["O"][0]) > 0.5
    with pytest.raises(ValueError, match="negative counts"):
        data.core_loss.quantify(["Li_K", "O_K"], method="integration", negative="raise")


def test_plain_poisson_counts_are_unchanged():
    """No negative count and no read noise: the shifted model is the Poisson one, bit for bit."""
    data = exspy_spectrum_image(TRUTH, electrons_per_pixel=5e6, shape=(2, 2), seed=4)
    default, _ = _quantify(data)
    assert default.summary()["noise"]["read_noise_counts"] == 0.0
    assert not any("negative" in note for note in default.notes)


def test_dark_subtracted_dm4_is_quantified(data_dir):
    """The real 2x2 DM4 (14 negative counts): O K by the model fit and by integration, the
    negative counts fitted with their read noise and said. The file records no detector gain
    (its ``Variance_linear_model`` is the intensity calibration): 1 count per electron here."""
    s = cryospec.load(data_dir / "rsciio_EELS_SI_2x2_300-2347eV_OK.dm4")
    s.set_acquisition_parameters(detector_gain=1.0)
    assert int((s.data < 0).sum()) == 14
    for method in ("model", "integration"):
        with pytest.warns(UserWarning, match="14 negative counts"):
            q = s.quantify(["O_K"], method=method)
        summary = q.summary()
        assert summary["noise"]["negative_counts"] == 14
        assert summary["fit_health"]["elements"]["O"]["detected"]
        assert np.all(np.isfinite(q.areal_density["O"].data))
        assert np.all(q.areal_density["O"].data > 0)


def test_dark_subtracted_nmc_edges_are_quantified(data_dir):
    """The real NMC 35-649 eV spectrum image, negative above 136 eV (10821 values): Si L2,3
    and O K, refused before, are fitted (the file's axis is about 15 eV low, so the amounts are
    not compared with a stoichiometry here)."""
    s = cryospec.load(data_dir / "NMC_SiDoped_SI_35-649eV_LiK_SiL.dm3")
    s.set_acquisition_parameters(detector_gain=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for edges in (["Si_L23"], ["Li_K", "O_K"]):
            q = s.quantify(edges)
            assert q.summary()["noise"]["negative_counts"] == 10821
            for density in q.areal_density.values():
                assert np.all(np.isfinite(density.data))
        with pytest.raises(ValueError, match="10821 negative counts"):
            s.quantify(["Si_L23"], negative="raise")


def test_cli_quantifies_the_dark_subtracted_dm4(data_dir, tmp_path, capsys):
    source = data_dir / "rsciio_EELS_SI_2x2_300-2347eV_OK.dm4"
    before = source.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        code = main(
            ["quantify", str(source), "--edges", "O_K", "--detector-gain", "1", "--out",
             str(tmp_path), "--read-noise", "10"]
        )  # fmt: skip
    assert code == 0
    summary = json.loads((tmp_path / "quantification.json").read_text())
    assert summary["noise"]["read_noise_counts"] == 10.0
    assert summary["noise"]["negative_counts"] == 14
    assert "shifted Poisson" in capsys.readouterr().out
    assert source.read_bytes() == before
