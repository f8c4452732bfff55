"""The type and range of every value of the report's configuration, checked when the file is
read (so that a wrong value stops the run at once, naming its key, instead of failing every
dataset later)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from cryospec.core.dose import validate_acquisition_value

__all__ = ["check_acquisition", "checked_value"]

# [acquisition] keys that are cryospec acquisition fields (the others are positive numbers,
# read_noise a number >= 0)
_ACQUISITION_FIELDS = (
    "beam_current_pA",
    "dwell_time_s",
    "pixel_size_nm",
    "n_frames",
    "detector_gain",
)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _names(value: Any, what: str) -> list[str]:
    """A list of names, or one comma- or space-separated string of them."""
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of {what} such as {_EXAMPLES[what]}, got {value!r}")
    return value


_EXAMPLES = {
    "edge names": '["Li_K", "P_L23", "O_K"] or "Li_K, P_L23, O_K"',
    "element symbols": '["P", "O"]',
    "X-ray lines": '["N_Ka", "O_Ka", "P_Ka"]',
    "phase names": '["Li metal"]',
}


def _edges(value: Any) -> list[str]:
    from cryospec.edges import get_edge

    names = _names(value, "edge names")
    for name in names:
        try:
            get_edge(name)
        except KeyError as exc:
            raise ValueError(f"holds {name!r}: {exc.args[0] if exc.args else exc}") from exc
    return names


def _span(value: Any) -> list[float]:
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(v) for v in value)
        and value[0] < value[1]
    ):
        raise ValueError(f"must be [low, high] in eV with low < high, got {value!r}")
    return [float(v) for v in value]


def _spans(value: Any) -> list[list[float]]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a list of [low, high] windows in eV, got {value!r}")
    return [_span(v) for v in value]


def _positive(value: Any) -> float:
    if not _is_number(value) or value <= 0:
        raise ValueError(f"must be a positive number, got {value!r}")
    return float(value)


def _non_negative(value: Any) -> float:
    if not _is_number(value) or value < 0:
        raise ValueError(f"must be a number >= 0, got {value!r}")
    return float(value)


def _count(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"must be a whole number >= {minimum}, got {value!r}")
        return value

    return check


def _line(value: Any) -> list[float]:
    if not (isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value)):
        raise ValueError(f"must be [x0, y0, x1, y1] in the map's units, got {value!r}")
    if value[:2] == value[2:]:
        raise ValueError(f"must have two different end points, got {value!r}")
    return [float(v) for v in value]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    return value


def _file_table(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValueError(f'must be a table of name = "file", got {value!r}')
    return value


def _k_factors(value: Any) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise ValueError(f"must be a table of element = k-factor, got {value!r}")
    return {str(k): _positive(v) for k, v in value.items()}


def _detector(value: Any) -> str:
    from cryospec.core.xray_detection import DETECTOR_PRESETS

    if value not in DETECTOR_PRESETS:
        raise ValueError(f"must be one of {', '.join(map(repr, DETECTOR_PRESETS))}, got {value!r}")
    return value


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


_CHECKS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("eels", "edges"): _edges,
    ("eels", "background_windows"): _optional(_spans),
    ("eels", "fit_range"): _optional(_span),
    ("eels", "count_target"): _optional(_positive),
    ("eels", "damage_species"): lambda v: _names(v, "phase names"),
    ("profile", "line"): _optional(_line),
    ("profile", "width"): _optional(_positive),
    ("profile", "stripes"): _count(1),
    ("profile", "elements"): _optional(lambda v: _names(v, "element symbols")),
    ("profile", "thickness_element"): _text,
    ("nmf", "n_components"): _count(0),
    ("nmf", "signal_range"): _span,
    ("nmf", "references"): _file_table,
    ("edx", "lines"): _optional(lambda v: _names(v, "X-ray lines")),
    ("edx", "k_factors"): _optional(_k_factors),
    ("edx", "detector"): _optional(_detector),
}


def check_acquisition(label: str, key: str, value: Any) -> Any:
    """One ``[acquisition]`` value (None: not given), checked; ``label`` names it."""
    if value is None:
        return None
    try:
        if key == "read_noise":
            return _non_negative(value)
        if key in _ACQUISITION_FIELDS:
            return validate_acquisition_value(key, value)
        return _positive(value)
    except ValueError as exc:
        text = str(exc)
        text = text[len(key) + 1 :] if text.startswith(key + " ") else text
        raise ValueError(f"{label} {text}") from exc


def checked_value(section: str, key: str, value: Any) -> Any:
    """The value of ``[section] key``, checked and normalised (a comma-separated edge string
    becomes a list).

    Raises
    ------
    ValueError
        Naming the section and key, what it must be and what it is.
    """
    if section == "acquisition":
        return check_acquisition(f"[{section}] {key}", key, value)
    check = _CHECKS.get((section, key))
    if check is None:
        return value
    try:
        return check(value)
    except ValueError as exc:
        raise ValueError(f"[{section}] {key} {exc}") from exc
