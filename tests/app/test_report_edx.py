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
