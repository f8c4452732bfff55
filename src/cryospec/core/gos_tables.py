"""Hartree-Fock-Slater GOS tables of the edge database: computed once, cached on disk, written in
the GOSH layout that exspy reads.

A table depends only on the atom and the shell (not on the beam or the collection angle), so it
is computed once per element and shell (about 1-3 s) and kept in the user's cache folder:
``$CRYOSPEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/cryospec``, else ``~/.cache/cryospec``. A cache
file that cannot be read is recomputed, with a warning. Nothing is downloaded.
"""

from __future__ import annotations

import functools
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cryospec.core.cross_sections import integrate_over_q
from cryospec.core.gos import BOHR_NM, SHELL_ORBITALS, GOSTable, hfs_gos_table
from cryospec.edges import Edge, get_edge

__all__ = [
    "cache_folder",
    "gos_table",
    "hfs_differential_cross_section",
    "write_gosh",
]

TABLE_VERSION = 1  # bump when the calculation or the grids change: old cache files are ignored


def _z(element: str) -> int:
    import xraydb

    try:
        return int(xraydb.atomic_number(element))
    except Exception as exc:  # xraydb raises its own error types for unknown symbols
        raise ValueError(f"unknown element {element!r}") from exc


def cache_folder() -> Path:
    """The folder of the cached tables (created on first use)."""
    explicit = os.environ.get("CRYOSPEC_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser() / "gos"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cryospec" / "gos"


def _cache_file(element: str, shell: str, onset_eV: float) -> Path:
    return cache_folder() / f"v{TABLE_VERSION}" / f"{element}_{shell}_{onset_eV:g}.npz"


def _read(file: Path, element: str, shell: str) -> GOSTable | None:
    try:
        with np.load(file, allow_pickle=False) as data:
            table = GOSTable(
                element,
                shell,
                data["free_energy_eV"],
                data["q"],
                data["gos"],
                str(data["method"]),
            )
    except (FileNotFoundError, NotADirectoryError):
        return None
    except Exception as exc:  # a truncated or foreign file: compute the table again
        warnings.warn(
            f"the cached GOS table {file} cannot be read ({type(exc).__name__}: {exc}); "
            "it is computed again",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    if table.gos.shape != (table.free_energy_eV.size, table.q.size) or not np.all(
        np.isfinite(table.gos)
    ):
        warnings.warn(
            f"the cached GOS table {file} is inconsistent; it is computed again",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    return table


def _write(file: Path, table: GOSTable) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=file.parent, prefix=".", suffix=".npz")
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle,
                free_energy_eV=table.free_energy_eV,
                q=table.q,
                gos=table.gos,
                method=np.array(table.method),
            )
        os.replace(temporary, file)
    except OSError as exc:  # a read-only cache is no reason to fail: the table is in memory
        warnings.warn(f"the GOS table could not be cached in {file.parent}: {exc}", stacklevel=4)


@functools.lru_cache(maxsize=64)
def _table(element: str, shell: str, onset_eV: float) -> GOSTable:
    file = _cache_file(element, shell, onset_eV)
    table = _read(file, element, shell)
    if table is None:
        table = hfs_gos_table(element, shell, _z(element), onset_eV)
        _write(file, table)
    return table


def gos_table(edge: str | Edge) -> GOSTable:
    """The Hartree-Fock-Slater GOS table of an edge of the database, from the cache or computed.

    Raises
    ------
    ValueError
        A shell the calculation does not know, or one the atom has no electron in.
    """
    entry = get_edge(edge) if isinstance(edge, str) else edge
    if entry.shell not in SHELL_ORBITALS:
        raise ValueError(f"no Hartree-Fock-Slater GOS for the {entry.name} shell")
    return _table(entry.element, entry.shell, entry.onset_eV)


def hfs_differential_cross_section(
    edge: str | Edge,
    energy: NDArray,
    beam_energy_keV: float,
    collection_mrad: float,
    convergence_mrad: float = 0.0,
) -> NDArray:
    """dsigma/dE (barn/eV) of an edge from its Hartree-Fock-Slater GOS; zero below the onset."""
    entry = get_edge(edge) if isinstance(edge, str) else edge
    table = gos_table(entry)
    e = np.asarray(energy, dtype=float)
    out = np.zeros_like(e)
    above = e > entry.onset_eV
    if above.any():

        def gos(ee, qa02):
            return table.at(ee - entry.onset_eV, np.sqrt(qa02))

        out[above] = integrate_over_q(
            e[above], gos, beam_energy_keV, collection_mrad, convergence_mrad
        )
    return out


# The exspy subshell a table is filed under (the combined shells under their lower level, with
# the whole shell's occupancy: occupancy_ratio 1).
_GOSH_SUBSHELL = {
    "L23": "L3",
    "M23": "M3",
    "M45": "M5",
    "N23": "N3",
    "N45": "N5",
    "N67": "N7",
    "O23": "O3",
    "O45": "O5",
    "P23": "P3",
}


def write_gosh(edges: list[str | Edge], path: str | Path) -> Path:
    """Write the tables of ``edges`` as a GOSH file, for exspy's
    ``EELSCLEdge("Ti_L3", GOS="dft", gos_file_path=path)``.

    Combined shells are filed under their lower level (``Ti_L23`` as ``Ti_L3``) and hold the
    whole shell. The file is written to a temporary name and moved into place.
    """
    import h5py

    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".gosh")
    os.close(fd)
    try:
        with h5py.File(temporary, "w") as h:
            info = h.require_group("metadata/edges_info")
            h.require_group("metadata/data_ref").attrs["data_doi"] = (
                "cryospec Hartree-Fock-Slater GOS (computed offline)"
            )
            for item in edges:
                entry = get_edge(item) if isinstance(item, str) else item
                table = gos_table(entry)
                subshell = _GOSH_SUBSHELL.get(entry.shell, entry.shell)
                if subshell not in info:
                    group = info.create_group(subshell)
                    group.attrs["table"] = subshell
                    group.attrs["occupancy_ratio"] = 1.0
                data = h.require_group(f"{entry.element}/{subshell}")
                data["data"] = table.gos.T[:, :, None]
                data["q"] = table.q / (BOHR_NM * 1e-9)  # 1/bohr -> 1/m
                data["free_energies"] = table.free_energy_eV
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path
