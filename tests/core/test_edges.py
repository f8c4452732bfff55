"""The edge database: schema, content, names, agreement with exspy, packaging."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from exspy.material import elements as exspy_elements

import cryospec
from cryospec.edges import (
    Edge,
    EdgeDatabaseError,
    canonical_edge_name,
    edge_database_path,
    get_edge,
    list_edges,
    load_edge_database,
    validate_edge_record,
)

REQUIRED = [
    "Li_K",
    "P_L23",
    "P_L1",
    "C_K",
    "N_K",
    "O_K",
    "F_K",
    "Mn_M23",
    "Fe_M23",
    "Co_M23",
    "Ni_M23",
]
LI_COMPOUNDS = ["Li metal", "Li2O", "LiF", "Li3N", "Li2CO3", "Li3PO4", "LiPON"]


def _record(name="Li_K"):
    path = edge_database_path() / f"{name}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_file_follows_the_schema():
    files = sorted(edge_database_path().glob("*.yaml"))
    assert len(files) >= len(REQUIRED)
    for file in files:
        edge = validate_edge_record(yaml.safe_load(file.read_text(encoding="utf-8")), file.name)
        assert edge.name == file.stem


def test_required_edges_are_present():
    db = load_edge_database()
    assert set(REQUIRED) <= set(db)
    assert all(isinstance(e, Edge) for e in db.values())
    onsets = [db[n].onset_eV for n in list_edges()]
    assert onsets == sorted(onsets)


@pytest.mark.parametrize("name", REQUIRED)
def test_onsets_agree_with_exspy(name):
    edge = get_edge(name)
    binding = exspy_elements[edge.element].Atomic_properties.Binding_energies
    assert binding[edge.exspy_subshell]["onset_energy (eV)"] == pytest.approx(edge.onset_eV)


@pytest.mark.parametrize("name", REQUIRED)
def test_windows_are_physical(name):
    edge = get_edge(name)
    for lo, hi in edge.background_windows_eV:
        assert lo < hi <= edge.onset_eV
    lo, hi = edge.integration_window_eV
    assert edge.onset_eV - 5 <= lo < hi
    assert hi - lo >= 10


def test_li_k_overlaps_and_fine_structure():
    li = get_edge("Li_K")
    assert {"Mn_M23", "Fe_M23", "Co_M23", "Ni_M23"} <= set(li.overlaps)
    for tm in ("Mn_M23", "Fe_M23", "Co_M23", "Ni_M23"):
        assert "Li_K" in get_edge(tm).overlaps
    assert set(LI_COMPOUNDS) <= set(li.fine_structure)
    markers = [m for ms in li.fine_structure.values() for m in ms]
    assert markers, "Li K has literature markers"
    for marker in markers:
        assert marker.source.strip()
        assert marker.status in {"checked", "approximate"}
        assert 50 < marker.energy_eV < 80


def test_overlaps_name_known_edges():
    db = load_edge_database()
    for edge in db.values():
        assert set(edge.overlaps) <= set(db)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("P_L23", "P_L23"),
        ("P_L2,3", "P_L23"),
        ("Co_M2,3", "Co_M23"),
        ("Li_K", "Li_K"),
        (" O_K ", "O_K"),
    ],
)
def test_exspy_spelling_is_accepted(spelling, canonical):
    assert canonical_edge_name(spelling) == canonical
    assert get_edge(spelling).name == canonical


def test_exspy_name_round_trip():
    assert get_edge("P_L23").exspy_name == "P_L2,3"
    assert get_edge("Li_K").exspy_name == "Li_K"


@pytest.mark.parametrize("bad", ["LiK", "li_K", "Li-K", "", "P_L2;3"])
def test_bad_names_raise(bad):
    with pytest.raises(ValueError, match="not an edge name"):
        canonical_edge_name(bad)


def test_unknown_edge_lists_the_known_ones():
    with pytest.raises(KeyError, match="Li_K"):
        get_edge("Li_L23")  # Li has no L2,3 edge
    with pytest.raises(KeyError, match="Zr_L23"):
        get_edge("Zr_K")  # above 3 keV


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("onset_eV"), "missing key"),
        (lambda r: r.update(extra=1), "unknown key"),
        (lambda r: r.update(onset_eV=-3), "positive"),
        (lambda r: r.update(background_windows_eV=[[50, 60]]), "reaches above the onset"),
        (lambda r: r.update(background_windows_eV=[[45, 40]]), "lo < hi"),
        (lambda r: r.update(background_windows_eV=[]), "at least one window"),
        (lambda r: r.update(integration_window_eV=[30, 60]), "below the onset"),
        (lambda r: r.update(name="Li_L23"), "does not match"),
        (lambda r: r["fine_structure"]["Li2O"][0].update(source=" "), "has no source"),
        (lambda r: r["fine_structure"]["Li2O"][0].update(status="guess"), "status"),
        (lambda r: r["fine_structure"]["Li2O"][0].pop("source"), "needs exactly the keys"),
    ],
)
def test_schema_violations_are_reported(mutate, message):
    record = copy.deepcopy(_record())
    mutate(record)
    with pytest.raises(EdgeDatabaseError, match=message):
        validate_edge_record(record, "Li_K.yaml")


def test_loader_reports_bad_files(tmp_path):
    with pytest.raises(EdgeDatabaseError, match="no edge files"):
        load_edge_database(tmp_path)
    (tmp_path / "Li_K.yaml").write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(EdgeDatabaseError, match="not valid YAML"):
        load_edge_database(tmp_path)
    good = _record()
    (tmp_path / "Li_K.yaml").write_text(yaml.safe_dump(good), encoding="utf-8")
    with pytest.raises(EdgeDatabaseError, match="overlaps unknown edge"):
        load_edge_database(tmp_path)
    (tmp_path / "O_K.yaml").write_text(yaml.safe_dump(good), encoding="utf-8")
    with pytest.raises(EdgeDatabaseError, match="name the file after it"):
        load_edge_database(tmp_path / ".." / tmp_path.name)


def test_database_ships_with_the_installed_package():
    package_dir = Path(cryospec.__file__).parent
    folder = edge_database_path()
    if "site-packages" in package_dir.parts:
        # A regular (wheel) install: the database must be inside the package, beside its loader.
        assert folder == package_dir / "edges" / "database"
    assert (folder / "Li_K.yaml").is_file()
