"""The plans of local and segmented fits, and the onset test for edges not requested."""

from __future__ import annotations

import numpy as np
import pytest

from cryospec.core.local_fit import LOCAL_MARGIN_EV, local_fit_plan, segment_plan
from cryospec.core.unrequested_edges import find_unrequested_edges
from cryospec.edges import get_edge

ONSETS = [55.0, 132.0, 401.0, 532.0]  # Li K, P L2,3, N K, O K
NEAR = [25.0, 10.0, 15.0, 15.0]
WINDOW_ENDS = [53.0, 127.0, 395.0, 525.0]


def test_local_plan_nests_the_ranges_below_each_next_edge():
    plan = local_fit_plan(ONSETS, NEAR, WINDOW_ENDS, 644.0)
    assert [step.quantified for step in plan] == [(0,), (1,), (2,), (3,)]
    assert [step.fitted for step in plan] == [(0,), (0, 1), (0, 1, 2), (0, 1, 2, 3)]
    assert [step.end_eV for step in plan] == [
        132.0 - LOCAL_MARGIN_EV,
        401.0 - LOCAL_MARGIN_EV,
        532.0 - LOCAL_MARGIN_EV,
        None,
    ]
    assert all(step.window_eV is None for step in plan)


def test_local_plan_groups_edges_too_close_to_fit_apart():
    plan = local_fit_plan([456.0, 462.0], [18.0, 10.0], [447.0, 450.0], 600.0)
    assert len(plan) == 1
    assert plan[0].quantified == (0, 1)


def test_an_unrequested_edge_cuts_the_plans():
    """Li K and O K requested, an edge at 396 eV found: Li K stops below it, O K is fitted
    apart from a pre-edge window 20 eV above it."""
    for plan in (
        local_fit_plan([55.0, 532.0], [25.0, 15.0], [53.0, 525.0], 644.0, (396.0,)),
        segment_plan([55.0, 532.0], [53.0, 525.0], 644.0, (396.0,)),
    ):
        assert [step.fitted for step in plan] == [(0,), (1,)]
        assert plan[0].end_eV == 396.0 - LOCAL_MARGIN_EV
        assert plan[1].end_eV is None
        assert plan[1].window_eV == (532.0 - 100.0, 525.0)
    only_li = segment_plan([55.0], [53.0], 644.0, (396.0, 520.0))
    assert len(only_li) == 1 and only_li[0].end_eV == 391.0


def _spectrum(with_edge_at: float | None):
    energy = np.arange(40.0, 700.0, 0.3)
    counts = 1e7 * (energy / 50.0) ** -3.0
    if with_edge_at is not None:
        above = energy >= with_edge_at
        counts[above] += (
            0.15 * 1e7 * (with_edge_at / 50.0) ** -3.0 * (energy[above] / with_edge_at) ** -2.5
        )
    return energy, counts


def test_onset_test_finds_an_edge_that_was_not_requested():
    energy, counts = _spectrum(401.0)
    requested = [get_edge("Li_K"), get_edge("O_K")]
    found = find_unrequested_edges(counts, energy, requested, {"Li_K": 25.0, "O_K": 15.0}, 700.0)
    assert len(found) == 1
    assert 395.0 <= found[0].onset_eV <= 401.0
    assert "N_K" in found[0].candidates
    assert found[0].relative_excess > 0.05
    assert "not requested rises at" in found[0].describe()


def test_onset_test_is_quiet_on_a_smooth_background():
    energy, counts = _spectrum(None)
    requested = [get_edge("Li_K")]
    assert find_unrequested_edges(counts, energy, requested, {"Li_K": 25.0}, 700.0) == []


@pytest.mark.parametrize("edge", ["N_K", "Ti_L23"])
def test_no_test_inside_a_requested_edge_or_just_below_it(edge):
    """A requested edge's own rise is not an unrequested edge, nor is a rise within 15 eV
    below its tabulated onset (calibration offsets)."""
    onset = get_edge(edge).onset_eV
    energy, counts = _spectrum(onset - 10.0)
    found = find_unrequested_edges(counts, energy, [get_edge("Li_K"), get_edge(edge)], {}, 700.0)
    assert found == []
