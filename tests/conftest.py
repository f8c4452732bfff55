"""Shared fixtures: small, deterministic synthetic datasets."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

logging.getLogger("hyperspy").setLevel(logging.ERROR)

DATA = Path(__file__).parent / "data"
REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def _checksums() -> dict[str, str]:
    files = [p for folder in (DATA, REAL_DATA) if folder.is_dir() for p in folder.rglob("*")]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


@pytest.fixture(scope="session", autouse=True)
def inputs_are_never_modified():
    """The SHA-256 of every input file the suite reads (tests/data, ../shared/realdata) is the
    same after the whole suite as before it: no command or call writes to its inputs. (Tests
    that write their own inputs check them themselves.)"""
    before = _checksums()
    yield
    after = _checksums()
    changed = sorted(k for k in before if after.get(k) != before[k])
    added = sorted(set(after) - set(before))
    assert not changed and not added, f"inputs modified: {changed}; files added: {added}"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def li_lipon_small():
    from cryospec.data import li_lipon

    return li_lipon(shape=(6, 64), seed=3)


@pytest.fixture(scope="session")
def li_lipon_noiseless():
    from cryospec.data import li_lipon

    return li_lipon(shape=(6, 64), seed=3, noise=False)
