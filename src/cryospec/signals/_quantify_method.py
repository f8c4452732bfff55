"""``CryoEELSSpectrum.quantify``: areal densities and atomic fractions with uncertainty maps."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hyperspy.signal import BaseSignal

from .._chunks import compute_with_progress, is_lazy_array, map_spectra
from ..background import MODELS
from ..cross_sections import partial_cross_section
from ..dose import MissingMetadataError
from ..edges import get_edge
from ..quantify import (
    BARN_NM2,
    atomic_fractions,
    edge_off_axis,
    fit_edge_model,
    log_ratio_thickness,
    near_edge_width,
    zero_loss_peak,
)
from ._background_method import _low_loss_array, _microscope, is_separate_low_loss

__all__ = ["QuantificationResult", "quantify"]

_logger = logging.getLogger(__name__)
_PRECEDING_WITHIN_EV = 120.0


class SignalMaps(Mapping):
    """Element -> map, each HyperSpy signal built on first access (building one costs more
    than computing it on a small map)."""

    def __init__(self, arrays: dict[str, np.ndarray], make: Callable[[str, np.ndarray], Any]):
        self._arrays, self._make, self._built = arrays, make, {}

    def __getitem__(self, key: str) -> BaseSignal:
        if key not in self._built:
            self._built[key] = self._make(key, self._arrays[key])
        return self._built[key]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def array(self, key: str) -> np.ndarray:
        """The map's values without building the signal."""
        return self._arrays[key]


def navigation_map(signal, values, title: str, quantity: str = "") -> BaseSignal:
    """A map over ``signal``'s navigation space holding ``values`` (in memory), titled."""
    values = np.asarray(values)
    out = signal._get_navigation_signal(data=values if values.ndim else values.reshape(1))
    if out._lazy:
        out.compute()
    out.metadata.General.title = title
    if quantity:
        out.metadata.set_item("Signal.quantity", quantity)
    return out


@dataclass
class QuantificationResult:
    """Maps of a quantification, keyed by element symbol.

    Attributes
    ----------
    method : str
        ``"model"`` or ``"integration"``.
    edges : tuple of str
        The edges quantified (one per element).
    units : str
        ``"atoms/nm²"`` (absolute: the low-loss integral or the dose metadata gave the incident
        electrons) or ``"relative"``.
    areal_density, areal_density_std : dict of BaseSignal
        Areal density per element and its standard error.
    atomic_fraction, atomic_fraction_std : dict of BaseSignal
        Atomic fraction among the quantified elements and its standard error.
    t_over_lambda : BaseSignal or None
        Relative thickness from the low loss (log-ratio).
    residual : BaseSignal or None
        Model fit: Poisson deviance per degree of freedom (about 1 when the model fits).
    background_exponent : BaseSignal or None
        Model fit: the power-law exponent.
    incident_electrons : BaseSignal
        Electrons per pixel used for the absolute scale.
    near_edge_eV : dict
        Width above each onset left out of the model fit.
    overlap_amplitude : dict of BaseSignal
        Model fit: amplitude of each nuisance edge (the M2,3 edges under Li K); not an areal
        density.
    """

    method: str
    edges: tuple[str, ...]
    units: str
    areal_density: Mapping[str, BaseSignal]
    areal_density_std: Mapping[str, BaseSignal]
    atomic_fraction: Mapping[str, BaseSignal]
    atomic_fraction_std: Mapping[str, BaseSignal]
    t_over_lambda: BaseSignal | None
    residual: BaseSignal | None
    background_exponent: BaseSignal | None
    incident_electrons: BaseSignal
    near_edge_eV: dict[str, float] = field(default_factory=dict)
    overlap_amplitude: Mapping[str, BaseSignal] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Per element: mean and standard deviation over the map of the areal density and of
        the atomic fraction, and the median standard error."""
        out: dict[str, Any] = {"method": self.method, "units": self.units, "elements": {}}
        for element in self.areal_density:
            d = np.asarray(self.areal_density[element].data)
            f = np.asarray(self.atomic_fraction[element].data)
            out["elements"][element] = {
                "areal_density_mean": float(np.nanmean(d)),
                "areal_density_std": float(np.nanstd(d)),
                "areal_density_median_standard_error": float(
                    np.nanmedian(self.areal_density_std[element].data)
                ),
                "atomic_fraction_mean": float(np.nanmean(f)),
                "atomic_fraction_std": float(np.nanstd(f)),
            }
        return out

    def stack(self) -> BaseSignal:
        """All maps in one signal (navigation axis ``quantity``), e.g. to save as ``.hspy``;
        the map names are in ``metadata.CryoSpec.Quantification.maps``."""
        import hyperspy.api as hs

        maps, names = [], []
        for label, group in (
            ("areal_density", self.areal_density),
            ("areal_density_std", self.areal_density_std),
            ("atomic_fraction", self.atomic_fraction),
            ("atomic_fraction_std", self.atomic_fraction_std),
        ):
            for element, signal in group.items():
                maps.append(signal)
                names.append(f"{label}:{element}")
        for label, signal in (
            ("t_over_lambda", self.t_over_lambda),
            ("residual", self.residual),
            ("background_exponent", self.background_exponent),
        ):
            if signal is not None:
                maps.append(signal)
                names.append(label)
        stacked = hs.stack(maps, new_axis_name="quantity", show_progressbar=False)
        stacked.metadata.General.title = "cryospec quantification"
        stacked.metadata.set_item(
            "CryoSpec.Quantification",
            {"maps": names, "method": self.method, "units": self.units, "edges": list(self.edges)},
        )
        return stacked


def _low_loss_summary(spectra: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Per spectrum, in one pass: zero-loss centre, total counts, energy of the maximum above
    3 eV (the first plasmon) and t/lambda (log-ratio), stacked on the last axis."""
    centre, _ = zero_loss_peak(spectra, energy)
    total = np.asarray(spectra, dtype=float).sum(-1)
    above = energy > 3.0
    plasmon = energy[above][np.argmax(spectra[..., above], axis=-1)]
    tau = log_ratio_thickness(spectra, energy)
    return np.stack([centre, total, plasmon, tau], axis=-1)


def _t_over_lambda(signal, tau: np.ndarray) -> BaseSignal:
    out = signal._get_navigation_signal(data=tau if tau.ndim else tau.reshape(1))
    out.metadata.General.title = "t/lambda (log-ratio)"
    return out


def _model_kernel(
    block,
    incident,
    *ll_block,
    energy,
    edges,
    microscope,
    ll_energy,
    near,
    bin_width,
    overlaps,
    anchor_windows,
    fit_range_eV,
):
    result = fit_edge_model(
        block,
        energy,
        list(edges),
        microscope,
        incident[..., 0],
        low_loss=ll_block[0] if ll_block else None,
        low_loss_energy=ll_energy,
        near_edge_eV=near,
        bin_width=bin_width,
        overlaps=list(overlaps),
        anchor_windows=anchor_windows,
        fit_range_eV=fit_range_eV,
    )
    j = len(edges)
    return np.concatenate(
        [
            result.areal_density,
            result.covariance.reshape(*result.covariance.shape[:-2], j * j),
            result.background_exponent[..., None],
            result.reduced_deviance[..., None],
            result.overlap_amplitude,
            result.deviance[..., None],
        ],
        axis=-1,
    )


TRANSITION_METAL_M23 = {"Mn": "Mn_M23", "Fe": "Fe_M23", "Co": "Co_M23", "Ni": "Ni_M23"}
# Mean per-pixel drop of the Poisson deviance, when the four M2,3 edges are added, above which
# they are reported (chi-square with 4 degrees of freedom: 15 is p = 0.005 for one pixel).
M23_DEVIANCE_DROP = 15.0


def _overlap_edges(signal, names, overlap_edges) -> list[str]:
    """Nuisance edges of the model: given, or the M2,3 edges of declared transition metals."""
    if overlap_edges is not None:
        return [get_edge(e).name for e in overlap_edges]
    if "Li_K" not in names:
        return []
    declared = set(signal.metadata.get_item("Sample.elements", []) or [])
    return [edge for element, edge in TRANSITION_METAL_M23.items() if element in declared]


def _zero_loss_centre(spectra: np.ndarray, energy: np.ndarray) -> np.ndarray:
    return zero_loss_peak(spectra, energy)[0]


def _rows(data, pick: np.ndarray) -> np.ndarray:
    """The spectra of the flat pixel indices ``pick`` (only those are read of a lazy array)."""
    if data.ndim == 1:  # one spectrum
        return np.asarray(data)[None][pick]
    index = np.unravel_index(pick, data.shape[:-1])
    if is_lazy_array(data):
        return np.stack([np.asarray(data[i].compute()) for i in zip(*index, strict=True)])
    return np.asarray(data[index])


def _warn_if_m_edges_hide_under_li_k(kernel_args, data, incident, ll_data) -> None:
    """Warn when the M2,3 edges of Mn, Fe, Co or Ni seem to lie under Li K (with a low loss
    only: without it the plural-scattering replica of Li K mimics their delayed maxima).

    On a sample of at most 64 pixels, Li K alone is fitted over 40-128 eV with only 3 eV
    above its onset left out, with and without the four M2,3 shapes. Their delayed maxima
    improve the fit only when the edges are there (a likelihood-ratio test on the deviance).
    """
    n_pixels = int(np.prod(data.shape[:-1]))
    pick = np.unique(np.linspace(0, n_pixels - 1, min(64, n_pixels)).astype(int))
    sample = _rows(data, pick)
    args = {
        "microscope": kernel_args["microscope"],
        "incident": incident.reshape(-1)[pick],
        "low_loss": None if ll_data is None else _rows(ll_data, pick),
        "low_loss_energy": kernel_args["ll_energy"],
        "near_edge_eV": {"Li_K": 3.0},
        "anchor_windows": kernel_args["anchor_windows"],
        "fit_range_eV": (0.0, 128.0),
        "bin_width": kernel_args["bin_width"],
    }
    energy = kernel_args["energy"]
    alone = fit_edge_model(np.asarray(sample), energy, ["Li_K"], **args)
    metals = fit_edge_model(
        np.asarray(sample), energy, ["Li_K"], overlaps=list(TRANSITION_METAL_M23.values()), **args
    )
    drop = float(np.mean(alone.deviance - metals.deviance))
    if drop > M23_DEVIANCE_DROP:
        message = (
            "the Li K region fits markedly better with the M2,3 edges of Mn, Fe, Co or Ni (mean "
            f"deviance drop {drop:.1f} per pixel): the sample seems to hold transition metals, "
            "whose edges would be taken for Li. Declare them (s.add_elements(('Mn', 'Co', "
            "'Ni'))) so that they are fitted with Li K."
        )
        warnings.warn(message, UserWarning, stacklevel=4)
        _logger.warning(message)


def _incident_from_dose(signal, nav_shape) -> tuple[np.ndarray, str]:
    """Incident electrons per pixel from the dose metadata, or ones (relative amounts)."""
    try:
        return np.full(nav_shape, signal.electrons_per_pixel()), "atoms/nm²"
    except MissingMetadataError:
        _logger.warning(
            "no pixel-matched low loss and no dose metadata: areal densities are relative"
        )
        return np.ones(nav_shape), "relative"


def quantify(
    signal,
    edges,
    low_loss=None,
    method: str = "model",
    count_target: float | None = None,
    near_edge_eV: dict[str, float] | None = None,
    detector_gain: float | None = None,
    bin_width: float = 0.04,
    overlap_edges=None,
    background_windows_eV=None,
    fit_range_eV=None,
    show_progressbar: bool | None = None,
    background_model: str = "power_law",
) -> QuantificationResult:
    """Implementation of :meth:`CryoEELSSpectrum.quantify` (see there)."""
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
    axis = signal.axes_manager.signal_axes[0]
    if not axis.is_uniform:
        raise ValueError("the energy axis is not uniform")
    energy = np.asarray(axis.axis, dtype=float)
    for entry in entries:
        reason = edge_off_axis(entry, energy)
        if reason:
            raise ValueError(f"{entry.name}: {reason}")
    gain = signal.detector_gain(detector_gain)
    microscope = _microscope(signal)
    nav_shape = signal.data.shape[:-1]

    ll_data = ll_energy = ll_gain = None
    if low_loss is not None:
        ll_data, ll_energy = _low_loss_array(signal, low_loss)
        separate = is_separate_low_loss(signal, low_loss)
        # One read of the low loss for every number taken from it.
        if separate:
            one = _low_loss_summary(np.asarray(low_loss.data, dtype=float)[None], ll_energy)[0]
            summary = np.broadcast_to(one, (*nav_shape, 4))
        else:
            summary = map_spectra(
                _low_loss_summary, ll_data, n_out=4, dtype=float, energy=ll_energy
            )
        centre, total, plasmon_peak, tau = np.moveaxis(
            compute_with_progress(summary, show_progressbar=False), -1, 0
        )
        worst = float(np.max(np.abs(centre)))
        if worst > max(1.0, 3 * (ll_energy[1] - ll_energy[0])):
            raise ValueError(
                f"the low loss is not calibrated: its zero-loss peak sits up to {worst:.2f} eV "
                "from 0 eV; align it first (core_loss.align_zero_loss(low_loss))"
            )
        ll_gain = low_loss.detector_gain() if hasattr(low_loss, "detector_gain") else gain
        incident = total / ll_gain
        units = "atoms/nm²"
        if separate:
            # A low loss acquired apart gives the plural scattering and t/lambda of the area,
            # not the electrons that fell on each pixel of the core loss: those come from the
            # core loss's dose metadata, or the amounts are relative.
            incident, units = _incident_from_dose(signal, nav_shape)
    else:
        incident, units = _incident_from_dose(signal, nav_shape)
    incident = np.asarray(incident, dtype=float)

    near = {e.name: near_edge_width(e) for e in entries}
    if ll_data is not None:
        # Plasmon replicas of the fine structure reach one plasmon energy further up.
        plasmon = float(np.median(plasmon_peak))
        near = {k: v + plasmon for k, v in near.items()}
    near.update(near_edge_eV or {})

    overlaps = _overlap_edges(signal, names, overlap_edges)
    overlap_maps: dict[str, np.ndarray] = {}
    if method == "model":
        if count_target is not None:
            raise ValueError("count_target applies to method='integration'")
        j = len(entries)

        kernel_args = {
            "energy": energy,
            "edges": tuple(names),
            "microscope": microscope,
            "ll_energy": ll_energy,
            "near": near,
            "bin_width": bin_width,
            "anchor_windows": background_windows_eV,
            "fit_range_eV": fit_range_eV,
        }
        packed = map_spectra(
            _model_kernel,
            signal.data / gain,
            incident[..., None],
            *([ll_data] if ll_data is not None else []),
            n_out=j + j * j + 3 + len(overlaps),
            dtype=float,
            max_pixels=4096,
            overlaps=tuple(overlaps),
            **kernel_args,
        )
        packed = compute_with_progress(packed, show_progressbar=show_progressbar)
        density = packed[..., :j]
        covariance = packed[..., j : j + j * j].reshape(*nav_shape, j, j)
        exponent, deviance = packed[..., j + j * j], packed[..., j + j * j + 1]
        for i, name in enumerate(overlaps):
            overlap_maps[name] = packed[..., j + j * j + 2 + i]
        if "Li_K" in names and not overlaps and ll_data is not None:
            _warn_if_m_edges_hide_under_li_k(kernel_args, signal.data / gain, incident, ll_data)
        elif "Li_K" in names and not overlaps:
            # The plural-scattering replica of Li K (one plasmon energy up) has the delayed
            # shape of an M2,3 edge: without the low loss the two cannot be told apart.
            _logger.info(
                "no low loss: the check for undeclared Mn/Fe/Co/Ni M2,3 edges under Li K is "
                "skipped (plural scattering of Li K would look like them)"
            )
    else:
        density, variance = _integration(
            signal,
            entries,
            low_loss,
            ll_data,
            ll_energy,
            ll_gain,
            incident,
            gain,
            microscope,
            count_target,
            show_progressbar,
            background_model,
        )
        covariance = np.zeros((*nav_shape, len(entries), len(entries)))
        idx = np.arange(len(entries))
        covariance[..., idx, idx] = variance
        exponent = deviance = None

    fraction, fraction_std = atomic_fractions(density, covariance)
    std = np.sqrt(np.clip(np.diagonal(covariance, axis1=-2, axis2=-1), 0, None))

    def nav_map(values, title, quantity=""):
        return navigation_map(signal, values, title, quantity)

    def maps(values, title, unit=""):
        arrays = {el: values[..., i] for i, el in enumerate(elements)}
        return SignalMaps(
            arrays,
            lambda el, v: nav_map(v, title.format(el), f"{el} {unit}".strip() if unit else ""),
        )

    result = QuantificationResult(
        method=method,
        edges=tuple(names),
        units=units,
        areal_density=maps(density, "{} areal density", f"({units})"),
        areal_density_std=maps(std, "{} areal density standard error", f"({units})"),
        atomic_fraction=maps(fraction, "{} atomic fraction"),
        atomic_fraction_std=maps(fraction_std, "{} atomic fraction standard error"),
        t_over_lambda=None if ll_data is None else _t_over_lambda(signal, tau),
        residual=None if deviance is None else nav_map(deviance, "Poisson deviance / dof"),
        background_exponent=None
        if exponent is None
        else nav_map(exponent, "background exponent r"),
        incident_electrons=nav_map(incident, "incident electrons per pixel"),
        near_edge_eV=near,
        overlap_amplitude=SignalMaps(
            overlap_maps,
            lambda name, values: nav_map(
                values, f"{name} amplitude (counts/channel at its maximum)"
            ),
        ),
    )
    return result


def _integration(
    signal,
    entries,
    low_loss,
    ll_data,
    ll_energy,
    ll_gain,
    incident,
    gain,
    microscope,
    count_target,
    show_progressbar,
    background_model,
):
    """Egerton's ratio method, edge by edge."""
    beam, collection, convergence = microscope
    densities, variances = [], []
    energy = signal.axes_manager.signal_axes[0].axis
    for entry in entries:
        lo, hi = entry.integration_window_eV
        preceding = [
            e.name
            for e in entries
            if entry.onset_eV - _PRECEDING_WITHIN_EV < e.onset_eV < entry.onset_eV
        ]
        kwargs = {
            "count_target": count_target,
            "return_fit": True,
            "show_progressbar": show_progressbar,
        }
        if preceding and low_loss is not None and background_model == "power_law":
            kwargs.update(preceding_edges=preceding, low_loss=low_loss)
        else:
            kwargs["model"] = background_model
        subtracted, fit = signal.subtract_background(entry.name, **kwargs)
        window = (energy >= lo) & (energy <= hi)
        net = subtracted.data[..., window].sum(-1)
        counts = np.clip(signal.data[..., window], 0, None).sum(-1)
        net, counts = compute_with_progress(net, counts, show_progressbar=show_progressbar)
        electrons = np.asarray(net) / gain
        var = gain * counts + fit.window_sum_variance(lo, hi)
        var = var / gain**2
        sigma = partial_cross_section(entry, (lo, hi), beam, collection, convergence)
        if ll_data is not None and is_separate_low_loss(signal, low_loss):
            # Egerton's I_l(Delta) as the separate spectrum's share of its total, times the
            # electrons on each pixel (its own integral belongs to another acquisition).
            spectrum = np.asarray(low_loss.data, dtype=float)
            reach = incident * spectrum[ll_energy <= (hi - lo)].sum() / spectrum.sum()
        elif ll_data is not None:
            reach = ll_data[..., ll_energy <= (hi - lo)].sum(-1)
            reach = compute_with_progress(reach, show_progressbar=False) / ll_gain
        else:
            reach = incident
        scale = reach * sigma * BARN_NM2
        densities.append(electrons / scale)
        variances.append(var / scale**2)
    return np.stack(densities, axis=-1), np.stack(variances, axis=-1)
