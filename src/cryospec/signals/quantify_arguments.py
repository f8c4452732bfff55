"""The checks of :meth:`CryoEELSSpectrum.quantify`'s arguments before any work: the choices,
the edges, the fit range and background windows against the energy axis."""

from __future__ import annotations

import numpy as np

from cryospec.core.background import MODELS
from cryospec.core.edge_shapes import CROSS_SECTIONS
from cryospec.core.quantify import FIT_RANGES, edge_off_axis
from cryospec.edges import Edge, get_edge
from cryospec.signals.axis_checks import energy_axis

__all__ = ["check_fit_windows", "check_quantify_arguments", "checked_energy_axis"]


def check_quantify_arguments(
    edges,
    method: str,
    background_model: str,
    count_target,
    cross_section: str,
    fit_ranges: str,
    background_shape: str,
    fit_range_eV=None,
    background_windows_eV=None,
) -> list[Edge]:
    """The requested edges, after every argument of :meth:`quantify` is checked (raises
    ``ValueError`` naming the argument, ``KeyError`` for an unknown edge)."""
    if cross_section not in CROSS_SECTIONS:
        raise ValueError(f"cross_section must be one of {CROSS_SECTIONS}, got {cross_section!r}")
    if fit_ranges not in FIT_RANGES:
        raise ValueError(f"fit_ranges must be one of {FIT_RANGES}, got {fit_ranges!r}")
    for name, span in (("fit_range_eV", fit_range_eV), *(
        (f"background_windows_eV[{i}]", w) for i, w in enumerate(background_windows_eV or [])
    )):  # fmt: skip
        if span is not None and not (
            len(span) == 2 and np.all(np.isfinite(span)) and float(span[0]) < float(span[1])
        ):
            raise ValueError(f"{name} must be (low, high) eV with low < high, got {span!r}")
    if background_shape not in ("per_pixel", "pooled"):
        raise ValueError(
            f"background_shape must be 'per_pixel' or 'pooled', got {background_shape!r}"
        )
    names = [edges] if isinstance(edges, str) else list(edges)
    if not names:
        raise ValueError("give at least one edge to quantify")
    if background_model not in MODELS:
        raise ValueError(f"background_model must be one of {MODELS}, got {background_model!r}")
    if method == "model" and background_model != "power_law":
        raise ValueError(
            "the model fit uses a power-law background; other background models work with "
            "method='integration'"
        )
    entries = [get_edge(e) for e in names]
    elements = [e.element for e in entries]
    if len(set(elements)) != len(elements):
        raise ValueError(f"one edge per element, got {names}")
    if method not in ("model", "integration"):
        raise ValueError(f"method must be 'model' or 'integration', got {method!r}")
    if method == "model" and count_target is not None:
        raise ValueError("count_target applies to method='integration'")
    if method == "integration" and (fit_range_eV is not None or background_windows_eV):
        raise ValueError(
            "fit_range_eV and background_windows_eV apply to method='model'; the integration "
            "method takes each edge's windows from the edge database (cryospec edges NAME "
            "lists them; a user edge record changes them)"
        )
    return entries


def check_fit_windows(energy, entries: list[Edge], fit_range_eV, background_windows_eV) -> None:
    """The model fit's range holds every requested edge; its background windows lie inside
    the axis and below the lowest edge (they anchor the power law where no edge is yet)."""
    lowest = min(entries, key=lambda e: e.onset_eV)
    if fit_range_eV is not None:
        lo, hi = (float(v) for v in fit_range_eV)
        outside = [e.name for e in entries if not lo < e.onset_eV < hi]
        if outside:
            raise ValueError(
                f"fit_range_eV ({lo:g}, {hi:g}) leaves out {', '.join(outside)} (the energy axis "
                f"runs {energy[0]:g} to {energy[-1]:g} eV): the fit range must hold every "
                "requested edge and the background below the lowest"
            )
    for lo, hi in background_windows_eV or []:
        inside = (energy >= lo) & (energy <= hi)
        if inside.sum() < 5:
            raise ValueError(
                f"background window ({lo:g}, {hi:g}) eV holds {int(inside.sum())} channels of the "
                f"energy axis ({energy[0]:g} to {energy[-1]:g} eV): it needs at least 5"
            )
        if hi > lowest.onset_eV:
            raise ValueError(
                f"background window ({lo:g}, {hi:g}) eV reaches above {lowest.name} "
                f"({lowest.onset_eV:g} eV), the lowest requested edge: the windows anchor the "
                "power law below every edge"
            )


def checked_energy_axis(signal, entries: list[Edge]) -> np.ndarray:
    """The uniform energy axis, checked to hold every edge."""
    energy = energy_axis(signal)
    for entry in entries:
        reason = edge_off_axis(entry, energy)
        if reason:
            raise ValueError(f"{entry.name}: {reason}")
    return energy
