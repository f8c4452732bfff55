"""Gradient fits on the built-in dataset as the report makes them: the model chosen, goodness of
fit, steps outside the field, pixels without signal, line scans (issue: gradient fits)."""

from __future__ import annotations

import pytest

from cryospec.app.figures import element_profiles
from cryospec.app.report.analysis import thickness_element
from cryospec.data import li_lipon

EDGES = ["Li_K", "P_L23", "N_K", "O_K"]
PIXEL_NM = 2.5


@pytest.fixture(scope="module")
def demo():
    """The demo's dataset (shape and seed of ``cryospec demo``), quantified."""
    core_loss, low_loss, truth = li_lipon(shape=(24, 64), seed=0)
    return core_loss, low_loss, truth, core_loss.quantify(EDGES, low_loss=low_loss)


def test_demo_li_and_o_profiles_are_described_by_the_chosen_model(demo):
    *_, result = demo
    profiles = element_profiles(result, ["Li", "O"], model="auto")
    for element in ("Li", "O"):
        summary = profiles["elements"][element]
        assert summary["status"] == "ok", summary.get("notes")
        assert summary["goodness"]["reduced_chi2"] < 2.0
        assert summary["goodness"]["runs_p_value"] >= 0.01
        assert summary["model"] == "multilayer"  # Li | interphase | LiPON: more than one step
        assert summary["selection"]["chosen"].startswith("multilayer")
    interfaces = profiles["elements"]["Li"]["interfaces_nm"]
    _, _, truth, _ = demo
    assert interfaces[0] == pytest.approx(truth.geometry.li_interface_nm, abs=2 * PIXEL_NM)
    assert interfaces[-1] == pytest.approx(truth.geometry.lipon_interface_nm, abs=2 * PIXEL_NM)


def test_demo_interphase_thickness_within_ten_percent(demo):
    *_, truth, result = demo
    element = thickness_element("auto", list(result.areal_density))
    assert element == "Li"
    layered = element_profiles(result, [element], model="multilayer", n_layers=None)
    summary = layered["elements"][element]
    assert summary["status"] == "ok"
    assert summary["thickness_nm"] == pytest.approx(truth.interphase_thickness_nm, rel=0.10)
    low, high = summary["thickness_ci_nm"]
    assert 0 < low < summary["thickness_nm"] < high


def test_steps_outside_a_narrow_map_are_no_step_within_the_field(demo):
    """A map 77.5 nm wide (31 columns, Li side): the P and N steps lie beyond it."""
    core_loss, low_loss, truth, _ = demo
    columns = 31
    assert truth.gradients["P"]["erf_position_nm"] > columns * PIXEL_NM
    assert truth.gradients["N"]["erf_position_nm"] > columns * PIXEL_NM
    narrow = core_loss.inav[:columns, :].quantify(EDGES, low_loss=low_loss.inav[:columns, :])
    profiles = element_profiles(narrow, ["P", "N", "O"], model="auto")
    for element in ("P", "N"):
        summary = profiles["elements"][element]
        assert summary["position_status"] == "no step within the field", summary
        assert summary["position_nm"] is None and summary["position_ci_nm"] is None
    o = profiles["elements"]["O"]
    assert o["position_nm"] == pytest.approx(truth.geometry.li_interface_nm, abs=2 * PIXEL_NM)


def test_readme_multilayer_example_without_li(demo):
    """`--edges P_L23,O_K --line 0,5,155,5 --width 7.5 --model multilayer --layers 0`: the
    Li-metal pixels, where neither P nor O is present, are left out of the fraction profiles;
    the P rise is found within 2 pixels of the truth."""
    core_loss, low_loss, truth, _ = demo
    result = core_loss.quantify(["P_L23", "O_K"], low_loss=low_loss)
    profiles = element_profiles(
        result, ["P"], line=(0, 5, 155, 5), width=7.5, model="multilayer", n_layers=None
    )
    summary = profiles["elements"]["P"]
    assert any("left out of the atomic-fraction profile" in n for n in summary["notes"])
    resolved = [
        x
        for x, step in zip(summary["interfaces_nm"], summary["steps"], strict=True)
        if step["status"] == "resolved"
    ]
    true_rise = truth.gradients["P"]["erf_position_nm"]
    assert resolved, summary
    assert min(abs(x - true_rise) for x in resolved) < 2 * PIXEL_NM


def test_a_line_scan_gives_the_positions_of_the_map_row(demo):
    """One row of the map as a 1-D line scan, as a 1-row map, and the whole map."""
    core_loss, low_loss, _truth, result = demo
    row = 11
    line = core_loss.inav[:, row].quantify(EDGES, low_loss=low_loss.inav[:, row])
    assert line.atomic_fraction["O"].data.ndim == 1
    one_row = core_loss.inav[:, row : row + 1].quantify(
        EDGES, low_loss=low_loss.inav[:, row : row + 1]
    )
    fits = {
        name: element_profiles(q, ["O", "P"], model="erf")["elements"]
        for name, q in (("line", line), ("row", one_row), ("map", result))
    }
    for element in ("O", "P"):
        assert fits["line"][element]["position_nm"] == pytest.approx(
            fits["row"][element]["position_nm"], abs=1e-6
        )
        # one row against the whole map: the positions agree within their intervals combined
        a, b = fits["line"][element], fits["map"][element]
        half = [(ci[1] - ci[0]) / 2 for ci in (a["position_ci_nm"], b["position_ci_nm"])]
        assert abs(a["position_nm"] - b["position_nm"]) < max(sum(half), PIXEL_NM)
