"""Copies of test input files in a folder of their own (a test never reads its inputs in place
when the command it runs reads a whole folder)."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_inputs(source: Path, folder: Path, names: tuple[str, ...]) -> Path:
    """Copy ``names`` from ``source`` into the new folder ``folder``; returns ``folder``."""
    folder.mkdir()
    for name in names:
        shutil.copy(source / name, folder / name)
    return folder
