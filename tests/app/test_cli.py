"""The cryospec command line: help on every subcommand, the demo, the edge listing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from browser import assert_page_loads, chromium

from cryospec.app.cli import build_parser, main


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["demo", "--help"],
        ["edges", "--help"],
        ["quantify", "--help"],
        ["profile", "--help"],
        ["report", "--help"],
    ],
)
def test_help_on_every_subcommand(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert "usage: cryospec" in capsys.readouterr().out


def test_every_subcommand_is_documented():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert set(subparsers.choices) == {"demo", "edges", "quantify", "profile", "report"}
    for sub in subparsers.choices.values():
        assert sub.description


def test_console_script_is_installed():
    exe = shutil.which("cryospec")
    command = [exe] if exe else [sys.executable, "-m", "cryospec"]
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("cryospec ")


def test_edges_of_an_element(capsys):
    assert main(["edges", "--element", "Ti", "La"]) == 0
    out = capsys.readouterr().out
    assert "Ti_L23" in out and "456.0" in out and "La_M45" in out
    assert "xraydb" in out and "exspy" in out  # each onset with its source


def test_edges_lists_the_database(capsys):
    assert main(["edges", "Li_K", "P_L2,3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Li_K\s+55\.0", out)
    assert re.search(r"P_L23\s+132\.0", out)


def test_unknown_edge_is_a_clear_error(capsys):
    assert main(["edges", "Xx_K"]) == 2
    assert "not in the cryospec edge database" in capsys.readouterr().err


def test_demo_writes_report_and_summary(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--shape", "4", "64", "--seed", "1"]) == 0
    printed = capsys.readouterr()
    assert "index.html" in printed.out
    # a line per step while it works, numbered to the last
    steps = [line for line in printed.err.splitlines() if re.match(r"\[\d/7 ", line)]
    assert len(steps) == 7 and steps[-1].endswith("done")
    html = (out / "truth.html").read_text(encoding="utf-8")
    # the measured interfaces stand next to their truth, and every 50 % position is measured
    for label in (r"Li \| interphase interface", r"interphase \| LiPON interface"):
        row = re.search(label + r".*?</tr>", html).group(0)
        assert "—" not in row and re.search(r"\d+\.\d \[\d+\.\d, \d+\.\d\]", row)
    for row in re.findall(r"50 % position / 10-90 % width.*?</tr>", html):
        assert "—" not in row
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) >= 5
    for src in images:
        png = out / src
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["dataset"]["shape"] == [4, 64]
    assert summary["dose"]["e_per_A2_per_pixel"] == pytest.approx(summary["dose"]["truth_e_per_A2"])
    assert summary["thickness"]["t_over_lambda_median_abs_error"] < 0.02
    assert summary["truth"]["interphase_thickness_nm"] == pytest.approx(76.0)
    # The measured depth profiles follow the true number densities.
    for edge in ("Li_K", "P_L23", "O_K"):
        assert summary["edge_signal_profiles"][edge]["fitted_scale_to_truth"] > 0
    # The dose map and the Li K background fit are shown; the background is checked vs truth.
    assert "figures/dose.png" in images and "figures/li_k_background.png" in images
    assert "figures/quantification.png" in images
    for pair, value in summary["quantification"]["atomic_ratios_O_plateau"].items():
        assert value["measured"] == pytest.approx(value["truth"], rel=0.1), pair
    assert abs(summary["background"]["edge_signal_vs_truth"]["Li_K"]["bias_percent"]) < 3
    assert summary["damage_flags"]["Li metal"]["flagged_fraction"] == 0.0
    # The demo writes the batch report of the same datasets, linking the truth page.
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="truth.html"' in index
    rows = (out / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("dataset,kind,status") and len(rows) == 3  # EELS + EDX
    assert all(",done," in row for row in rows[1:])
    # No temporary files are left behind by the atomic writes.
    assert not list(out.rglob(".*"))
    # Every page of the demo opens in a browser with its images and no script error.
    browser = chromium()
    if browser or os.environ.get("CI"):
        assert browser, "CI must provide chromium"
        for page in [out / "index.html", out / "truth.html", *out.glob("datasets/*/index.html")]:
            assert_page_loads(browser, page, tmp_path / "profile")


def test_demo_into_a_file_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["demo", "--out", str(blocker), "--shape", "2", "16"]) == 2
    assert "error" in capsys.readouterr().err
    assert blocker.read_text(encoding="utf-8") == "x"


def test_quantify_command(tmp_path, capsys):
    import hashlib

    import hyperspy.api as hs

    from cryospec.data import li_lipon

    core_loss, low_loss, truth = li_lipon(shape=(4, 64), seed=2)
    core_loss.save(tmp_path / "cl.hspy")
    low_loss.save(tmp_path / "ll.hspy")
    before = hashlib.sha256((tmp_path / "cl.hspy").read_bytes()).hexdigest()
    out = tmp_path / "q"
    argv = [
        "quantify",
        str(tmp_path / "cl.hspy"),
        "--low-loss",
        str(tmp_path / "ll.hspy"),
        "--edges",
        "Li_K,P_L23,N_K,O_K",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "atomic fraction" in printed
    assert "median standard error" in printed  # the error of the value, beside its spread
    # a line per step while it works
    assert [line[:5] for line in captured.err.splitlines() if line.startswith("[")] == [
        "[1/3 ",
        "[2/3 ",
        "[3/3 ",
    ]
    summary = json.loads((out / "quantification.json").read_text(encoding="utf-8"))
    assert summary["units"] == "atoms/nm²"
    o_mean = summary["elements"]["O"]["areal_density_mean"]
    assert o_mean == pytest.approx(truth.areal_density["O"].mean(), rel=0.05)
    maps = hs.load(out / "quantification.hspy")
    assert "areal_density:O" in maps.metadata.CryoSpec.Quantification.maps
    assert hashlib.sha256((tmp_path / "cl.hspy").read_bytes()).hexdigest() == before
    assert not list(out.glob(".*"))


def test_quantify_command_errors(tmp_path, capsys):
    assert (
        main(
            [
                "quantify",
                str(tmp_path / "missing.hspy"),
                "--edges",
                "O_K",
                "--out",
                str(tmp_path / "q"),
            ]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err


def test_profile_command(tmp_path, capsys):
    from cryospec.data import li_lipon

    core_loss, low_loss, _ = li_lipon(shape=(8, 64), seed=4)
    core_loss.save(tmp_path / "cl.hspy")
    low_loss.save(tmp_path / "ll.hspy")
    out = tmp_path / "p"
    argv = [
        "profile",
        str(tmp_path / "cl.hspy"),
        "--low-loss",
        str(tmp_path / "ll.hspy"),
        "--edges",
        "Li_K,P_L23,N_K,O_K",
        "--auto",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "position" in printed and "chi2/dof" in printed
    document = json.loads((out / "profile.json").read_text(encoding="utf-8"))
    assert document["model"] == "auto"
    for element in ("Li", "P", "N", "O"):
        entry = document[element]
        # the model chosen, why, and its goodness of fit
        assert entry["selection"]["chosen"] and entry["selection"]["reason"]
        assert {"reduced_chi2", "chi2_p_value", "runs_p_value", "passed"} <= set(entry["goodness"])
        assert entry["status"] in ("ok", "poor fit")
        if entry.get("position_status") is None:
            lo, hi = entry["position_ci_nm"]
            assert lo <= entry["position_nm"] <= hi
    assert (out / "profile.png").read_bytes()[:4] == b"\x89PNG"
    erf = [*argv[:-2], "--model", "erf", "--out", str(tmp_path / "e")]
    assert main(erf) == 0
    document = json.loads((tmp_path / "e" / "profile.json").read_text(encoding="utf-8"))
    for element in ("Li", "P", "N", "O"):
        entry = document[element]
        for key in ("position_nm", "position_ci_nm", "sigma_nm", "sigma_ci_nm", "width_10_90_nm"):
            assert key in entry, (element, key)
    line = [
        "profile",
        str(tmp_path / "cl.hspy"),
        "--low-loss",
        str(tmp_path / "ll.hspy"),
        "--edges",
        "P_L23,O_K",
        "--line",
        "0,5,155,5",
        "--width",
        "7.5",
        "--model",
        "multilayer",
        "--layers",
        "2",
        "--out",
        str(tmp_path / "q"),
    ]
    assert main(line) == 0
    document = json.loads((tmp_path / "q" / "profile.json").read_text(encoding="utf-8"))
    assert len(document["O"]["interfaces_nm"]) == 2
    assert document["O"]["thickness_nm"] > 0


def test_profile_command_on_a_line_scan(tmp_path, capsys):
    """A line scan (1-D navigation) is profiled along its one axis."""
    from cryospec.data import li_lipon

    core_loss, low_loss, _ = li_lipon(shape=(2, 64), seed=4)
    core_loss.inav[:, 0].save(tmp_path / "line.hspy")
    low_loss.inav[:, 0].save(tmp_path / "line_ll.hspy")
    argv = ["profile", str(tmp_path / "line.hspy"), "--low-loss", str(tmp_path / "line_ll.hspy")]
    argv += ["--edges", "Li_K,P_L23,N_K,O_K", "--auto", "--out", str(tmp_path / "p")]
    assert main(argv) == 0
    document = json.loads((tmp_path / "p" / "profile.json").read_text(encoding="utf-8"))
    assert document["O"]["position_nm"] == pytest.approx(40.0, abs=5.0)


def test_profile_command_needs_a_line_or_auto(tmp_path, capsys):
    from cryospec.data import li_lipon

    core_loss, _, _ = li_lipon(shape=(2, 32), seed=4)
    core_loss.save(tmp_path / "cl.hspy")
    assert (
        main(["profile", str(tmp_path / "cl.hspy"), "--edges", "O_K", "--out", str(tmp_path / "p")])
        == 2
    )
    assert "--auto" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["report", "x", "--out", "y", "--workers", "-1"], "--workers"),
        (["report", "x", "--out", "y", "--workers", "0"], "--workers"),
        (["profile", "x", "--edges", "O_K", "--out", "y", "--width", "-5"], "--width"),
        (["profile", "x", "--edges", "O_K", "--out", "y", "--stripes", "0"], "--stripes"),
        (["quantify", "x", "--edges", "O_K", "--out", "y", "--beam-energy", "0"], "--beam-energy"),
        (
            ["quantify", "x", "--edges", "O_K", "--out", "y", "--detector-gain", "nan"],
            "--detector-gain",
        ),
        (
            ["quantify", "x", "--edges", "O_K", "--out", "y", "--memory-budget", "-3"],
            "--memory-budget",
        ),
    ],
)
def test_numeric_options_are_checked_at_parse_time(argv, option, capsys):
    """A bad number is refused at once, naming the option and the value (``--workers -1`` used
    to hang in the cluster start)."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "is not a" in err


def test_each_log_message_is_shown_once():
    """HyperSpy logs its Numba notice at every decorated call (7 times per command, twice
    each with the root handler): the CLI lets each distinct message through once."""
    import logging

    from cryospec.app.console import _each_log_message_once

    _each_log_message_once()
    _each_log_message_once()  # idempotent
    logger = logging.getLogger("hyperspy.decorators")
    assert len([f for f in logger.filters if type(f).__name__ == "_OncePerMessage"]) == 1
    shown = []

    class Keep(logging.Handler):
        def emit(self, record):
            shown.append(record.getMessage())

    keep = Keep()
    logger.addHandler(keep)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        for _ in range(3):
            logger.warning("a notice repeated at every call (test)")
        logger.warning("another notice (test)")
    finally:
        logger.removeHandler(keep)
        logger.setLevel(level)
    assert shown == ["a notice repeated at every call (test)", "another notice (test)"]


def test_no_warning_is_printed_twice_by_the_demo(tmp_path):
    """The demo as a user runs it (its own process): each warning and log notice once
    (HyperSpy repeats its Numba notice at every decorated call, two handlers printed it, and
    library warnings came from several call sites)."""
    import collections
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "cryospec", "demo", "--out", str(tmp_path / "d"),
         "--shape", "4", "64"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [
        line
        for line in (run.stdout + run.stderr).splitlines()
        if re.search(r"Warning\b|WARNING", line)
    ]
    assert lines, "the demo's fits warn about poor profiles: the count must see them"
    repeated = {line: n for line, n in collections.Counter(lines).items() if n > 1}
    assert repeated == {}
