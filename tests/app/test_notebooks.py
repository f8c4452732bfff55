"""The notebooks are committed without outputs (they are executed by nbmake in the test run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook_per_workflow():
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_background",
        "03_quantification",
        "04_nmf",
        "05_gradients",
        "06_large_data",
        "07_batch_reports",
        "08_edx",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_no_outputs_and_explains_itself(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert book["cells"][0]["cell_type"] == "markdown"
    readme = (path.parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"notebooks/{path.name}" in readme
