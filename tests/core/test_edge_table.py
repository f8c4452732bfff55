"""The generated edge table: every shell of Z = 3..92 between 10 eV and 3 keV, sourced onsets,
curated records on top, the user's own records on top of both."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from cryospec.edges import (
    EdgeDatabaseError,
    edge_database_path,
    edges_in_range,
    get_edge,
    list_edges,
    load_edge_database,
    use_user_edges,
)

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_edge_table", ROOT / "tools" / "generate_edge_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _without_versions(text: str) -> str:
    return re.sub(r"(exspy|xraydb) [0-9][0-9.a-z+]*", r"\1", text)


def test_committed_table_is_what_the_generator_writes():
    """Regenerated from the installed exspy and xraydb (their version numbers aside: a release
    that changes a value fails here, and the table is then regenerated)."""
    committed = (edge_database_path() / "generated" / "periodic_table.yaml").read_text("utf-8")
    assert _without_versions(committed) == _without_versions(_generator().document())


def test_every_element_from_li_to_u_has_edges():
    import xraydb

    database = load_edge_database()
    elements = {e.element for e in database.values()}
    assert {xraydb.atomic_symbol(z) for z in range(3, 93)} <= elements
    for edge in database.values():
        assert 10.0 <= edge.onset_eV <= 3000.0
        assert edge.onset_source.strip()


@pytest.mark.parametrize(
    ("name", "onset"),
    [
        ("B_K", 188.0),
        ("C_K", 284.0),
        ("Mg_K", 1305.0),
        ("Al_K", 1560.0),
        ("S_L23", 165.0),
        ("Cl_L23", 200.0),
        ("Ca_L23", 346.0),
        ("Ti_L23", 456.0),
        ("Mn_L23", 640.0),
        ("Co_L23", 779.0),
        ("Ni_L23", 855.0),
        ("Cu_L23", 931.0),
        ("Ge_L23", 1217.0),
        ("Zr_M45", 181.0),
        ("La_M45", 832.0),
        ("Mn_M23", 51.0),
        ("P_L23", 132.0),
    ],
)
def test_battery_edges_have_their_eels_onsets(name, onset):
    edge = get_edge(name)
    assert edge.onset_eV == pytest.approx(onset, abs=1.0)
    lo, hi = edge.integration_window_eV
    assert lo >= edge.onset_eV - 5 and hi - lo >= 10
    assert all(hi <= edge.onset_eV for _, hi in edge.background_windows_eV)


def test_onsets_without_an_eels_value_come_from_xraydb():
    import xraydb

    edge = get_edge("La_N23")  # not in exspy's EELS table
    assert "xraydb" in edge.onset_source and "Elam" in edge.onset_source
    assert edge.onset_eV == pytest.approx(xraydb.xray_edge("La", "N3").energy, abs=0.05)
    assert "exspy" in get_edge("Ti_L23").onset_source


def test_valence_levels_are_not_edges():
    for name in ("C_L1", "O_L1", "Cl_M23", "Ti_M45"):
        with pytest.raises(KeyError):
            get_edge(name)
    assert "Ca_M23" in list_edges("Ca")  # the semicore 3p of Ca is an edge


def test_curated_records_override_generated_ones():
    li = get_edge("Li_K")
    assert li.fine_structure and "Mn_M23" in li.overlaps
    assert list_edges("Ti") == ["Ti_M23", "Ti_M1", "Ti_L23", "Ti_L1"]


def test_edges_in_range_for_the_elements_of_a_sample():
    names = [e.name for e in edges_in_range(400.0, 700.0, ["Ti", "O", "N", "Mn"])]
    assert names == ["N_K", "Ti_L23", "O_K", "Ti_L1", "Mn_L23"]


def _user_record(name="Ti_L23", onset=455.0, **extra):
    element, shell = name.split("_")
    return {
        "name": name,
        "element": element,
        "shell": shell,
        "exspy_subshell": "L3",
        "onset_eV": onset,
        "onset_source": "my own calibration",
        "background_windows_eV": [[400.0, 450.0]],
        "integration_window_eV": [onset, onset + 50.0],
        "overlaps": [],
        "fine_structure": {},
        **extra,
    }


def test_user_files_add_and_override_records(tmp_path, monkeypatch):
    single = tmp_path / "ti.yaml"
    single.write_text(yaml.safe_dump(_user_record()), encoding="utf-8")
    folder = tmp_path / "mine"
    folder.mkdir()
    extra = _user_record("Xe_M45", 672.0)
    (folder / "more.yaml").write_text(yaml.safe_dump({"edges": [extra]}), encoding="utf-8")
    try:
        use_user_edges(single, folder)
        assert get_edge("Ti_L23").onset_eV == 455.0
        assert get_edge("Ti_L23").onset_source == "my own calibration"
        assert get_edge("Xe_M45").onset_eV == 672.0
    finally:
        use_user_edges()
    assert get_edge("Ti_L23").onset_eV == 456.0
    monkeypatch.setenv("CRYOSPEC_USER_EDGES", str(single))
    assert get_edge("Ti_L23").onset_eV == 455.0
    database = load_edge_database(user_edges=[])
    assert database["Ti_L23"].onset_eV == 456.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        (yaml.safe_dump({"edges": {"Ti_L23": 1}}), "must be a list"),
        (yaml.safe_dump(_user_record(onset=-1.0)), "positive"),
        (yaml.safe_dump({**_user_record(), "colour": "red"}), "unknown key"),
        (yaml.safe_dump(_user_record(overlaps=["Qq_K"])), "overlaps unknown edge"),
    ],
)
def test_malformed_user_files_are_refused_with_the_file_named(tmp_path, content, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(EdgeDatabaseError, match=message):
        use_user_edges(bad)
    assert get_edge("Ti_L23").onset_eV == 456.0  # the failed call changed nothing


def test_missing_user_path_is_refused(tmp_path):
    with pytest.raises(EdgeDatabaseError, match="does not exist"):
        use_user_edges(tmp_path / "nothing.yaml")
    with pytest.raises(EdgeDatabaseError, match=r"no \*\.yaml"):
        use_user_edges(tmp_path)
