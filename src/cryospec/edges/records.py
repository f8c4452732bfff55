"""The edge database: ionisation edges, their windows, overlaps and fine-structure markers.

The data live in one YAML file per edge in the repository's ``edges/`` folder, shipped inside
the wheel as ``cryospec/edges/database``. This module is the one small API that reads them.

Edge names are ``Element_Shell`` everywhere in cryospec (``Li_K``, ``P_L23``, ``Co_M23``);
exspy's spelling (``P_L2,3``, ``Co_M2,3``) is accepted as well.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

# libyaml's loader when PyYAML was built with it (the generated table loads 20x faster)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "Edge",
    "EdgeDatabaseError",
    "FineStructureMarker",
    "canonical_edge_name",
    "edge_database_path",
    "edges_in_range",
    "get_edge",
    "list_edges",
    "load_edge_database",
    "use_user_edges",
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


USER_EDGES_VARIABLE = "CRYOSPEC_USER_EDGES"
_user_paths: tuple[str, ...] = ()


def _read_yaml(file: Path) -> Any:
    try:
        return yaml.load(file.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise EdgeDatabaseError(f"{file}: not valid YAML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise EdgeDatabaseError(f"{file}: cannot be read ({exc})") from exc


def _records_of(file: Path, where: str) -> list[Edge]:
    """The edges of one file: a single record, or ``{"edges": [record, ...]}``."""
    content = _read_yaml(file)
    if isinstance(content, dict) and set(content) == {"edges"}:
        if not isinstance(content["edges"], list):
            raise EdgeDatabaseError(f"{where}: 'edges' must be a list of edge records")
        return [
            validate_edge_record(record, f"{where}, record {i + 1}")
            for i, record in enumerate(content["edges"])
        ]
    return [validate_edge_record(content, where)]


def _user_files(paths: tuple[str, ...]) -> list[Path]:
    files = []
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir():
            found = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
            if not found:
                raise EdgeDatabaseError(f"user edge folder {path} holds no *.yaml file")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise EdgeDatabaseError(f"user edge file {path} does not exist")
    return files


@functools.cache
def _load_cached(folder: str, user: tuple[str, ...] = ()) -> dict[str, Edge]:
    path = Path(folder)
    curated_files = sorted(path.glob("*.yaml"))
    generated_files = sorted((path / "generated").glob("*.yaml"))
    if not curated_files and not generated_files:
        raise EdgeDatabaseError(f"no edge files (*.yaml) in {path}")
    database: dict[str, Edge] = {}
    for file in generated_files:
        database.update((e.name, e) for e in _records_of(file, f"generated/{file.name}"))
    for file in curated_files:
        (edge,) = _records_of(file, file.name)
        if edge.name != file.stem:
            raise EdgeDatabaseError(
                f"{file.name}: holds edge {edge.name!r}; name the file after it"
            )
        database[edge.name] = edge
    for file in _user_files(user):
        database.update((e.name, e) for e in _records_of(file, str(file)))
    for edge in database.values():
        unknown = [o for o in edge.overlaps if o not in database]
        if unknown:
            raise EdgeDatabaseError(f"{edge.name}.yaml: overlaps unknown edge(s) {unknown}")
    return database


def use_user_edges(*paths: str | Path) -> None:
    """Add or override edge records from your own YAML files or folders, for this process.

    Each file holds one record or ``{"edges": [record, ...]}`` in the schema of the shipped
    files (``edges/README.md``) and is validated like them; a record overrides the shipped one
    of the same name. The same can be set before Python starts with the environment variable
    ``CRYOSPEC_USER_EDGES`` (paths separated by ``os.pathsep``); both are read, the variable
    first. ``use_user_edges()`` with no path goes back to the variable's files (or none).

    Raises
    ------
    EdgeDatabaseError
        A missing file or folder, invalid YAML, a record that breaks the schema.
    """
    global _user_paths
    resolved = tuple(str(Path(p).expanduser().resolve()) for p in paths)
    _load_cached(str(edge_database_path().resolve()), _configured_user_paths(resolved))
    _user_paths = resolved


def _configured_user_paths(extra: tuple[str, ...] | None = None) -> tuple[str, ...]:
    variable = tuple(p for p in os.environ.get(USER_EDGES_VARIABLE, "").split(os.pathsep) if p)
    return variable + (_user_paths if extra is None else extra)


def load_edge_database(
    path: str | Path | None = None, user_edges: Sequence[str | Path] | None = None
) -> dict[str, Edge]:
    """Read and validate every edge record.

    The shipped database holds the curated records (one file per edge in ``edges/``, with
    windows, overlaps and fine-structure markers) and, under ``edges/generated/``, a record for
    every shell of Z = 3..92 with an onset between 10 eV and 3 keV (onsets from exspy's EELS
    table, else xraydb's X-ray binding energies; each record names its source). Curated records
    override generated ones; user records override both.

    Parameters
    ----------
    path : str or Path, optional
        A folder of edge files; by default the database that ships with cryospec.
    user_edges : sequence of str or Path, optional
        Your own edge files or folders (default: those of :func:`use_user_edges` and of the
        ``CRYOSPEC_USER_EDGES`` environment variable).

    Returns
    -------
    dict
        Canonical edge name -> :class:`Edge`. The result is cached: do not mutate it.
    """
    folder = Path(path) if path is not None else edge_database_path()
    user = (
        _configured_user_paths()
        if user_edges is None
        else tuple(str(Path(p).expanduser().resolve()) for p in user_edges)
    )
    return _load_cached(str(folder.resolve()), user)


def list_edges(element: str | None = None) -> list[str]:
    """Canonical names of the edges of the database (of one element), sorted by onset."""
    database = load_edge_database()
    names = [n for n, e in database.items() if element is None or e.element == element]
    if element is not None and not names:
        raise KeyError(f"no edge of element {element!r} between 10 eV and 3 keV in the database")
    return sorted(names, key=lambda n: database[n].onset_eV)


def edges_in_range(lo: float, hi: float, elements: Sequence[str] | None = None) -> list[Edge]:
    """The edges (of ``elements``, when given) whose onset lies in ``[lo, hi]`` eV, by onset."""
    database = load_edge_database()
    chosen = [
        e
        for e in database.values()
        if lo <= e.onset_eV <= hi and (elements is None or e.element in elements)
    ]
    return sorted(chosen, key=lambda e: e.onset_eV)


def get_edge(name: str) -> Edge:
    """Return one edge of the database (shipped records and the user's, see
    :func:`load_edge_database`).

    Parameters
    ----------
    name : str
        Canonical (``"P_L23"``, ``"Ti_L23"``) or exspy (``"P_L2,3"``) spelling.

    Raises
    ------
    KeyError
        If the edge is not in the database; the message lists the element's edges, or says that
        the shell has no onset between 10 eV and 3 keV.
    """
    canonical = canonical_edge_name(name)
    database = load_edge_database()
    if canonical not in database:
        element = canonical.split("_")[0]
        known = [n for n in database if database[n].element == element]
        hint = (
            f"known edges of {element}: "
            + ", ".join(sorted(known, key=lambda n: database[n].onset_eV))
            if known
            else "known edges: every shell of Z = 3..92 with an onset between 10 eV and 3 keV "
            "(`cryospec edges` lists them)"
        )
        raise KeyError(
            f"edge {name!r} is not in the cryospec edge database; {hint}. "
            "Add your own record with cryospec.edges.use_user_edges(path)"
        )
    return database[canonical]
