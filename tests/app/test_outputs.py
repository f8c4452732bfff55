"""Output files: strict JSON, the user's umask, no stale temporary files, inputs untouched."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from cryospec.app.atomic import atomic_write_text, strict_json
from cryospec.app.cli import main
from cryospec.data import li_lipon


def _strict_load(path):
    def refuse(constant):
        raise ValueError(f"{path.name} holds {constant}, which strict JSON parsers reject")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_strict_json_writes_null_for_nan_and_infinities():
    text = strict_json({"a": float("nan"), "b": [1.0, float("inf")], "c": np.float64(2.5)},
                       default=lambda v: v.item())  # fmt: skip
    assert json.loads(text) == {"a": None, "b": [1.0, None], "c": 2.5}
    with pytest.raises(TypeError):
        strict_json({"x": object()})


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_files_follow_the_umask_and_stale_temporaries_go(tmp_path, umask_022):
    target = tmp_path / "out.json"
    stale = tmp_path / f".out.json.{'0' * 32}.json"  # left by a killed earlier write
    stale.write_text("", encoding="utf-8")
    other = tmp_path / ".out.json.notours.json"
    other.write_text("", encoding="utf-8")
    atomic_write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not stale.exists() and other.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json.")] == [other.name]


def test_quantify_json_is_strict_where_an_element_is_absent(tmp_path, capsys, umask_022):
    """The Li metal columns hold no P, N or O: their fractions are undefined there (NaN in the
    maps), written as null in quantification.json."""
    core_loss, low_loss, _ = li_lipon(shape=(4, 24), seed=0)
    core_loss.save(tmp_path / "cl.hspy")
    low_loss.save(tmp_path / "ll.hspy")
    out = tmp_path / "out"
    code = main(
        ["quantify", str(tmp_path / "cl.hspy"), "--low-loss", str(tmp_path / "ll.hspy"),
         "--edges", "Li_K,P_L23,N_K,O_K", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    summary = _strict_load(out / "quantification.json")
    assert summary["elements"]["Li"]["areal_density_mean"] > 0
    for written in out.iterdir():
        assert stat.S_IMODE(written.stat().st_mode) == 0o644, written.name
