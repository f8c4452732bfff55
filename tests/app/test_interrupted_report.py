"""A report killed at a random point (SIGKILL: no clean-up runs) and run again gives the same
outputs as an uninterrupted run and leaves no temporary file behind (issue #20)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cryospec.data import li_lipon

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{32}(\..+)?$")  # app/atomic's temporary names


def _report(inputs: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "cryospec", "report", str(inputs), "--out", str(out)]
    return subprocess.Popen(
        [*command, "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _outputs(out: Path) -> dict[str, object]:
    """Every output file's content; results.json without its run time, the pages without the
    run time they print, run_log.json left out (it records when and how long)."""
    found = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        if name == "run_log.json":
            continue
        if path.suffix == ".json":
            value = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(value, dict):
                value.pop("runtime_s", None)
            found[name] = value
        elif path.suffix == ".html":
            found[name] = re.sub(r"\d+\.\d+ s\b", "T s", path.read_text(encoding="utf-8"))
        else:
            found[name] = path.read_bytes()
    return found


def test_a_killed_report_rerun_gives_the_same_outputs_and_no_temporary_file(tmp_path):
    inputs = tmp_path / "in"
    for name, row_seed in (("a", 0), ("b", 1)):
        core_loss, low_loss, _ = li_lipon(shape=(4, 16), seed=row_seed)
        core_loss.save(inputs / f"{name}.hspy")
        low_loss.save(inputs / f"{name}_low_loss.hspy")
    started = time.perf_counter()
    assert _report(inputs, tmp_path / "whole").wait(timeout=600) == 0
    duration = time.perf_counter() - started

    killed = _report(inputs, tmp_path / "killed")
    # a random point of the run, the same on every machine's run of the suite
    time.sleep(random.Random(20).uniform(0.3 * duration, 0.9 * duration))
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert _report(inputs, tmp_path / "killed").wait(timeout=600) == 0

    stray = [p for p in (tmp_path / "killed").rglob("*") if TEMPORARY.match(p.name)]
    assert not stray
    assert _outputs(tmp_path / "killed") == _outputs(tmp_path / "whole")
