"""Edges in the data that were not asked for: found by an onset test, so that no requested edge
absorbs them.

A fit of the requested edges over a range that holds another edge puts that edge's signal into
the requested ones or the background (measured on exspy-made data holding Li K, N K and O K:
Li K alone over the whole axis -44 %, Li/O without N K -13 %). Before the fit, the map's summed
spectrum is tested at each onset of the edge database that lies in the fit range, where the
background is smooth: a power law fitted below the onset (from :data:`PRE_WINDOW_EV` to
:data:`MAX_PRE_WINDOW_EV`, as far as no requested edge's fine structure reaches) is
extrapolated over two windows of :data:`TEST_WINDOW_EV` above it. An edge is there when the
counts exceed the extrapolation in both windows by :data:`MIN_SIGNIFICANCE` standard errors
(the counts' Poisson variance and the extrapolation's) and by :data:`MIN_RELATIVE_EXCESS` of the
extrapolated level: a step, not a wiggle or the few-% error of an extrapolation.

No onset is tested where a requested edge's fine structure reaches (:func:`fine_structure_reach`:
20 eV beyond its near-edge region, or 10 eV + 8 % of its onset, whichever is more: the 565 eV
feature of oxides' O K lies 33 eV above the onset), nor with such a region in its pre-edge
window, nor within 15 eV below a requested onset (calibration offsets, pre-peaks): an
unrequested edge closer than that to a requested one is not found (a limit of this test;
P L2,3 77 eV above Li K is found).
The requested edge below a found one stops below it (:mod:`cryospec.core.local_fit`), and the
next requested edge starts afresh from its own pre-edge window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cryospec.core.background import fit_background, window_sum_variance
from cryospec.edges import Edge, edges_in_range

__all__ = [
    "UnrequestedEdge",
    "find_edges_below",
    "find_unrequested_edges",
    "fine_structure_reach",
]

PRE_WINDOW_EV = 25.0
MAX_PRE_WINDOW_EV = 80.0
TEST_GAP_EV = 3.0
TEST_WINDOW_EV = 20.0
MIN_SIGNIFICANCE = 5.0
MIN_RELATIVE_EXCESS = 0.05
# database onsets closer than this are one candidate (tested at the lowest)
_SAME_CANDIDATE_EV = 8.0
_BELOW_REQUESTED_EV = 15.0
# below the lowest requested edge the axis often starts close to an edge (Li K at 55 eV on an
# axis from 30 eV): a shorter pre-edge window is accepted there
MIN_PRE_WINDOW_BELOW_EV = 15.0
# candidate names listed in a description, the main shells first
_LISTED = 6
_SHELL_RANK = {"K": 0, "L23": 1, "M45": 2, "M23": 3, "N45": 4}
_NEAR_EV = 3.0


@dataclass(frozen=True)
class UnrequestedEdge:
    """An edge found in the data that was not requested."""

    onset_eV: float
    candidates: tuple[str, ...]
    significance: float
    relative_excess: float

    def describe(self) -> str:
        names = sorted(self.candidates, key=lambda n: _SHELL_RANK.get(n.split("_")[-1], 9))
        listed = ", ".join(names[:_LISTED])
        if len(names) > _LISTED:
            listed += f" and {len(names) - _LISTED} minor ones"
        return (
            f"an edge not requested rises at {self.onset_eV:g} eV (database edges there: "
            f"{listed}; {self.significance:.0f} standard errors, "
            f"{100 * self.relative_excess:.0f} % above the extrapolated background)"
        )


def _candidates(lo: float, hi: float, exclude: set[str]) -> list[tuple[float, list[str]]]:
    groups: list[tuple[float, list[str]]] = []
    for edge in edges_in_range(lo, hi):
        if edge.name in exclude:
            continue
        if groups and edge.onset_eV - groups[-1][0] < _SAME_CANDIDATE_EV:
            groups[-1][1].append(edge.name)
        else:
            groups.append((edge.onset_eV, [edge.name]))
    return groups


def fine_structure_reach(edge: Edge, near_edge_eV: float) -> float:
    """eV above the onset of a requested edge within which no other onset is tested."""
    return max(near_edge_eV + 20.0, 10.0 + 0.08 * edge.onset_eV)


def _pre_window_start(
    onset: float, requested: list[Edge], near_edge_eV: dict[str, float]
) -> float | None:
    """Where the pre-edge window of a candidate at ``onset`` may start (as far as
    :data:`MAX_PRE_WINDOW_EV` below it, not into a requested edge's fine structure), or None
    when the candidate cannot be tested."""
    start = onset - TEST_GAP_EV - MAX_PRE_WINDOW_EV
    for edge in requested:
        if onset < edge.onset_eV <= onset + _BELOW_REQUESTED_EV + TEST_GAP_EV + 2 * TEST_WINDOW_EV:
            return None  # a requested edge just above, or inside the test windows
        if edge.onset_eV <= onset:
            start = max(
                start, edge.onset_eV + fine_structure_reach(edge, near_edge_eV.get(edge.name, 0.0))
            )
    return start if onset - TEST_GAP_EV - start >= PRE_WINDOW_EV else None


def find_unrequested_edges(
    spectrum: NDArray,
    energy: NDArray,
    requested: list[Edge],
    near_edge_eV: dict[str, float],
    fit_end_eV: float,
    exclude: tuple[str, ...] = (),
) -> list[UnrequestedEdge]:
    """Unrequested edges in one (summed) spectrum of electron counts, lowest first.

    Parameters
    ----------
    spectrum : ndarray (n,)
        Electron counts (the map's sum).
    energy : ndarray (n,)
        Uniform energy axis.
    requested : list of Edge
        The requested edges; onsets above the lowest one are tested.
    near_edge_eV : dict
        Width above each requested onset left out of the fit.
    fit_end_eV : float
        End of the fit range.
    exclude : tuple of str
        Database edges not to test (nuisance edges fitted anyway).
    """
    energy = np.asarray(energy, dtype=float)
    counts = np.clip(np.asarray(spectrum, dtype=float), 0.0, None)
    lowest = min(e.onset_eV for e in requested)
    end = min(fit_end_eV, energy[-1]) - TEST_GAP_EV - 2 * TEST_WINDOW_EV
    found: list[UnrequestedEdge] = []
    skip_below = -np.inf
    names = {e.name for e in requested} | set(exclude)
    for onset, group in _candidates(lowest, end, names):
        start = _pre_window_start(onset, requested, near_edge_eV)
        if onset < skip_below or start is None:
            continue
        result = _step_test(counts, energy, onset, start)
        if result is None:
            continue
        found.append(UnrequestedEdge(float(onset), tuple(group), *result))
        above = [e.onset_eV for e in requested if e.onset_eV > onset]
        skip_below = min(above) if above else np.inf  # the stretch up to the next requested edge
    return found


def _step_test(
    counts: NDArray, energy: NDArray, onset: float, start: float
) -> tuple[float, float] | None:
    """(significance, relative excess) of the step at ``onset`` when both test windows pass."""
    pre = (energy >= start) & (energy < onset - TEST_GAP_EV)
    if pre.sum() < 10 or counts[pre].sum() <= 0:
        return None
    fit = fit_background(counts[pre], energy[pre])
    scores = []
    for k in range(2):
        lo = onset + 2.0 + k * TEST_WINDOW_EV
        window = (energy >= lo) & (energy < lo + TEST_WINDOW_EV)
        if window.sum() < 5:
            return None
        expected = float(np.sum(fit.evaluate(energy[window])))
        variance = expected + float(window_sum_variance(fit, energy[window]))
        excess = float(counts[window].sum()) - expected
        z, relative = excess / np.sqrt(max(variance, 1.0)), excess / max(expected, 1.0)
        if z < MIN_SIGNIFICANCE or relative < MIN_RELATIVE_EXCESS:
            return None
        scores.append((z, relative))
    return min(z for z, _ in scores), min(r for _, r in scores)


def find_edges_below(
    spectrum: NDArray, energy: NDArray, requested: list[Edge]
) -> list[UnrequestedEdge]:
    """Edges in one (summed) spectrum of electron counts below the lowest requested edge, by
    the same step test (a pre-edge window of at least :data:`MIN_PRE_WINDOW_BELOW_EV`).

    They do not bias the requested edges' fit, which starts above them, but the atomic
    fractions are then among the requested elements only (a core loss with Li K quantified
    without it: fractions among P, N and O in the Li metal). A test just below an edge passes
    too, so the onset is the database onset with the most significant step within a test
    window above the first that passes; the candidates are the edges within
    :data:`_NEAR_EV` of it.
    """
    energy = np.asarray(energy, dtype=float)
    counts = np.clip(np.asarray(spectrum, dtype=float), 0.0, None)
    lowest = min(e.onset_eV for e in requested)
    first = energy[0] + MIN_PRE_WINDOW_BELOW_EV + TEST_GAP_EV
    last = lowest - _BELOW_REQUESTED_EV - TEST_GAP_EV - 2 * TEST_WINDOW_EV
    names = {e.name for e in requested}
    edges = [e for e in edges_in_range(first, last) if e.name not in names]
    onsets = sorted({e.onset_eV for e in edges})
    found: list[UnrequestedEdge] = []
    floor = float(energy[0])

    def test(onset: float):
        return _step_test(
            counts, energy, onset, max(floor, onset - TEST_GAP_EV - MAX_PRE_WINDOW_EV)
        )

    for onset in onsets:
        if onset < floor + MIN_PRE_WINDOW_BELOW_EV + TEST_GAP_EV or test(onset) is None:
            continue
        scored = [(o, test(o)) for o in onsets if onset <= o < onset + TEST_WINDOW_EV]
        best, (z, relative) = max(
            ((o, r) for o, r in scored if r is not None), key=lambda item: item[1][0]
        )
        near = tuple(e.name for e in edges if abs(e.onset_eV - best) <= _NEAR_EV)
        found.append(UnrequestedEdge(float(best), near, float(z), float(relative)))
        # the next candidate's pre-edge window starts above this edge's fine structure
        floor = best + TEST_GAP_EV + 2 * TEST_WINDOW_EV
    return found
