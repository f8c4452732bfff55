"""Background windows, and the stronger edges of the declared elements below an edge whose tails
lie under it: what :meth:`~cryospec.signals.CryoEELSSpectrum.subtract_background` fits over.

A power law fitted below P L2,3 cannot follow the curved tail of Li K 77 eV below it, and P
comes out about 8 % low (README, "Background subtraction at low dose"). With
``preceding_edges="auto"`` the major edges of the sample's declared elements within
:data:`TAIL_REACH_EV` below the target are modelled as tails under it (power law plus their
cross-sections). It is not the default: on exspy-made data the tail's shape is not the data's
and the bias grows (README).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cryospec.edges import edges_in_range, get_edge
from cryospec.signals.axis_checks import energy_axis

__all__ = ["TAIL_REACH_EV", "auto_tails", "declared_tails", "resolve_windows"]

TAIL_REACH_EV = 100.0


# Shells whose edges are strong enough for their tails to matter under an edge above them.
_MAJOR_SHELLS = ("K", "L23", "M23", "M45")


def declared_tails(signal, edge: str) -> tuple[list[str], str]:
    """The edges to model as tails under ``edge``, and a note saying which.

    The K, L2,3, M2,3 and M4,5 edges of the sample's declared elements
    (``metadata.Sample.elements``) within :data:`TAIL_REACH_EV` below ``edge`` whose background
    windows lie on the axis. Undeclared elements are not guessed: an onset test on real
    spectra named the wrong element for a step (In M4,5 for the Ti L2,3 tail under O K in
    SrTiO3), and the tail of a wrong edge is a wrong background.

    Returns
    -------
    (list of str, str)
        Edge names (empty: a plain power law) and the note (empty when none).
    """
    target = get_edge(edge)
    energy = energy_axis(signal)
    declared = set(signal.metadata.get_item("Sample.elements", []) or [])
    chosen = [
        e.name
        for e in edges_in_range(target.onset_eV - TAIL_REACH_EV, target.onset_eV - 5.0)
        if e.shell in _MAJOR_SHELLS and e.element in declared and _windows_inside(e.name, energy)
    ]
    if not chosen:
        return [], ""
    return chosen, (
        f"the tail of {', '.join(chosen)} (a declared element's edge within "
        f"{TAIL_REACH_EV:g} eV below {target.name}) is modelled under it; preceding_edges=[] "
        "for a plain power law"
    )


def _windows_inside(name: str, energy: np.ndarray) -> bool:
    windows = get_edge(name).background_windows_eV
    return bool(windows) and all(energy[0] <= lo and hi <= energy[-1] for lo, hi in windows)


def auto_tails(signal, edge, windows, model, estimator):
    """``preceding_edges="auto"``: the declared elements' tails, where a tail model applies."""
    if edge is None or windows is not None or model != "power_law" or estimator != "ml":
        return None, ""
    return declared_tails(signal, edge)


def resolve_windows(
    axis, edge: str | None, windows: Any
) -> tuple[list[tuple[float, float]], float | None]:
    """Windows from the arguments or the edge database, checked against the energy axis."""
    onset = None
    if edge is not None:
        entry = get_edge(edge)
        onset = entry.onset_eV
        if windows is None:
            windows = entry.background_windows_eV
    if windows is None:
        raise ValueError("give an edge name (e.g. 'Li_K') or explicit windows [(lo, hi), ...]")
    windows = np.asarray(windows, dtype=float)
    if windows.ndim == 1:
        windows = windows[None, :]
    if windows.ndim != 2 or windows.shape[1] != 2:
        raise ValueError(f"windows must be (lo, hi) pairs in eV, got {windows.tolist()}")
    lo_axis, hi_axis = float(axis.axis[0]), float(axis.axis[-1])
    out = []
    for lo, hi in windows:
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"window [{lo}, {hi}] eV: need finite lo < hi")
        if lo < lo_axis - axis.scale / 2 or hi > hi_axis + axis.scale / 2:
            raise ValueError(
                f"window [{lo:g}, {hi:g}] eV lies outside the energy axis "
                f"[{lo_axis:g}, {hi_axis:g}] eV"
            )
        if onset is not None and hi > onset:
            raise ValueError(
                f"window [{lo:g}, {hi:g}] eV overlaps the {edge} onset at {onset:g} eV: "
                "background windows must end below the edge"
            )
        out.append((float(lo), float(hi)))
    return out, onset
