"""What a quantification records of how it was made: the cross-sections it used (method and
each edge's partial cross-section) and what the white-line rule did to each edge."""

from __future__ import annotations

from typing import Any

from cryospec.core.cross_sections import partial_cross_section
from cryospec.core.quantify import quantification_window
from cryospec.edges.white_lines import white_line_extent_eV

__all__ = ["cross_section_record", "white_line_notes"]


def white_line_notes(entries, method: str, near: dict[str, float]) -> list[str]:
    """What the white-line rule did to each edge that has white lines."""
    notes = []
    for entry in entries:
        extent = white_line_extent_eV(entry)
        if extent is None:
            continue
        if method == "model":
            lo, hi = entry.onset_eV, entry.onset_eV + near.get(entry.name, extent)
            where = f"{lo:g}-{hi:g} eV left out of the fit, the continuum above them fitted"
        else:
            lo, hi = quantification_window(entry)
            where = f"the continuum above them integrated, {lo:g}-{hi:g} eV"
        notes.append(f"{entry.name}: white lines, which no atomic cross-section holds: {where}")
    return notes


def cross_section_record(
    entries, microscope, cross_section: str, windows: dict | None = None
) -> dict[str, Any]:
    """The cross-sections a quantification used: the method, and every edge's partial
    cross-section over its integration window (barn) at the microscope's settings; the
    integration method's ``windows`` are the ranges its channels cover."""
    method = {
        "hydrogenic": "hydrogenic (Egerton's SIGMAK/SIGMAL models)",
        "hartree-slater": "Hartree-Fock-Slater GOS (cryospec, computed offline)",
    }[cross_section]
    edges = {}
    for entry in entries:
        window = (windows or {}).get(entry.name) or quantification_window(entry)
        edges[entry.name] = {
            "window_eV": list(window),
            "partial_cross_section_barn": partial_cross_section(
                entry, window, *microscope, cross_section=cross_section
            ),
        }
    return {"choice": cross_section, "method": method, "edges": edges}
