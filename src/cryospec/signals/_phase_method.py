"""``CryoEELSSpectrum.phase_maps``: reference spectra fitted per pixel, phase-fraction maps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from hyperspy.signal import BaseSignal

from .._chunks import compute_with_progress, map_spectra
from ..edges import get_edge
from ..phases import fit_phases
from ._background_method import _low_loss_array
from ._quantify_method import SignalMaps, navigation_map

__all__ = ["PhaseMapResult", "phase_maps"]


@dataclass
class PhaseMapResult:
    """Maps of a reference-spectrum fit, keyed by phase name.

    Attributes
    ----------
    names : tuple of str
        The phases (the references' keys).
    amount, amount_se : mapping of str to BaseSignal
        Coefficient of each reference per pixel (counts per unit of the reference: with
        references per Li atom, proportional to the Li atoms of that phase) and standard error.
    fraction, fraction_se : mapping of str to BaseSignal
        Share of each phase among the fitted amounts and its standard error (delta method on the
        Fisher covariance).
    residual : BaseSignal
        Poisson deviance per degree of freedom (about 1 when the references describe the data).
    signal_range : (float, float)
        The fitted energy range; below ``background_end_eV`` only the power law.
    background_end_eV : float
    """

    names: tuple[str, ...]
    amount: Mapping[str, BaseSignal]
    amount_se: Mapping[str, BaseSignal]
    fraction: Mapping[str, BaseSignal]
    fraction_se: Mapping[str, BaseSignal]
    residual: BaseSignal
    signal_range: tuple[float, float]
    background_end_eV: float

    def summary(self) -> dict[str, Any]:
        """Per phase: mean and standard deviation of the fraction over the map, and its median
        standard error."""
        out = {}
        for name in self.names:
            f = np.asarray(self.fraction[name].data, dtype=float)
            out[name] = {
                "fraction_mean": float(np.nanmean(f)),
                "fraction_std": float(np.nanstd(f)),
                "fraction_median_standard_error": float(np.nanmedian(self.fraction_se[name].data)),
            }
        return out


def _reference_array(references: Mapping[str, Any], energy: np.ndarray) -> np.ndarray:
    """(J, n) references on ``energy``: signals are interpolated (zero outside their axis)."""
    if not isinstance(references, Mapping) or not references:
        raise ValueError("references must be a non-empty dict {phase name: spectrum}")
    rows = []
    for name, ref in references.items():
        if isinstance(ref, BaseSignal):
            if ref.axes_manager.navigation_dimension != 0 or ref.axes_manager.signal_dimension != 1:
                raise ValueError(f"reference {name!r} must be a single spectrum")
            axis = np.asarray(ref.axes_manager.signal_axes[0].axis, dtype=float)
            data = np.asarray(ref.data, dtype=float)
            if axis[-1] < energy[0] or axis[0] > energy[-1]:
                raise ValueError(
                    f"reference {name!r} ({axis[0]:g}-{axis[-1]:g} eV) does not overlap the "
                    f"fit range ({energy[0]:g}-{energy[-1]:g} eV)"
                )
            rows.append(np.interp(energy, axis, data, left=0.0, right=0.0))
        else:
            data = np.asarray(ref, dtype=float)
            if data.ndim != 1:
                raise ValueError(f"reference {name!r} must be one spectrum")
            rows.append(data)
    return np.array(rows)


def _kernel(block, *ll_block, energy, keep, refs, names, background_end, ll_energy, gain):
    counts = block[..., keep] / gain
    low_loss = ll_block[0] if ll_block else None
    fit = fit_phases(counts, energy, refs, names, background_end, low_loss, ll_energy)
    dof = max(fit.dof, 1)
    return np.concatenate(
        [fit.amount, fit.amount_se, fit.fraction, fit.fraction_se, (fit.deviance / dof)[..., None]],
        axis=-1,
    )


def phase_maps(
    signal,
    references: Mapping[str, Any],
    edge: str = "Li_K",
    signal_range: tuple[float, float] | None = None,
    background_end_eV: float | None = None,
    low_loss=None,
    detector_gain: float | None = None,
) -> PhaseMapResult:
    """Implementation of :meth:`CryoEELSSpectrum.phase_maps` (see there)."""
    axis = signal.axes_manager.signal_axes[0]
    if not axis.is_uniform:
        raise ValueError("the energy axis is not uniform")
    energy_all = np.asarray(axis.axis, dtype=float)
    entry = get_edge(edge)
    if signal_range is None:
        signal_range = (entry.background_windows_eV[0][0], entry.integration_window_eV[1] + 10.0)
    if background_end_eV is None:
        background_end_eV = entry.background_windows_eV[-1][1]
    lo, hi = signal_range
    if not (energy_all[0] <= lo < background_end_eV < hi <= energy_all[-1]):
        raise ValueError(
            f"need axis start <= range start < background end < range end <= axis end; got "
            f"range {signal_range}, background end {background_end_eV}, axis "
            f"[{energy_all[0]:g}, {energy_all[-1]:g}] eV"
        )
    keep = (energy_all >= lo) & (energy_all <= hi)
    energy = energy_all[keep]
    names = tuple(references)
    refs_full = _reference_array(references, energy_all)
    if refs_full.shape[1] != energy_all.size:
        raise ValueError(
            f"reference arrays need {energy_all.size} channels (the signal's axis), got "
            f"{refs_full.shape[1]}"
        )
    refs = refs_full[:, keep]
    ll_data = ll_energy = None
    per_pixel = []
    if low_loss is not None:
        ll_data, ll_energy = _low_loss_array(signal, low_loss)
        per_pixel = [ll_data]
    j = len(names)
    packed = map_spectra(
        _kernel,
        signal.data,
        *per_pixel,
        n_out=4 * j + 1,
        dtype=float,
        max_pixels=4096,
        energy=energy,
        keep=keep,
        refs=refs,
        names=names,
        background_end=float(background_end_eV),
        ll_energy=ll_energy,
        gain=signal.detector_gain(detector_gain),
    )
    packed = compute_with_progress(packed)

    def maps(first, title):
        arrays = {name: packed[..., first + i] for i, name in enumerate(names)}
        return SignalMaps(arrays, lambda name, v: navigation_map(signal, v, title.format(name)))

    result = PhaseMapResult(
        names=names,
        amount=maps(0, "{} amount"),
        amount_se=maps(j, "{} amount standard error"),
        fraction=maps(2 * j, "{} fraction"),
        fraction_se=maps(3 * j, "{} fraction standard error"),
        residual=navigation_map(signal, packed[..., 4 * j], "phase fit: Poisson deviance / dof"),
        signal_range=(float(lo), float(hi)),
        background_end_eV=float(background_end_eV),
    )
    return result
