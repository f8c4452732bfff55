"""The catalogue of bad inputs (issue #20): each case gives a clear error (its type and a
phrase of its message) or a warning beside a sane result, never a silent wrong number.

The rows follow the issue: "silent" (once a wrong number without a word), "misleading" (once
an error naming the wrong cause), "crash" (once a traceback or a hang), and rows that already
held. The data are the built-in generator's (:func:`cryospec.data.li_lipon`), cut or spoiled
as each row says.
"""

from __future__ import annotations

import errno
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from cryospec.app.cli import main
from cryospec.app.report.config import load_config
from cryospec.core.dose import MissingMetadataError
from cryospec.data import li_lipon

EDGES = ["Li_K", "P_L23", "N_K", "O_K"]


@pytest.fixture(scope="module")
def small():
    return li_lipon(shape=(4, 16), seed=0)


@pytest.fixture(scope="module")
def reference(small):
    core_loss, low_loss, _ = small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return core_loss.quantify(EDGES, low_loss=low_loss)


def _fractions(result) -> np.ndarray:
    return np.stack([m.data for m in result.atomic_fraction.values()], axis=-1)


def _channel(signal, energy: float) -> int:
    axis = signal.axes_manager.signal_axes[0]
    return round((energy - axis.offset) / axis.scale)


def _messages(record) -> str:
    return " | ".join(str(w.message) for w in record)


# ---- silent ---------------------------------------------------------------------------------


def test_a_constant_spectrum_gives_no_fractions_and_says_no_edge_is_detected(small):
    core_loss, low_loss, _ = small
    flat = core_loss.deepcopy()
    flat.data[:] = 100.0
    with pytest.warns(UserWarning) as record:
        result = flat.quantify(EDGES, low_loss=low_loss)
    assert "no requested edge is detected" in _messages(record)
    assert np.all(np.isnan(_fractions(result)))
    upper = [result.fit_health["elements"][el]["upper_limit"] for el in ("Li", "P", "N", "O")]
    assert all(u is not None and u > 0 for u in upper)  # the densities give upper limits


def test_a_constant_spectrum_is_not_profiled_in_the_report(small, tmp_path):
    core_loss, low_loss, _ = small
    flat = core_loss.deepcopy()
    flat.data[:] = 100.0
    flat.save(tmp_path / "in" / "flat.hspy")
    low_loss.save(tmp_path / "in" / "flat_low_loss.hspy")
    main(["report", str(tmp_path / "in"), "--out", str(tmp_path / "r"), "--no-progress"])
    summary = (tmp_path / "r" / "summary.csv").read_text(encoding="utf-8")
    assert "no quantified element is detected over the map" in summary
    assert "position_nm" not in summary  # no step fitted to noise


@pytest.mark.parametrize("scale", [1e-6, 1e30])
def test_fractions_do_not_depend_on_a_common_count_scale(li_lipon_small, scale):
    core_loss, low_loss, _ = li_lipon_small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = core_loss.quantify(EDGES, low_loss=low_loss)
        scaled, scaled_ll = core_loss.deepcopy(), low_loss.deepcopy()
        # in float64: the built-in low loss is float32, whose rounding of the scaled counts
        # (1e-7) would change the input itself
        scaled.data = scaled.data.astype(float) * scale
        scaled_ll.data = scaled_ll.data.astype(float) * scale
        gain = core_loss.detector_gain() * scale
        after = scaled.quantify(EDGES, low_loss=scaled_ll, detector_gain=gain)
    np.testing.assert_allclose(_fractions(after), _fractions(before), rtol=0, atol=1e-6)
    for el in before.areal_density:  # the amounts too: electrons are counts over the gain
        np.testing.assert_allclose(
            after.areal_density[el].data, before.areal_density[el].data, rtol=1e-6
        )


@pytest.mark.parametrize("method", ["model", "integration"])
def test_float32_counts_near_the_top_of_their_range_give_the_same_fractions(small, method):
    """Counts of 1e38 in float32 (its largest is 3.4e38): every sum is taken in float64, so
    none overflows (the map's sum here would be 6e39)."""
    core_loss, low_loss, _ = small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = core_loss.quantify(EDGES, low_loss=low_loss, method=method)
        big, big_ll = core_loss.deepcopy(), low_loss.deepcopy()
        big.data = (core_loss.data.astype(float) * 5e34).astype(np.float32)
        big_ll.data = (low_loss.data.astype(float) * 1e33).astype(np.float32)
        assert np.isfinite(big.data).all() and np.isfinite(big_ll.data).all()
        after = big.quantify(EDGES, low_loss=big_ll, method=method, detector_gain=5e34)
    np.testing.assert_allclose(_fractions(after), _fractions(before), rtol=0, atol=1e-5)


@pytest.mark.parametrize("method", ["model", "integration"])
@pytest.mark.parametrize("energy", [45.0, 60.0, 180.0, 540.0])
def test_one_channel_at_1e30_is_an_error(small, method, energy):
    core_loss, low_loss, _ = small
    spoiled = core_loss.deepcopy()
    spoiled.data[1, 2, _channel(spoiled, energy)] = 1e30
    with pytest.raises(ValueError, match=r"pixel \(1, 2\) of the core loss holds 1e\+30 counts"):
        spoiled.quantify(EDGES, low_loss=low_loss, method=method)


def test_an_x_ray_spike_is_warned_with_its_pixel_not_taken_for_a_corrupt_channel(small):
    """A real spike (1e4 electrons on a channel) is no corrupt value: quantified, with a
    warning that names the pixel the model cannot follow and says what to do."""
    core_loss, low_loss, _ = small
    spiked = core_loss.deepcopy()
    spiked.data[1, 3, _channel(spiked, 300.0)] += 1e4 * core_loss.detector_gain()
    with pytest.warns(UserWarning, match=r"1 pixel\(s\) fit far worse .* pixel \(1, 3\)"):
        result = spiked.quantify(EDGES, low_loss=low_loss)
    assert np.isfinite(_fractions(result)[0]).all()  # the other pixels are quantified
    cleaned, replaced = spiked.remove_spikes(inplace=False)
    assert int(replaced.data.sum()) >= 1
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cleaned.quantify(EDGES, low_loss=low_loss)
    assert "fit far worse" not in _messages(record)


def test_all_zero_spectra_are_an_error(small):
    core_loss, low_loss, _ = small
    empty = core_loss.deepcopy()
    empty.data[:] = 0
    with pytest.raises(ValueError, match="every count of the core loss is 0"):
        empty.quantify(EDGES, low_loss=low_loss)


def test_empty_pixels_are_nan_with_a_warning_naming_them(small, reference):
    core_loss, low_loss, _ = small
    holed = core_loss.deepcopy()
    holed.data[2, 5] = 0
    holed.data[3, 7] = 0
    with pytest.warns(UserWarning, match=r"2 of 64 spectra .* empty .*pixel \(2, 5\)"):
        result = holed.quantify(EDGES, low_loss=low_loss)
    fractions = _fractions(result)
    assert np.isnan(fractions[2, 5]).all() and np.isnan(fractions[3, 7]).all()
    keep = np.ones(fractions.shape[:2], bool)
    keep[2, 5] = keep[3, 7] = False
    np.testing.assert_allclose(fractions[keep], _fractions(reference)[keep], atol=0.02)


def test_a_low_loss_with_a_negative_dark_offset_is_an_error(small):
    core_loss, low_loss, _ = small
    dark = low_loss.deepcopy()
    dark.data = dark.data - 50.0
    with pytest.raises(ValueError, match="the low loss has a negative dark level"):
        core_loss.quantify(EDGES, low_loss=dark)
    with pytest.raises(ValueError, match="negative dark level"):
        core_loss.subtract_background("P_L23", preceding_edges="Li_K", low_loss=dark)


def test_a_low_loss_with_a_positive_dark_level_is_warned(small):
    core_loss, low_loss, _ = small
    bright = low_loss.deepcopy()
    bright.data = bright.data + 200.0
    with pytest.warns(UserWarning, match="a dark level not subtracted"):
        core_loss.quantify(EDGES, low_loss=bright)


def test_a_low_loss_cropped_to_60_eV_is_warned_with_its_t_over_lambda_error(li_lipon_small):
    """Cut to -5..60 eV the low loss misses part of LiPON's plasmon tail: t/lambda comes out
    4 % low on average (7.4 % in the worst pixel of the full built-in map); the warning says so
    and gives a bound (7 %). A low loss cut at 100 eV (bound 1.5 %) passes quietly."""
    core_loss, low_loss, _ = li_lipon_small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = core_loss.quantify(EDGES, low_loss=low_loss)
    with pytest.warns(UserWarning, match=r"the low loss ends at 59.\d+ eV .* t/lambda is under"):
        cropped = core_loss.quantify(EDGES, low_loss=low_loss.isig[-5.0:60.0])
    text = next(n for n in cropped.notes if "the low loss ends at" in n)
    bound = float(text.split("underestimated by up to about ")[1].split(" %")[0]) / 100
    found = 1 - cropped.t_over_lambda.data / whole.t_over_lambda.data
    assert 0.3 * bound < found.mean() <= bound
    assert found.max() <= bound + 0.01
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        core_loss.quantify(EDGES, low_loss=low_loss.isig[-5.0:100.0])
    assert "the low loss ends at" not in _messages(record)


def test_fractions_without_li_k_say_li_is_left_out(li_lipon_small):
    core_loss, low_loss, _ = li_lipon_small
    from cryospec.app.figures import element_profiles

    with pytest.warns(UserWarning) as record:
        result = core_loss.quantify(["P_L23", "N_K", "O_K"], low_loss=low_loss)
    text = _messages(record)
    assert "an edge not requested rises at" in text and "Li_K" in text
    assert "the atomic fractions are among P, N, O only" in text
    assert any("among P, N, O only" in note for note in result.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = element_profiles(result, ["P"], model="erf")
    notes = " ".join(profiles["elements"]["P"].get("notes", []))
    assert "pixels left out of the atomic-fraction profile" in notes


def test_phase_maps_refuse_an_uncalibrated_low_loss_as_quantify_does(small):
    core_loss, low_loss, truth = small
    shifted = low_loss.deepcopy()
    shifted.axes_manager.signal_axes[0].offset -= 5.0  # zero-loss peak at +5 eV
    for call in (
        lambda: core_loss.phase_maps(truth.phase_references(), low_loss=shifted),
        lambda: core_loss.quantify(EDGES, low_loss=shifted),
    ):
        with pytest.raises(ValueError, match=r"the low loss is not calibrated: .* 5.00 eV"):
            call()


# ---- misleading -----------------------------------------------------------------------------


def test_nan_outside_every_window_names_its_channel_or_is_not_used(small, reference):
    core_loss, low_loss, _ = small
    spoiled = core_loss.deepcopy()
    spoiled.data[..., _channel(spoiled, 620.0)] = np.nan
    with pytest.raises(ValueError, match=r"nan at 620.1 eV \(pixel \(0, 0\)"):
        spoiled.quantify(EDGES, low_loss=low_loss)  # the model fit uses that channel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        integration = spoiled.quantify(EDGES, low_loss=low_loss, method="integration")
        clean = core_loss.quantify(EDGES, low_loss=low_loss, method="integration")
    np.testing.assert_array_equal(_fractions(integration), _fractions(clean))  # not in a window


def test_nan_in_the_low_loss_is_named_as_such(small):
    core_loss, low_loss, _ = small
    spoiled = low_loss.deepcopy()
    spoiled.data[1, 3, 700] = np.nan
    with pytest.raises(ValueError, match=r"the low loss holds 1 NaN .* pixel \(1, 3\)"):
        core_loss.quantify(EDGES, low_loss=spoiled)


def test_a_descending_energy_axis_says_so(small):
    core_loss, low_loss, _ = small
    flipped = core_loss.deepcopy()
    axis = flipped.axes_manager.signal_axes[0]
    axis.offset, axis.scale = axis.axis[-1], -axis.scale
    flipped.data = flipped.data[..., ::-1].copy()
    with pytest.raises(ValueError, match="the energy axis descends"):
        flipped.quantify(EDGES, low_loss=low_loss)


def test_a_reversed_fit_range_says_so(small):
    core_loss, low_loss, _ = small
    with pytest.raises(ValueError, match=r"fit_range_eV must be \(low, high\) eV with low < high"):
        core_loss.quantify(EDGES, low_loss=low_loss, fit_range_eV=(600.0, 40.0))


@pytest.mark.parametrize(
    "argv, phrase",
    [
        (["profile", "IN", "--edges", "O_K", "--out", "OUT", "--auto", "--stripes", "0"],
         "argument --stripes: '0' is not a positive integer"),
        (["profile", "IN", "--edges", "O_K", "--out", "OUT", "--line", "0,5,35,5", "--width",
          "-5"], "argument --width: '-5' is not a positive number"),
        (["quantify", "IN", "--edges", "O_K", "--out", "OUT", "--beam-energy", "0"],
         "argument --beam-energy: '0' is not a positive number"),
        (["report", "IN", "--out", "OUT", "--workers", "-1"],
         "argument --workers: '-1' is not a positive integer"),
        (["profile", "IN", "--edges", "O_K", "--out", "OUT", "--line", "a,b,c,d", "--width", "5"],
         "argument --line: 'a,b,c,d' is not X0,Y0,X1,Y1 (four numbers)"),
        (["profile", "IN", "--edges", "O_K", "--out", "OUT", "--line", "0,5,35", "--width", "5"],
         "argument --line: '0,5,35' is not X0,Y0,X1,Y1 (four numbers)"),
        (["demo", "--out", "OUT", "--shape", "0", "16"],
         "argument --shape: '0' is not a positive integer"),
    ],
)  # fmt: skip
def test_numeric_options_name_the_option_and_the_value(argv, phrase, tmp_path, capsys):
    argv = [str(tmp_path / a) if a in ("IN", "OUT") else a for a in argv]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert phrase in capsys.readouterr().err


# ---- crash or hang --------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["core loss", "no zero-loss peak"])
def test_a_core_loss_or_a_low_loss_without_its_peak_given_as_the_low_loss(small, which):
    core_loss, low_loss, truth = small
    given = core_loss if which == "core loss" else low_loss.isig[20.0:]
    phrase = "does not hold a zero-loss peak at 0 eV"
    with pytest.raises(ValueError, match=phrase):
        core_loss.phase_maps(truth.phase_references(), low_loss=given)
    with pytest.raises(ValueError, match=phrase):
        core_loss.quantify(EDGES, low_loss=given)


def _config(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "report.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_comma_separated_edge_string_in_the_config_is_read_as_the_edges(tmp_path):
    config = load_config(_config(tmp_path, '[eels]\nedges = "Li_K,O_K, N_K"\n'))
    assert config["eels"]["edges"] == ["Li_K", "O_K", "N_K"]


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("[eels]\nedges = 5\n", "[eels] edges must be a list of edge names"),
        ('[eels]\nedges = ["Li_K", "Q_K"]\n', "[eels] edges holds 'Q_K'"),
        ("[nmf]\nn_components = 'three'\n", "[nmf] n_components must be a whole number >= 0"),
        ("[profile]\nstripes = 0\n", "[profile] stripes must be a whole number >= 1"),
        ("[acquisition]\nbeam_energy_keV = 0\n", "[acquisition] beam_energy_keV must be a"),
        ('[files."a.hspy"]\ndetector_gain = -1\n', '[files."a.hspy"] detector_gain must be'),
        ("[eels]\nfit_range = [600, 40]\n", "[eels] fit_range must be [low, high]"),
        ("[edges]\nx = 1\n", "unknown config section [edges]"),
        ('[profile]\nelements = ["Xx"]\n', "[profile] elements names Xx, not among"),
        ('[profile]\nthickness_element = "Zz"\n', "[profile] thickness_element = 'Zz' is not"),
        (
            '[eels]\nmethod = "integration"\nfit_range = [40, 600]\n',
            "[eels] fit_range applies to method = 'model'",
        ),
    ],
)
def test_config_values_are_checked_naming_the_file_and_the_key(tmp_path, text, phrase):
    path = _config(tmp_path, text)
    with pytest.raises(ValueError) as error:
        load_config(path)
    assert phrase in str(error.value)
    assert str(path) in str(error.value)


def test_a_binary_config_names_the_file(tmp_path, capsys):
    path = _config(tmp_path, bytes(range(128, 256)))
    with pytest.raises(ValueError, match=f"cannot read the config {path}: it is not TOML text"):
        load_config(path)
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r"), "--config", str(path)])
    assert "it is not TOML text" in capsys.readouterr().err


def test_a_damaged_zspy_chunk_read_lazily_names_the_file_and_the_chunk(small, tmp_path, capsys):
    core_loss, _, _ = small
    path = tmp_path / "map.zspy"
    core_loss.save(path)
    chunks = [p for p in path.rglob("*") if p.is_file() and p.parent.name == "0"]
    chunks = [p for p in chunks if "data" in p.parts]
    assert chunks
    chunks[0].write_bytes(b"damaged")
    argv = ["quantify", str(path), "--edges", "Li_K,O_K", "--out", str(tmp_path / "q"), "--lazy"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"could not read {path}: chunk (0, 0, 0)" in err and "is damaged" in err
    assert "Traceback" not in err


def test_a_damaged_zspy_chunk_is_named_through_the_api_too(small, tmp_path):
    from cryospec.signals import io

    core_loss, _, _ = small
    path = tmp_path / "map.zspy"
    core_loss.save(path)
    chunks = [p for p in path.rglob("0") if p.is_file() and "data" in p.parts]
    assert chunks
    chunks[0].write_bytes(b"damaged")
    lazy = io.load(path, lazy=True)
    with pytest.raises(OSError, match=rf"could not read {re.escape(str(path))}: chunk \(0, 0, 0\)"):
        lazy.quantify(["Li_K", "O_K"], show_progressbar=False)


@pytest.mark.parametrize("lazy", [False, True])
def test_a_text_file_given_explicitly_is_named_as_unreadable(tmp_path, capsys, lazy):
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")
    argv = ["quantify", str(path), "--edges", "O_K", "--out", str(tmp_path / "q")]
    assert main(argv + (["--lazy"] if lazy else [])) == 2
    assert ".txt is not a file type HyperSpy reads" in capsys.readouterr().err


def test_a_full_disk_is_a_one_line_error_naming_the_output(small, tmp_path, capsys, monkeypatch):
    """h5py reports a full disk as a RuntimeError with the errno in its text (seen on a full
    tmpfs); no temporary file is left."""
    core_loss, low_loss, _ = small
    core_loss.save(tmp_path / "cl.hspy")
    low_loss.save(tmp_path / "ll.hspy")
    import hyperspy.signal

    def full(self, filename, *args, **kwargs):
        Path(filename).write_bytes(b"partial")
        raise RuntimeError(
            "Disable slist on flush dest failure failed (file write failed: errno = "
            f"{errno.ENOSPC}, error message = 'No space left on device', buf = 0x0)"
        )

    monkeypatch.setattr(hyperspy.signal.BaseSignal, "save", full)
    out = tmp_path / "q"
    argv = ["quantify", str(tmp_path / "cl.hspy"), "--low-loss", str(tmp_path / "ll.hspy"),
            "--edges", ",".join(EDGES), "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"cryospec quantify: error: cannot write {out / 'quantification.hspy'}: "
        "No space left on device"
    )
    assert not list(out.iterdir())


# ---- rows that already held -----------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_in_a_background_window_is_an_error(small, value):
    core_loss, low_loss, _ = small
    spoiled = core_loss.deepcopy()
    spoiled.data[0, 1, _channel(spoiled, 45.0)] = value
    for method in ("model", "integration"):
        with pytest.raises(ValueError, match=r"NaN or inf|finite"):
            spoiled.quantify(EDGES, low_loss=low_loss, method=method)


def test_negative_counts_with_raise_are_an_error(small):
    core_loss, low_loss, _ = small
    spoiled = core_loss.deepcopy()
    spoiled.data[0, 0, 100] = -5.0
    with pytest.raises(ValueError, match="negative"):
        spoiled.quantify(EDGES, low_loss=low_loss, negative="raise")


@pytest.mark.parametrize("gain", [0.0, -2.0])
def test_zero_or_negative_gain_is_an_error(small, gain):
    core_loss, low_loss, _ = small
    with pytest.raises(ValueError, match="detector_gain"):
        core_loss.quantify(EDGES, low_loss=low_loss, detector_gain=gain)


def test_missing_beam_energy_names_the_field(small):
    core_loss, low_loss, _ = small
    bare = core_loss.deepcopy()
    del bare.metadata.Acquisition_instrument.TEM.beam_energy
    with pytest.raises(MissingMetadataError, match="beam_energy"):
        bare.quantify(EDGES, low_loss=low_loss)


@pytest.mark.parametrize("content", [b"", b"\x89HDF\r\n\x1a\n" + b"\0" * 40, bytes(range(256))])
def test_zero_byte_truncated_or_random_files_are_named(tmp_path, capsys, content):
    path = tmp_path / "broken map.hspy"  # a space in the name
    path.write_bytes(content)
    argv = ["quantify", str(path), "--edges", "O_K", "--out", str(tmp_path / "q")]
    assert main(argv) == 2
    assert f"could not read {path}" in capsys.readouterr().err


def test_paths_with_spaces_and_unicode_work(small, tmp_path):
    core_loss, low_loss, _ = small
    folder = tmp_path / "Li métal ü"
    core_loss.save(folder / "map 1.hspy")
    low_loss.save(folder / "map 1_low_loss.hspy")
    argv = ["quantify", str(folder / "map 1.hspy"),
            "--low-loss", str(folder / "map 1_low_loss.hspy"),
            "--edges", ",".join(EDGES), "--out", str(folder / "out ü")]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
    assert (folder / "out ü" / "quantification.json").is_file()


@pytest.mark.parametrize(
    "path, value, phrase",
    [
        ("beam_energy", 0.0, r"beam_energy \(beam energy \(keV\)\) is 0.0: it must be a positive"),
        ("beam_energy", float("nan"), r"beam_energy .* is nan: it must be a positive number"),
        ("convergence_angle", -1.0, r"convergence_angle .* is -1.0: it must be a non-negative"),
        ("Detector.EELS.collection_angle", 0.0, r"collection_angle .* is 0.0: it must be"),
    ],
)
def test_an_invalid_beam_energy_or_angle_in_the_metadata_is_named_not_called_missing(
    small, path, value, phrase
):
    core_loss, low_loss, _ = small
    spoiled = core_loss.deepcopy()
    spoiled.metadata.set_item(f"Acquisition_instrument.TEM.{path}", value)
    with pytest.raises(MissingMetadataError, match=phrase):
        spoiled.quantify(EDGES, low_loss=low_loss)


@pytest.mark.parametrize("entry", ["quantify", "phase_maps", "subtract_background", "nmf"])
def test_a_non_uniform_energy_axis_is_refused_by_every_entry(small, entry):
    core_loss, low_loss, truth = small
    bent = core_loss.deepcopy()
    bent.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
    calls = {
        "quantify": lambda: bent.quantify(EDGES, low_loss=low_loss),
        "phase_maps": lambda: bent.phase_maps(truth.phase_references(), low_loss=low_loss),
        "subtract_background": lambda: bent.subtract_background("O_K"),
        "nmf": lambda: bent.decomposition_kl(2),
    }
    with pytest.raises(ValueError, match=r"the energy axis is not uniform: .*convert_to_uniform"):
        calls[entry]()


@pytest.mark.parametrize("entry", ["phase_maps", "subtract_background", "nmf"])
def test_a_corrupt_channel_is_refused_by_every_entry(small, entry):
    core_loss, low_loss, truth = small
    spoiled = core_loss.deepcopy()
    spoiled.data[2, 3, _channel(spoiled, 45.0)] = 1e30
    calls = {
        "phase_maps": lambda: spoiled.phase_maps(truth.phase_references(), low_loss=low_loss),
        "subtract_background": lambda: spoiled.subtract_background("Li_K"),
        "nmf": lambda: spoiled.decomposition_kl(2, signal_range=(40.0, 90.0)),
    }
    with pytest.raises(ValueError, match=r"pixel \(2, 3\) of .* holds 1e\+30 counts at 45.0 eV"):
        calls[entry]()


@pytest.fixture(scope="module")
def o_map(small, reference):
    return reference.atomic_fraction["O"], reference.atomic_fraction_se["O"].data ** 2


@pytest.mark.parametrize(
    "spoil, phrase",
    [
        ("inf", r"the map holds 1 infinite value\(s\) \(the first at pixel \(2, 3\)\)"),
        ("all nan", r"the map holds no finite value"),
        ("negative variance", r"the variance is negative at pixel \(1, 1\)"),
        ("nan variance", r"the variance is NaN or infinite wherever the map has a value"),
        ("stripes 0", r"n_stripes must be a whole number >= 1, got 0"),
    ],
)
def test_profiles_check_their_map(o_map, spoil, phrase):
    from cryospec.signals import auto_profile

    values, variance = o_map
    values, variance = values.deepcopy(), variance.copy()
    stripes = 1
    if spoil == "inf":
        values.data[2, 3] = np.inf
    elif spoil == "all nan":
        values.data[:] = np.nan
    elif spoil == "negative variance":
        variance[1, 1] = -1.0
    elif spoil == "nan variance":
        variance[:] = np.nan
    else:
        stripes = 0
    with pytest.raises(ValueError, match=phrase):
        auto_profile(values, variance=variance, n_stripes=stripes)


@pytest.mark.parametrize("width", [0.0, -5.0])
def test_a_line_profile_names_the_width_it_was_given(o_map, width):
    from cryospec.signals import line_profile

    values, variance = o_map
    with pytest.raises(
        ValueError, match=f"the profile width must be a positive length .* got {width}"
    ):
        line_profile(values, (0.0, 5.0), (35.0, 5.0), width, variance=variance)


@pytest.mark.parametrize(
    "arguments, phrase",
    [
        ({"probe_sigma": -1.0}, r"probe_sigma must be a length >= 0"),
        ({"probe_sigma": float("nan")}, r"probe_sigma must be a length >= 0"),
        ({"model": "multilayer", "n_layers": 0}, r"n_layers must be at least 1"),
        ({"model": "bogus"}, r"model must be one of"),
    ],
)
def test_gradient_fit_arguments_are_checked(o_map, arguments, phrase):
    from cryospec.signals import auto_profile

    values, variance = o_map
    profile = auto_profile(values, variance=variance)
    with pytest.raises(ValueError, match=phrase):
        profile.fit_gradient(**arguments)


@pytest.mark.parametrize("command", ["quantify", "profile"])
def test_an_output_never_replaces_an_input_of_the_same_path(small, tmp_path, capsys, command):
    import hashlib

    core_loss, _, _ = small
    out = tmp_path / "out"
    name = "quantification.hspy" if command == "quantify" else "profile.png"
    given = out / name
    core_loss.save(out / "quantification.hspy")
    if command == "profile":  # an input named like the profile figure (any readable name)
        (out / "quantification.hspy").rename(out / "map.hspy")
        given = out / "map.hspy"
        (out / "profile.png").write_bytes(b"not an output")
        argv = ["profile", str(out / "profile.png"), "--edges", "O_K", "--out", str(out),
                "--auto"]  # fmt: skip
        before = hashlib.sha256((out / "profile.png").read_bytes()).hexdigest()
        assert main(argv) == 2
        assert hashlib.sha256((out / "profile.png").read_bytes()).hexdigest() == before
    else:
        before = hashlib.sha256(given.read_bytes()).hexdigest()
        assert main(["quantify", str(given), "--edges", "O_K", "--out", str(out)]) == 2
        assert hashlib.sha256(given.read_bytes()).hexdigest() == before
    assert "would replace the input file of the same path" in capsys.readouterr().err


@pytest.mark.parametrize("which", ["core loss", "low loss"])
def test_complex_counts_are_refused(small, which):
    core_loss, low_loss, _ = small
    core, low = core_loss.deepcopy(), low_loss.deepcopy()
    target = core if which == "core loss" else low
    target.data = target.data.astype(np.complex128)
    with pytest.raises(ValueError, match="complex128 values: counts are real numbers"):
        core.quantify(EDGES, low_loss=low)


def test_a_saturated_zero_loss_peak_is_warned(small):
    core_loss, low_loss, _ = small
    saturated = low_loss.deepcopy()
    saturated.data = np.minimum(saturated.data, 65535.0)  # a 16-bit detector's ceiling
    with pytest.warns(UserWarning, match=r"the zero-loss peak is saturated in 64 of 64 spectra"):
        core_loss.quantify(EDGES, low_loss=saturated)


@pytest.fixture(scope="module")
def eds_small():
    from cryospec.data import li_lipon_eds

    return li_lipon_eds(shape=(4, 16), seed=0)


K_FACTORS = {"N": 2.0, "O": 1.5, "P": 1.0}
LINES = ["N_Ka", "O_Ka", "P_Ka"]


@pytest.mark.parametrize(
    "spoil, phrase",
    [
        ("zero", r"every count of the EDX spectra is 0"),
        ("1e30", r"pixel \(1, 2\) of the EDX spectra holds 1e\+30 counts at 0\.5\d\d keV"),
    ],
)
def test_edx_line_intensities_check_the_counts(eds_small, spoil, phrase):
    eds, _ = eds_small
    spoiled = eds.deepcopy()
    spoiled.data = spoiled.data.astype(float)
    if spoil == "zero":
        spoiled.data[:] = 0
    else:
        axis = spoiled.axes_manager.signal_axes[0]
        spoiled.data[1, 2, round((0.525 - axis.offset) / axis.scale)] = 1e30
    with pytest.raises(ValueError, match=phrase):
        spoiled.line_intensities(LINES)


@pytest.mark.parametrize("value", [-2.0, 0.0, float("nan"), "2"])
def test_edx_k_factors_must_be_positive_numbers(eds_small, value):
    eds, _ = eds_small
    intensities = eds.line_intensities(LINES)
    with pytest.raises(ValueError, match="the k-factor of N must be a"):
        eds.quantify_lines(intensities, {**K_FACTORS, "N": value})


def test_the_integration_method_uses_the_given_detector_gain_in_its_background_fit(small):
    """``detector_gain=`` given to quantify reaches the background fit of the integration
    method too (it took the metadata's gain there, so its standard errors were off)."""
    core_loss, low_loss, _ = small
    recorded = core_loss.deepcopy()
    recorded.set_acquisition_parameters(detector_gain=4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = core_loss.quantify(
            EDGES, low_loss=low_loss, method="integration", detector_gain=4.0
        )
        from_metadata = recorded.quantify(
            EDGES, low_loss=low_loss, method="integration", detector_gain=4.0
        )
        low_loss_with_gain = low_loss.deepcopy()
        low_loss_with_gain.set_acquisition_parameters(detector_gain=4.0)
        plain = recorded.quantify(EDGES, low_loss=low_loss_with_gain, method="integration")
    for el in ("Li", "O"):
        np.testing.assert_allclose(
            given.areal_density_se[el].data, plain.areal_density_se[el].data, rtol=1e-9
        )
        np.testing.assert_allclose(
            from_metadata.areal_density_se[el].data, plain.areal_density_se[el].data, rtol=1e-9
        )


@pytest.mark.parametrize(
    "arguments, phrase",
    [
        ({"fit_range_eV": (700.0, 900.0)}, r"fit_range_eV \(700, 900\) leaves out Li_K, P_L23"),
        ({"background_windows_eV": [(600.0, 640.0)]},
         r"background window \(600, 640\) eV reaches above Li_K"),
        ({"background_windows_eV": [(5.0, 20.0)]},
         r"background window \(5, 20\) eV holds 0 channels"),
        ({"method": "integration", "fit_range_eV": (40.0, 600.0)},
         r"fit_range_eV and background_windows_eV apply to method='model'"),
    ],
)  # fmt: skip
def test_fit_ranges_and_windows_that_cannot_work_are_named(small, arguments, phrase):
    core_loss, low_loss, _ = small
    with pytest.raises(ValueError, match=phrase):
        core_loss.quantify(EDGES, low_loss=low_loss, **arguments)


@pytest.mark.parametrize("which", ["core loss", "low loss"])
def test_an_energy_axis_in_kev_is_refused_with_the_conversion(small, which):
    core_loss, low_loss, _ = small
    core, low = core_loss.deepcopy(), low_loss.deepcopy()
    axis = (core if which == "core loss" else low).axes_manager.signal_axes[0]
    axis.scale, axis.offset, axis.units = axis.scale / 1000, axis.offset / 1000, "keV"
    with pytest.raises(ValueError, match=r"is in 'keV'; cryospec's EELS needs eV \(axis.scale"):
        core.quantify(EDGES, low_loss=low)


def test_a_lazy_background_subtraction_checks_its_blocks(small):
    core_loss, _, _ = small
    spoiled = core_loss.deepcopy()
    spoiled.data[1, 2, _channel(spoiled, 45.0)] = 1e30
    lazy = spoiled.as_lazy().subtract_background("Li_K")
    with pytest.raises(ValueError, match=r"of a block of the background windows holds 1e\+30"):
        lazy.compute()
