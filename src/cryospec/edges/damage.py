"""Damage thresholds: critical doses of beam-sensitive species, with their sources.

The data live in ``edges/damage/thresholds.yaml`` beside the edge records.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from cryospec.edges.records import edge_database_path

__all__ = ["DamageThreshold", "damage_thresholds"]


@dataclass(frozen=True)
class DamageThreshold:
    """Critical dose of one species, with the conditions and source it holds for."""

    species: str
    critical_dose_e_per_A2: float
    effect: str
    conditions: str
    status: str
    source: str


@functools.cache
def _read_thresholds(path: str) -> dict[str, DamageThreshold]:
    record = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = {}
    for entry in record.get("thresholds", []):
        try:
            threshold = DamageThreshold(**entry)
        except TypeError as exc:
            raise ValueError(f"{path}: malformed damage threshold {entry!r} ({exc})") from exc
        value = threshold.critical_dose_e_per_A2
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise ValueError(f"{path}: {threshold.species}: critical dose must be positive")
        if threshold.status not in ("checked", "approximate") or not threshold.source.strip():
            raise ValueError(f"{path}: {threshold.species}: needs a status and a source")
        out[threshold.species] = threshold
    return out


def damage_thresholds() -> dict[str, DamageThreshold]:
    """Critical doses shipped with cryospec (``edges/damage/thresholds.yaml``), by species."""
    return _read_thresholds(str(edge_database_path() / "damage" / "thresholds.yaml"))
