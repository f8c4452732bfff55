"""``cryospec report``: a folder of datasets in, pages, an index and a summary table out."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from browser import assert_page_loads, browser_flags, chromium
from inputs import copy_inputs

from cryospec.app.cli import main
from cryospec.data import li_lipon, li_lipon_eds

K_FACTORS = {"N": 2.0, "O": 1.5, "P": 1.0}
CONFIG = """
[edx]
lines = ["N_Ka", "O_Ka", "P_Ka"]
k_factors = { N = 2.0, O = 1.5, P = 1.0 }

[nmf]
n_components = 3
"""
# The pyEELSMODEL SrTiO3 pair (names the NAME_low_loss rule does not pair) and the microscope
# values its files lack, from pyEELSMODEL's example notebook (tests/data/README.md).
STO_PAIR = '"pyEELSMODEL_SrTiO3_hl_357-664eV" = "pyEELSMODEL_SrTiO3_ll.msa"\n'
STO_VALUES = (
    '[files."pyEELSMODEL_SrTiO3_hl_357-664eV.msa"]\n'
    "beam_energy_keV = 300.0\nconvergence_mrad = 0.9\ncollection_mrad = 2.675\n"
)
ARTIFACTS = Path(
    os.environ.get("CRYOSPEC_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
)


def _checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    for seed, current in ((0, 40.0), (1, 20.0), (2, 80.0)):
        core_loss, low_loss, _ = li_lipon(shape=(6, 64), seed=seed, beam_current_pA=current)
        core_loss.save(folder / f"map{seed}.hspy")
        low_loss.save(folder / f"map{seed}_low_loss.hspy")
    eds, _ = li_lipon_eds(shape=(6, 64), seed=3, k_factors=K_FACTORS)
    eds.save(folder / "edx3.hspy")
    (folder / "corrupt.hspy").write_bytes(b"\x89HDF\r\n\x1a\n truncated, not a real file")
    config = tmp_path_factory.mktemp("config") / "report.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return folder, config


@pytest.fixture(scope="module")
def report(inputs, tmp_path_factory):
    folder, config = inputs
    before = _checksums(folder)
    out = tmp_path_factory.mktemp("report")
    code = main(
        ["report", str(folder), "--out", str(out), "--config", str(config), "--no-progress"]
    )
    assert code == 1  # the corrupt file failed: listed, the others done
    assert _checksums(folder) == before  # inputs are only read
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_report_pages_index_and_summary(report):
    index = (report / "index.html").read_text(encoding="utf-8")
    rows = {row["dataset"]: row for row in _rows(report / "summary.csv")}
    assert set(rows) == {"map0", "map1", "map2", "edx3", "corrupt"}
    for name in ("map0", "map1", "map2", "edx3"):
        assert rows[name]["status"] == "done"
        page = report / "datasets" / name / "index.html"
        assert page.exists() and f'href="datasets/{name}/index.html"' in index
        results = json.loads((report / "datasets" / name / "results.json").read_text())
        for src, _ in results["figures"]:
            assert (page.parent / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert rows["map0"]["kind"] == "eels" and rows["edx3"]["kind"] == "edx"
    assert rows["corrupt"]["status"] == "failed"
    assert "could not read" in rows["corrupt"]["reason"] and "corrupt" in index
    # derived quantities with intervals for every dataset that ran
    for name in ("map0", "map1", "map2", "edx3"):
        position = float(rows[name]["P_position_nm"])
        assert float(rows[name]["P_position_ci_nm_low"]) < position
        assert position < float(rows[name]["P_position_ci_nm_high"])
    assert float(rows["map0"]["interphase_thickness_nm"]) > 0
    # every fit's goodness of fit and status in the table
    for name in ("map0", "map1", "map2", "edx3"):
        assert rows[name]["P_status"] in ("ok", "poor fit")
        assert rows[name]["P_goodness_passed"] in ("True", "False")
        assert float(rows[name]["P_goodness_reduced_chi2"]) > 0
    assert "goodness of fit" in (report / "datasets" / "map0" / "index.html").read_text()
    log = json.loads((report / "run_log.json").read_text())
    assert log["versions"]["hyperspy"] and log["config"]["nmf"]["n_components"] == 3
    assert len(log["input_checksums_sha256"]) == 7  # 3 core + 3 low loss + 1 EDX
    assert not list(report.rglob(".*"))  # no temporary files left by the atomic writes


def test_eels_pages_show_the_spectrum_and_its_fit_first(report):
    for name in ("map0", "map1", "map2"):
        page = (report / "datasets" / name / "index.html").read_text(encoding="utf-8")
        images = re.findall(r'<img src="([^"]+)"', page)
        assert images[0] == "spectrum.png", images
        assert images.count("spectrum.png") == 1
        # before the tables of numbers that were read off it
        assert page.index('<img src="spectrum.png"') < page.index("<table")
        assert (report / "datasets" / name / "spectrum.png").read_bytes()[:4] == b"\x89PNG"


def test_report_numbers_equal_the_python_api(report, inputs):
    import hyperspy.api as hs

    from cryospec.app.figures import element_profiles

    folder, _ = inputs
    core_loss = hs.load(folder / "map1.hspy")
    low_loss = hs.load(folder / "map1_low_loss.hspy")
    result = core_loss.quantify(["Li_K", "P_L23", "O_K", "N_K"], low_loss=low_loss)
    results = json.loads((report / "datasets" / "map1" / "results.json").read_text())
    expected = json.loads(json.dumps(result.summary()))
    assert results["quantification"] == expected
    profile = element_profiles(result, ["P"], model="auto")["elements"]["P"]
    assert results["profiles"]["elements"]["P"] == json.loads(json.dumps(profile))
    assert results["dose"]["e_per_A2_mean"] == float(np.mean(core_loss.dose_per_pixel().data))

    eds = hs.load(folder / "edx3.hspy")
    quant = eds.quantify_lines(eds.line_intensities(["N_Ka", "O_Ka", "P_Ka"]), K_FACTORS)
    edx = json.loads((report / "datasets" / "edx3" / "results.json").read_text())
    value = edx["quantification"]["elements"]["P"]["atomic_fraction_mean"]
    assert value == float(np.nanmean(quant["atomic_fraction"]["P"].data))


def test_rerun_skips_done_datasets_unless_forced(report, inputs):
    folder, config = inputs
    args = ["report", str(folder), "--out", str(report), "--config", str(config), "--no-progress"]
    stamp = (report / "datasets" / "map0" / "results.json").stat().st_mtime_ns
    assert main(args) == 1  # the corrupt file still fails
    log = json.loads((report / "run_log.json").read_text())
    cached = {d["name"]: d["cached"] for d in log["datasets"] if d["status"] == "done"}
    assert all(cached.values())
    assert (report / "datasets" / "map0" / "results.json").stat().st_mtime_ns == stamp
    assert main([*args, "--force"]) == 1
    log = json.loads((report / "run_log.json").read_text())
    assert not any(d["cached"] for d in log["datasets"] if d["status"] == "done")


def test_local_cluster_gives_identical_summary(report, inputs, tmp_path):
    folder, config = inputs
    out = tmp_path / "cluster"
    args = ["report", str(folder), "--out", str(out), "--config", str(config), "--workers", "2"]
    assert main([*args, "--no-progress"]) == 1
    assert _rows(out / "summary.csv") == _rows(report / "summary.csv")


def test_bad_config_is_a_clear_error(inputs, tmp_path, capsys):
    folder, _ = inputs
    bad = tmp_path / "bad.toml"
    bad.write_text("[eels]\nedgez = ['Li_K']\n", encoding="utf-8")
    code = main(["report", str(folder), "--out", str(tmp_path / "o"), "--config", str(bad)])
    assert code == 2
    assert "unknown key 'edgez'" in capsys.readouterr().err


@pytest.mark.skipif(
    chromium() is None and not os.environ.get("CI"),
    reason="no Chromium here (.ci/run installs Debian's chromium)",
)
def test_pages_load_in_a_browser_without_missing_images_or_errors(report, tmp_path):
    browser = chromium()
    assert browser, "CI must provide chromium"
    for page in (
        report / "index.html",
        report / "datasets" / "map0" / "index.html",
        report / "datasets" / "edx3" / "index.html",
    ):
        assert_page_loads(browser, page, tmp_path / "profile")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_index.png"
    subprocess.run(
        [
            browser,
            *browser_flags(tmp_path / "profile"),
            "--hide-scrollbars",
            "--window-size=1300,1600",
            f"--screenshot={shot}",
            (report / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_config_sets_windows_and_background_model(tmp_path):
    from cryospec.app.report.config import load_config

    path = tmp_path / "c.toml"
    path.write_text(
        '[eels]\nmethod = "integration"\nbackground_model = "exponential"\ncount_target = 2000.0\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config["eels"]["background_model"] == "exponential"
    path.write_text("[eels]\nbackground_windows = [[40.0, 53.0]]\n", encoding="utf-8")
    assert load_config(path)["eels"]["background_windows"] == [[40.0, 53.0]]
    # windows of the model fit with the integration method would be ignored: refused
    path.write_text(
        '[eels]\nmethod = "integration"\nbackground_windows = [[40.0, 53.0]]\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="background_windows applies to method = 'model'"):
        load_config(path)
    path.write_text("[eels]\nbackground_windows = [[40.0, 53.0]]\n", encoding="utf-8")
    config = load_config(path)
    assert config["profile"]["mode"] == "auto"  # untouched keys keep their defaults
    path.write_text('[eels]\nbackground_model = "spline"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="background_model must be one of"):
        load_config(path)


def test_real_files_are_processed_or_listed_with_their_reason(tmp_path):
    data = Path(__file__).parents[1] / "data"
    names = (
        "NMC_SiDoped_SI_440-1054eV_OK_TML.dm3",
        "hyperspy_coreloss_360-770eV_OK_MnL.msa",
        "nist_SiO2_EDS_SI_128x128.hspy",
    )
    folder = copy_inputs(data, tmp_path / "real", names)
    before = _checksums(folder)
    config = tmp_path / "c.toml"
    config.write_text("[acquisition]\ndetector_gain = 1.0\n", encoding="utf-8")
    out = tmp_path / "out"
    # two of the three fail (listed with their reasons below): the exit code says so
    assert (
        main(["report", str(folder), "--out", str(out), "--config", str(config), "--no-progress"])
        == 1
    )
    rows = {row["dataset"]: row for row in _rows(out / "summary.csv")}
    assert _checksums(folder) == before
    # the O K map of NMC has no beam current: quantified in relative units, the page says so
    nmc = rows["NMC_SiDoped_SI_440-1054eV_OK_TML"]
    assert nmc["status"] == "done"
    page = (out / "datasets" / nmc["dataset"] / "index.html").read_text(encoding="utf-8")
    assert "Li_K not quantified" in page and "No dose" in page
    # the reason names the config key that supplies the missing value
    assert "[acquisition] beam_energy_keV" in rows["hyperspy_coreloss_360-770eV_OK_MnL"]["reason"]
    assert "X-ray lines" in rows["nist_SiO2_EDS_SI_128x128"]["reason"]


def test_example_config_is_valid():
    from cryospec.app.report.config import DEFAULTS, load_config

    config = load_config(Path(__file__).parents[2] / "examples" / "report.toml")
    assert set(config) == set(DEFAULTS)
    assert config["eels"]["edges"] == ["Li_K", "P_L23", "O_K", "N_K"]


def test_config_fills_only_what_the_file_lacks(data_dir):
    """The NMC file records its collection angle (100 mrad, under TEM.Detector.EELS, where
    HyperSpy keeps it) and a convergence angle of 0.0 (DigitalMicrograph's "not recorded"): the
    config's 20 mrad must not replace the first, its convergence angle fills the second."""
    import cryospec
    from cryospec.app.report.analysis import apply_acquisition

    s = cryospec.load(data_dir / "NMC_SiDoped_SI_440-1054eV_OK_TML.dm3")
    tem = "Acquisition_instrument.TEM"
    assert s.metadata.get_item(f"{tem}.Detector.EELS.collection_angle") == 100.0
    filled = apply_acquisition(
        s, {"collection_mrad": 20.0, "convergence_mrad": 12.0, "beam_energy_keV": 200.0}
    )
    assert s.metadata.get_item(f"{tem}.Detector.EELS.collection_angle") == 100.0
    assert s.metadata.get_item(f"{tem}.beam_energy") == 300.0
    assert s.metadata.get_item(f"{tem}.convergence_angle") == 12.0
    assert filled == ["convergence_mrad"]


def test_dark_subtracted_real_file_is_reported_with_its_read_noise(tmp_path):
    """The real 2x2 DM4 (14 negative counts) through `cryospec report`: quantified, the
    read noise from the config used and written into its numbers."""
    data = Path(__file__).parents[1] / "data"
    folder = tmp_path / "real"
    folder.mkdir()
    name = "rsciio_EELS_SI_2x2_300-2347eV_OK.dm4"
    shutil.copy(data / name, folder / name)
    config = tmp_path / "c.toml"
    config.write_text(
        '[acquisition]\ndetector_gain = 1.0\nread_noise = 10.0\n[eels]\nnegative = "shift"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert (
        main(["report", str(folder), "--out", str(out), "--config", str(config), "--no-progress"])
        == 0
    )
    dataset = name.removesuffix(".dm4")
    rows = {row["dataset"]: row for row in _rows(out / "summary.csv")}
    assert rows[dataset]["status"] == "done"
    text = (out / "datasets" / dataset / "results.json").read_text(encoding="utf-8")
    assert '"read_noise_counts": 10.0' in text and '"negative_counts": 14' in text


def test_every_json_output_loads_with_a_strict_parser(report):
    def refuse(constant):
        raise ValueError(f"bare {constant} in a JSON output")

    files = sorted(report.rglob("*.json"))
    assert any(p.name == "results.json" for p in files) and (report / "run_log.json") in files
    for path in files:
        json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_a_low_loss_cut_above_its_zero_loss_peak_is_not_quantified(tmp_path):
    """A low loss whose axis starts at 5 eV is recognised as a low loss (it used to be
    quantified as a core loss), and its core loss, paired with it, is refused with the reason:
    the low loss has no zero-loss peak."""
    from cryospec.app.report.runner import discover

    core_loss, low_loss, _ = li_lipon(shape=(2, 16), seed=0)
    core_loss.save(tmp_path / "map.hspy")
    low_loss.isig[5.0:].save(tmp_path / "map_low_loss.hspy")
    entries = {e["name"]: e for e in discover([tmp_path])}
    assert set(entries) == {"map"}
    assert entries["map"]["low_loss"].endswith("map_low_loss.hspy")
    out = tmp_path / "out"
    assert main(["report", str(tmp_path), "--out", str(out), "--no-progress"]) == 1
    row = _rows(out / "summary.csv")[0]
    assert row["status"] == "failed" and "zero-loss" in row["reason"]


def test_a_missing_gain_names_the_config_key(tmp_path):
    data = Path(__file__).parents[1] / "data"
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data / "pyTEMlib_SrTiO3_350-862eV_TiL_OK.dm3", folder)
    out = tmp_path / "out"
    assert main(["report", str(folder), "--out", str(out), "--no-progress"]) == 1
    (row,) = _rows(out / "summary.csv")
    assert "[acquisition] detector_gain = ..." in row["reason"]


def test_an_optional_step_outside_the_axis_is_skipped_with_a_note(tmp_path):
    """KL-NMF on its default 40-90 eV range, asked of the NMC O K file (440-1054 eV): the
    dataset is done, the NMF skipped, and the page says why."""
    data = Path(__file__).parents[1] / "data"
    folder = tmp_path / "in"
    folder.mkdir()
    name = "NMC_SiDoped_SI_440-1054eV_OK_TML"
    shutil.copy(data / f"{name}.dm3", folder)
    config = tmp_path / "c.toml"
    config.write_text(
        "[acquisition]\ndetector_gain = 1.0\n[nmf]\nn_components = 2\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    args = ["report", str(folder), "--out", str(out), "--config", str(config), "--no-progress"]
    assert main(args) == 0
    results = json.loads((out / "datasets" / name / "results.json").read_text(encoding="utf-8"))
    assert "outside this file's energy axis" in results["skipped_steps"]["NMF"]
    assert "nmf" not in results
    page = (out / "datasets" / name / "index.html").read_text(encoding="utf-8")
    assert "NMF skipped" in page


def test_no_error_lines_from_the_lazy_load_tried_first(tmp_path, caplog):
    """An .msa file cannot be read lazily: the retry in memory is the answer, and HyperSpy's
    "report this error to the RosettaSciIO developers" lines are not shown."""
    import logging

    from cryospec.app.report.runner import discover

    data = Path(__file__).parents[1] / "data"
    shutil.copy(data / "hyperspy_coreloss_360-770eV_OK_MnL.msa", tmp_path)
    with caplog.at_level(logging.WARNING):
        (entry,) = discover([tmp_path])
    assert entry["kind"] == "eels"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_pairs_table_pairs_a_real_core_loss_with_its_low_loss(tmp_path):
    """The pyEELSMODEL SrTiO3 pair (names that the NAME_low_loss rule does not pair), through
    `cryospec report` with a [pairs] table and the values the files lack (pyEELSMODEL's own,
    tests/data/README): paired, the zero-loss peak (at -4.2 eV in the file) aligned with a note,
    and O/Ti = 3 within 15 % (measured 3.28, as through the API)."""
    data = Path(__file__).parents[1] / "data"
    folder = tmp_path / "in"
    folder.mkdir()
    for part in ("hl_357-664eV", "ll"):
        shutil.copy(data / f"pyEELSMODEL_SrTiO3_{part}.msa", folder)
    config = tmp_path / "c.toml"
    # the values the files lack, for these files alone (a [files."NAME"] table)
    config.write_text(
        '[acquisition]\ndetector_gain = 1.0\n[eels]\nedges = ["Ti_L23", "O_K"]\n'
        f"[pairs]\n{STO_PAIR}{STO_VALUES}",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["report", str(folder), "--out", str(out), "--config", str(config), "--no-progress"]
    assert main(args) == 0
    (row,) = _rows(out / "summary.csv")
    assert row["status"] == "done"
    results = json.loads(
        (out / "datasets" / row["dataset"] / "results.json").read_text(encoding="utf-8")
    )
    assert results["low_loss"].endswith("pyEELSMODEL_SrTiO3_ll.msa")
    quant = results["quantification"]
    ratio = (
        quant["elements"]["O"]["areal_density_mean"] / quant["elements"]["Ti"]["areal_density_mean"]
    )
    assert ratio == pytest.approx(3.0, rel=0.15)
    assert any("zero-loss peak sat at -4.2" in note for note in quant["notes"])
    # a single spectrum gets its figure: the spectrum with the model fitted to it
    assert [src for src, _ in results["figures"]] == ["spectrum.png"]
    page = (out / "datasets" / row["dataset"] / "index.html").read_text(encoding="utf-8")
    assert '<img src="spectrum.png"' in page
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(out / "datasets" / row["dataset"] / "spectrum.png", ARTIFACTS / "srtio3_fit.png")


def test_pairs_table_errors_name_the_file(tmp_path):
    from cryospec.app.report.config import load_config
    from cryospec.app.report.runner import discover

    bad = tmp_path / "c.toml"
    bad.write_text('[pairs]\n"a" = 3\n', encoding="utf-8")
    with pytest.raises(ValueError, match="must name a low-loss file"):
        load_config(bad)
    bad.write_text('[files."a.msa"]\nbeam_energy = 300.0\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown key 'beam_energy' in \[files"):
        load_config(bad)
    core_loss, _, _ = li_lipon(shape=(2, 8), seed=0)
    core_loss.save(tmp_path / "core.hspy")
    (entry,) = discover([tmp_path], pairs={"core": "missing.hspy"})
    assert entry["kind"] == "unreadable" and "not among the inputs" in entry["reason"]


def test_edx_pages_show_dose_line_intensities_and_why_maps_are_blank(report):
    results = json.loads((report / "datasets" / "edx3" / "results.json").read_text())
    figures = [src for src, _ in results["figures"]]
    assert {"dose.png", "line_intensities.png", "atomic_fraction.png"} <= set(figures)
    # the Li metal holds none of the lines: its pixels are blank, and the page says why
    page = (report / "datasets" / "edx3" / "index.html").read_text(encoding="utf-8")
    assert "are blank in the fraction maps" in page and "no usable X-ray line" in page


def test_a_map_in_micrometres_is_reported_in_nm():
    """Real files often calibrate their maps in µm: the report's copy is put in nm, so that
    positions, widths and figure axes are nm as labelled; the dose per pixel is unchanged."""
    from cryospec.app.report.analysis import navigation_in_nm

    core_loss, _, _ = li_lipon(shape=(4, 16), seed=0)
    dose_nm = core_loss.dose_per_pixel().data.copy()
    for axis in core_loss.axes_manager.navigation_axes:
        axis.scale, axis.offset, axis.units = axis.scale / 1e3, axis.offset / 1e3, "µm"
    assert navigation_in_nm(core_loss) == "nm"
    x = core_loss.axes_manager.navigation_axes[0]
    assert x.units == "nm" and x.scale == pytest.approx(2.5)
    np.testing.assert_allclose(core_loss.dose_per_pixel().data, dose_nm)
    for axis in core_loss.axes_manager.navigation_axes:
        axis.units = "<undefined>"
    assert navigation_in_nm(core_loss) == "<undefined>"


def test_fraction_colours_stay_within_0_and_1_and_say_where_clipped():
    from cryospec.app.figures.common import _fraction_limits

    rng = np.random.default_rng(0)
    noisy = np.clip(rng.normal(0.05, 0.05, (20, 20)), -0.2, None)
    noisy[0, 0] = 1.3
    lo, hi, extend = _fraction_limits(noisy)
    assert 0.0 <= lo < hi <= 1.0 and extend == "both"
    # inside 0-1 the colours span the 1-99 % range of the values, arrows beyond it
    lo, hi, extend = _fraction_limits(np.linspace(0.2, 0.6, 101))
    assert (lo, hi, extend) == (pytest.approx(0.204), pytest.approx(0.596), "both")
    assert _fraction_limits(np.full((3, 3), np.nan)) == (0.0, 1.0, "neither")


def test_real_eels_folder_with_the_values_the_files_lack(tmp_path):
    """The real EELS files of tests/data (those of the shared collection's EELS folder) through
    `cryospec report` with a config of only what the files lack: the gain,
    two pairs and the microscope values of two files (their documented sources in
    tests/data/README). Every dataset is done (exit 0): the core losses quantified, each with
    its spectrum and fit, and the two low losses without a core loss of their own reported
    as low losses (t/lambda, plasmon), never as core losses. The Al bulk plasmon comes out at
    its measured 15.0 eV (Egerton 2011, Table 3.2)."""
    data = Path(__file__).parents[1] / "data"
    folder = tmp_path / "real"
    folder.mkdir()
    for path in data.iterdir():
        if path.suffix in (".dm3", ".dm4", ".msa"):
            shutil.copy(path, folder / path.name)
    before = _checksums(folder)
    config = tmp_path / "c.toml"
    config.write_text(
        f"[acquisition]\ndetector_gain = 1.0\n[pairs]\n{STO_PAIR}"
        '"hyperspy_coreloss_360-770eV_OK_MnL" = "hyperspy_lowloss_spectrum_-40-369eV.msa"\n'
        f"{STO_VALUES}"
        '[files."hyperspy_coreloss_360-770eV_OK_MnL.msa"]\n'
        "beam_energy_keV = 300.0\nconvergence_mrad = 24.6\ncollection_mrad = 13.6\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["report", str(folder), "--out", str(out), "--config", str(config), "--no-progress"]
    assert main(args) == 0
    assert _checksums(folder) == before
    rows = {row["dataset"]: row for row in _rows(out / "summary.csv")}
    assert len(rows) == 8 and all(row["status"] == "done" for row in rows.values()), rows
    low_losses = {name for name, row in rows.items() if row["kind"] == "low_loss"}
    assert low_losses == {"NMC_SiDoped_SI_lowloss_-60-554eV", "pyTEMlib_Al_lowloss_-3.6-37.6eV"}
    for name in rows:
        results = json.loads((out / "datasets" / name / "results.json").read_text())
        assert results["figures"][0][0] == "spectrum.png"
        if name in low_losses:
            assert results["kind"] == "EELS low loss" and "quantification" not in results
            assert any("no core loss is paired" in note for note in results["notes"])
    al = json.loads(
        (out / "datasets" / "pyTEMlib_Al_lowloss_-3.6-37.6eV" / "results.json").read_text()
    )
    assert al["low_loss_properties"]["plasmon_eV_median"] == pytest.approx(15.0, abs=0.3)
    page = (out / "datasets" / "pyTEMlib_Al_lowloss_-3.6-37.6eV" / "index.html").read_text()
    assert "ends at 37.5891 eV while it still holds counts" in page  # the cut axis is said
    browser = chromium()
    if browser or os.environ.get("CI"):
        assert browser, "CI must provide chromium"
        # no profile on these files: the index has no positions plot
        assert_page_loads(browser, out / "index.html", tmp_path / "profile", images=False)
        for page in sorted(out.glob("datasets/*/index.html")):
            assert_page_loads(browser, page, tmp_path / "profile")


def test_low_loss_pattern_pairs_files_the_name_rule_does_not(tmp_path, capsys):
    """``--low-loss-pattern 'LL_{core}'`` pairs SI_3 with LL_SI_3 (a prefix, which the
    NAME_low_loss rule cannot); without it the low loss stands alone; a pattern without
    {core} is refused when parsed."""
    from cryospec.app.report.runner import discover

    core_loss, low_loss, _ = li_lipon(shape=(2, 16), seed=0)
    core_loss.save(tmp_path / "SI_3.hspy")
    low_loss.save(tmp_path / "LL_SI_3.hspy")
    alone = {e["name"]: e for e in discover([tmp_path])}
    assert alone["SI_3"]["low_loss"] is None and alone["LL_SI_3"]["kind"] == "low_loss"
    paired = {e["name"]: e for e in discover([tmp_path], low_loss_pattern="LL_{core}")}
    assert set(paired) == {"SI_3"}
    assert paired["SI_3"]["low_loss"].endswith("LL_SI_3.hspy")
    out = tmp_path / "out"
    args = ["report", str(tmp_path), "--out", str(out), "--no-progress"]
    assert main([*args, "--low-loss-pattern", "LL_{core}"]) == 0
    log = json.loads((out / "run_log.json").read_text(encoding="utf-8"))
    assert log["datasets"][0]["filled_from_config"] == []  # every value from the file
    with pytest.raises(SystemExit):
        main([*args, "--low-loss-pattern", "LL_{name}"])
    assert "the only field is {core}" in capsys.readouterr().err


def test_a_dual_eels_file_is_quantified_with_its_own_low_loss(tmp_path, monkeypatch):
    """RosettaSciIO reads a DigitalMicrograph Dual EELS acquisition as a list of the two
    spectrum images (in either order): the report pairs them and quantifies the core loss
    with its low loss, with a note. No Dual EELS file is at hand here: the reader's list is
    made from the built-in pair (io.load replaced for that one file)."""
    from cryospec.signals import io

    core_loss, low_loss, _ = li_lipon(shape=(2, 16), seed=0)
    path = tmp_path / "dual.dm4"
    path.write_bytes(b"not read: io.load is replaced for this file")
    real_load = io.load

    def load(file, *args, **kwargs):
        if Path(file) == path:
            return [low_loss.deepcopy(), core_loss.deepcopy()]
        return real_load(file, *args, **kwargs)

    monkeypatch.setattr(io, "load", load)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path), "--out", str(out), "--no-progress"]) == 0
    (row,) = _rows(out / "summary.csv")
    assert row["kind"] == "dual_eels" and row["status"] == "done"
    results = json.loads((out / "datasets" / "dual" / "results.json").read_text())
    assert results["quantification"]["units"] == "atoms/nm²"  # the low loss gave the electrons
    assert any("Dual EELS" in note for note in results["notes"])
    direct = core_loss.quantify(
        ["Li_K", "P_L23", "O_K", "N_K"], low_loss=low_loss, cross_section="hartree-slater"
    ).summary()
    for element, values in direct["elements"].items():
        assert results["quantification"]["elements"][element][
            "areal_density_mean"
        ] == pytest.approx(values["areal_density_mean"], rel=1e-6)
