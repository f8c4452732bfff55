"""``cryospec report`` quantifies an EDX map with no k-factors in the config."""

from __future__ import annotations

import json

import numpy as np

from cryospec.app.cli import main
from cryospec.data import li_lipon_eds


def test_report_quantifies_edx_without_k_factors(tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    eds, truth = li_lipon_eds(shape=(6, 64), seed=4)
    eds.save(folder / "edx.hspy")
    config = tmp_path / "report.toml"
    config.write_text('[edx]\nlines = ["N_Ka", "O_Ka", "P_Ka"]\n', encoding="utf-8")
    out = tmp_path / "report"
    code = main(
        ["report", str(folder), "--out", str(out), "--config", str(config), "--no-progress"]
    )
    assert code == 0
    results = json.loads((out / "datasets" / "edx" / "results.json").read_text())
    quant = results["quantification"]
    assert quant["method"] == "Cliff-Lorimer"
    assert quant["k_factor_source"] == "theoretical"
    assert quant["detector"] == "polymer"
    assert set(quant["k_factors"]) == {"N", "O", "P"}
    # the values the generator used are the ones the report computed
    for element, value in truth.k_factors.items():
        assert quant["k_factors"][element] == np.float64(value)
    for element in ("N", "O", "P"):
        assert 0.0 < quant["elements"][element]["atomic_fraction_mean"] < 1.0
    page = (out / "datasets" / "edx" / "index.html").read_text(encoding="utf-8")
    assert "k-factors (theoretical)" in page and "Casnati" in page


def test_report_over_the_real_edx_files(tmp_path, data_dir):
    """The real EDX files (tests/data, as in ../shared/realdata/edx): the Bruker map (a survey
    image beside the spectrum image, Pd La among its L family) is quantified, with the
    fractions of the summed spectrum where single pixels hold too few counts (about 6 per
    pixel); the Velox file's summed spectrum is taken among its detectors' spectra; a file
    without elements fails with its strongest peaks and the lines near them, to set in the
    config."""
    import csv

    from inputs import copy_inputs

    names = (
        "nist_SiO2_EDS_SI_128x128.hspy",
        "pyTEMlib_EDS-STO_Velox.emd",
        "rsciio_test_TEM_EDS_SI_64x64.bcf",
    )
    folder = copy_inputs(data_dir, tmp_path / "edx", names)
    out = tmp_path / "report"
    code = main(["report", str(folder), "--out", str(out), "--no-progress"])
    assert code == 1  # two files record no elements
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = {row["dataset"]: row for row in csv.DictReader(handle)}
    bruker = rows["rsciio_test_TEM_EDS_SI_64x64"]
    assert bruker["status"] == "done"
    results = json.loads(
        (out / "datasets" / "rsciio_test_TEM_EDS_SI_64x64" / "results.json").read_text()
    )
    elements = results["quantification"]["elements"]
    assert results["quantification"]["detector"] == "windowless"  # SuperX in the file
    total = sum(v["atomic_fraction_summed_spectrum"] for v in elements.values())
    assert abs(total - 1.0) < 1e-9
    assert elements["O"]["atomic_fraction_summed_spectrum_standard_error"] > 0
    assert any("factor of 2.5" in note for note in results["notes"])  # Pd La
    sto = rows["pyTEMlib_EDS-STO_Velox"]
    assert sto["status"] == "failed"
    assert "Ti_Ka" in sto["reason"] and "Sr_Ka" in sto["reason"] and "[edx] lines" in sto["reason"]


def test_velox_summed_spectrum_is_picked_among_the_detectors(data_dir):
    import hyperspy.api as hs

    from cryospec.app.report.multi_signal import edx_spectrum

    signals = hs.load(data_dir / "pyTEMlib_EDS-STO_Velox.emd")
    spectrum, note = edx_spectrum(signals)
    totals = sorted(float(s.data.sum()) for s in signals)
    assert float(spectrum.data.sum()) == totals[-1]
    assert "sum of its 4 detectors" in note
    assert edx_spectrum(signals[1:3]) is None  # two detectors, no sum: not guessed
