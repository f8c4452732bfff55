"""White lines: the sharp threshold peaks that no atomic cross-section holds, and the rule for them.

The L2,3 edges of the 3d transition metals (Sc to Cu) and the M4,5 edges of Cs to Yb start with
two strong, narrow peaks, the "white lines" (transitions into the empty d or f states, L3 and L2,
or M5 and M4, apart by the spin-orbit splitting). A Hartree-Slater or hydrogenic cross-section
describes the continuum above them, not the peaks, whose strength depends on the valence and
the bonding. cryospec's rule (Egerton, *Electron Energy-Loss Spectroscopy in the Electron
Microscope*, 3rd ed., 2011, section 4.5.4; Leapman et al., Phys. Rev. B 26 (1982) 614):
the white lines are left out of the quantification, and the edge is quantified on its
continuum above them, where the atomic cross-section holds. The region left out runs from the
onset to the second white line's threshold (L2 or M4, from the X-ray binding energies of
``xraydb``, Elam's table) plus :data:`WHITE_LINE_TAIL_EV`, which covers the second line, its
crystal-field partner and the spectrometer resolution.
"""

from __future__ import annotations

import functools

from cryospec.edges.records import Edge

__all__ = ["WHITE_LINE_TAIL_EV", "has_white_lines", "white_line_extent_eV"]

# eV above the second white line's threshold where the threshold peaks have decayed: the L2 eg
# peak of Ti4+ lies about 5 eV above the L2 threshold, and a 1-2 eV resolution broadens it.
WHITE_LINE_TAIL_EV = 12.0

# (shell, lowest Z, highest Z, the two subshells whose thresholds bound the white lines)
_WHITE_LINE_SHELLS = (
    ("L23", 21, 29, ("L3", "L2")),
    ("M45", 55, 70, ("M5", "M4")),
)


def _white_line_subshells(edge: Edge) -> tuple[str, str] | None:
    return _subshells_of(edge.element, edge.shell)


@functools.lru_cache(maxsize=1024)
def _subshells_of(element: str, shell: str) -> tuple[str, str] | None:
    import xraydb

    try:
        z = int(xraydb.atomic_number(element))
    except Exception:  # xraydb raises its own types for a symbol it does not know
        return None
    for name, z_lo, z_hi, subshells in _WHITE_LINE_SHELLS:
        if shell == name and z_lo <= z <= z_hi:
            return subshells
    return None


def has_white_lines(edge: Edge) -> bool:
    """True for the L2,3 edges of Sc-Cu and the M4,5 edges of Cs-Yb."""
    return _white_line_subshells(edge) is not None


@functools.lru_cache(maxsize=256)
def _splitting_eV(element: str, first: str, second: str) -> float:
    import xraydb

    return float(xraydb.xray_edge(element, second).energy - xraydb.xray_edge(element, first).energy)


def white_line_extent_eV(edge: Edge) -> float | None:
    """Width above the onset that the white lines of ``edge`` cover, or None without any.

    The spin-orbit splitting of the two subshells (xraydb) plus :data:`WHITE_LINE_TAIL_EV`:
    18 eV for Ti L2,3, 23 eV for Mn L2,3, 29 eV for Ni L2,3 and La M4,5.
    """
    subshells = _white_line_subshells(edge)
    if subshells is None:
        return None
    return round(max(_splitting_eV(edge.element, *subshells), 0.0) + WHITE_LINE_TAIL_EV, 1)
