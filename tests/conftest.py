"""Shared fixtures: small, deterministic synthetic datasets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

logging.getLogger("hyperspy").setLevel(logging.ERROR)

DATA = Path(__file__).parent / "data"


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
