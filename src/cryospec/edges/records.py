"""The edge database: ionisation edges, their windows, overlaps and fine-structure markers.

The data live in one YAML file per edge in the repository's ``edges/`` folder, shipped inside
the wheel as ``cryospec/edges/database``. This module is the one small API that reads them.

Edge names are ``Element_Shell`` everywhere in cryospec (``Li_K``, ``P_L23``, ``Co_M23``);
exspy's spelling (``P_L2,3``, ``Co_M2,3``) is accepted as well.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "Edge",
    "EdgeDatabaseError",
    "FineStructureMarker",
    "canonical_edge_name",
    "edge_database_path",
    "get_edge",
    "list_edges",
    "load_edge_database",
    "validate_edge_record",
]

_REQUIRED_KEYS = {
    "name": str,
    "element": str,
    "shell": str,
    "exspy_subshell": str,
    "onset_eV": (int, float),
    "onset_source": str,
    "background_windows_eV": list,
    "integration_window_eV": list,
    "overlaps": list,
    "fine_structure": dict,
}
_OPTIONAL_KEYS = {"notes": str}
_MARKER_KEYS = {"energy_eV": (int, float), "feature": str, "status": str, "source": str}
_MARKER_STATUS = {"checked", "approximate"}
_NAME_RE = re.compile(r"^([A-Z][a-z]?)_([A-Z][0-9,]*)$")


class EdgeDatabaseError(ValueError):
    """An edge database file is missing, unreadable or does not follow the schema."""


@dataclass(frozen=True)
class FineStructureMarker:
    """A literature near-edge fine-structure feature of one compound."""

    energy_eV: float
    feature: str
    status: str
    source: str


@dataclass(frozen=True)
class Edge:
    """One ionisation edge of the database.

    Attributes
    ----------
    name : str
        Canonical name, e.g. ``"P_L23"``.
    element, shell : str
        Chemical symbol and shell (``"K"``, ``"L23"``, ``"L1"``, ``"M23"``).
    exspy_subshell : str
        exspy's name for the subshell (``"L2,3"``, ``"M3"``).
    onset_eV : float
        Edge onset in eV.
    background_windows_eV : tuple of (float, float)
        Default pre-edge background windows.
    integration_window_eV : (float, float)
        Default integration window.
    overlaps : tuple of str
        Canonical names of edges whose signal falls in this edge's windows.
    fine_structure : dict
        Compound name -> tuple of :class:`FineStructureMarker`.
    """

    name: str
    element: str
    shell: str
    exspy_subshell: str
    onset_eV: float
    onset_source: str
    background_windows_eV: tuple[tuple[float, float], ...]
    integration_window_eV: tuple[float, float]
    overlaps: tuple[str, ...]
    fine_structure: dict[str, tuple[FineStructureMarker, ...]] = field(default_factory=dict)
    notes: str = ""

    @property
    def exspy_name(self) -> str:
        """The edge name as exspy spells it, e.g. ``"P_L2,3"``."""
        return f"{self.element}_{self.exspy_subshell}"


def canonical_edge_name(name: str) -> str:
    """Return the canonical cryospec spelling of an edge name.

    Parameters
    ----------
    name : str
        ``"P_L23"``, ``"P_L2,3"``, ``"Co_M2,3"``, ``"Li_K"``, ...

    Returns
    -------
    str
        The name without commas (``"P_L23"``).

    Raises
    ------
    ValueError
        If ``name`` is not of the form ``Element_Shell``.
    """
    if not isinstance(name, str):
        raise TypeError(f"edge name must be a string, not {type(name).__name__}")
    stripped = name.strip()
    match = _NAME_RE.match(stripped)
    if match is None:
        raise ValueError(
            f"{name!r} is not an edge name: use Element_Shell, e.g. 'Li_K', 'P_L23' or 'P_L2,3'"
        )
    element, shell = match.groups()
    return f"{element}_{shell.replace(',', '')}"


def edge_database_path() -> Path:
    """Return the folder that holds the edge database files.

    The installed wheel ships them as ``cryospec/edges/database``; in a source checkout (editable
    install) they are read from the repository's ``edges/`` folder.
    """
    packaged = resources.files("cryospec.edges") / "database"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "edges"
    if checkout.is_dir():
        return checkout
    raise EdgeDatabaseError(
        "the cryospec edge database was not found: neither the installed package folder "
        f"{packaged} nor the source checkout folder {checkout} exists"
    )


def _window(value: Any, what: str, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in value)
    ):
        raise EdgeDatabaseError(
            f"{where}: {what} must be a pair [lo, hi] of numbers, got {value!r}"
        )
    lo, hi = float(value[0]), float(value[1])
    if not lo < hi:
        raise EdgeDatabaseError(f"{where}: {what} must have lo < hi, got {value!r}")
    return lo, hi


def validate_edge_record(record: Any, where: str = "<record>") -> Edge:
    """Check one edge record against the schema and return it as an :class:`Edge`.

    Parameters
    ----------
    record : dict
        The parsed content of one edge file.
    where : str
        A name for error messages (the file name).

    Raises
    ------
    EdgeDatabaseError
        Naming the file and the offending key.
    """
    if not isinstance(record, dict):
        raise EdgeDatabaseError(f"{where}: an edge file must hold a mapping")
    missing = [key for key in _REQUIRED_KEYS if key not in record]
    if missing:
        raise EdgeDatabaseError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = set(record) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS)
    if unknown:
        raise EdgeDatabaseError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key, types in {**_REQUIRED_KEYS, **_OPTIONAL_KEYS}.items():
        if key in record and not isinstance(record[key], types):
            raise EdgeDatabaseError(f"{where}: {key} has the wrong type ({record[key]!r})")

    name = record["name"]
    if canonical_edge_name(name) != name:
        raise EdgeDatabaseError(f"{where}: name {name!r} is not in canonical form")
    if name != f"{record['element']}_{record['shell']}":
        raise EdgeDatabaseError(f"{where}: name {name!r} does not match element and shell")
    onset = float(record["onset_eV"])
    if not (math.isfinite(onset) and onset > 0):
        raise EdgeDatabaseError(f"{where}: onset_eV must be a positive number")

    windows = record["background_windows_eV"]
    if not windows:
        raise EdgeDatabaseError(f"{where}: background_windows_eV needs at least one window")
    background = tuple(_window(w, "background window", where) for w in windows)
    for lo, hi in background:
        if hi > onset:
            raise EdgeDatabaseError(
                f"{where}: background window [{lo}, {hi}] reaches above the onset {onset} eV"
            )
    integration = _window(record["integration_window_eV"], "integration_window_eV", where)
    if integration[0] < onset - 5.0:
        raise EdgeDatabaseError(
            f"{where}: integration window starts more than 5 eV below the onset {onset} eV"
        )

    overlaps = tuple(canonical_edge_name(o) for o in record["overlaps"])
    fine_structure = {}
    for compound, markers in record["fine_structure"].items():
        if not isinstance(markers, list):
            raise EdgeDatabaseError(f"{where}: fine_structure[{compound!r}] must be a list")
        parsed = []
        for marker in markers:
            if not isinstance(marker, dict) or set(marker) != set(_MARKER_KEYS):
                raise EdgeDatabaseError(
                    f"{where}: fine-structure marker of {compound} needs exactly the keys "
                    f"{sorted(_MARKER_KEYS)}, got {marker!r}"
                )
            for key, types in _MARKER_KEYS.items():
                if not isinstance(marker[key], types):
                    raise EdgeDatabaseError(
                        f"{where}: fine-structure marker of {compound}: {key} has the wrong type"
                    )
            if marker["status"] not in _MARKER_STATUS:
                raise EdgeDatabaseError(
                    f"{where}: fine-structure status must be one of {sorted(_MARKER_STATUS)}"
                )
            if not marker["source"].strip():
                raise EdgeDatabaseError(
                    f"{where}: fine-structure marker of {compound} has no source"
                )
            parsed.append(
                FineStructureMarker(**{**marker, "energy_eV": float(marker["energy_eV"])})
            )
        fine_structure[str(compound)] = tuple(parsed)

    return Edge(
        name=name,
        element=record["element"],
        shell=record["shell"],
        exspy_subshell=record["exspy_subshell"],
        onset_eV=onset,
        onset_source=record["onset_source"],
        background_windows_eV=background,
        integration_window_eV=integration,
        overlaps=overlaps,
        fine_structure=fine_structure,
        notes=record.get("notes", ""),
    )


@functools.cache
def _load_cached(folder: str) -> dict[str, Edge]:
    path = Path(folder)
    files = sorted(path.glob("*.yaml"))
    if not files:
        raise EdgeDatabaseError(f"no edge files (*.yaml) in {path}")
    database = {}
    for file in files:
        try:
            record = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise EdgeDatabaseError(f"{file.name}: not valid YAML ({exc})") from exc
        edge = validate_edge_record(record, file.name)
        if edge.name != file.stem:
            raise EdgeDatabaseError(
                f"{file.name}: holds edge {edge.name!r}; name the file after it"
            )
        database[edge.name] = edge
    for edge in database.values():
        unknown = [o for o in edge.overlaps if o not in database]
        if unknown:
            raise EdgeDatabaseError(f"{edge.name}.yaml: overlaps unknown edge(s) {unknown}")
    return database


def load_edge_database(path: str | Path | None = None) -> dict[str, Edge]:
    """Read and validate every edge file.

    Parameters
    ----------
    path : str or Path, optional
        A folder of edge files; by default the database that ships with cryospec.

    Returns
    -------
    dict
        Canonical edge name -> :class:`Edge`. The result is cached: do not mutate it.
    """
    folder = Path(path) if path is not None else edge_database_path()
    return _load_cached(str(folder.resolve()))


def list_edges() -> list[str]:
    """Canonical names of all edges in the shipped database, sorted by onset."""
    database = load_edge_database()
    return sorted(database, key=lambda n: database[n].onset_eV)


def get_edge(name: str) -> Edge:
    """Return one edge of the shipped database.

    Parameters
    ----------
    name : str
        Canonical (``"P_L23"``) or exspy (``"P_L2,3"``) spelling.

    Raises
    ------
    KeyError
        If the edge is not in the database; the message lists the known edges.
    """
    canonical = canonical_edge_name(name)
    database = load_edge_database()
    if canonical not in database:
        raise KeyError(
            f"edge {name!r} is not in the cryospec edge database; known edges: "
            + ", ".join(list_edges())
        )
    return database[canonical]
