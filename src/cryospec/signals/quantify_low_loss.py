"""What the quantification takes from the low loss: one read of it for every number (t/lambda,
the plasmon energy, the incident electrons, plural scattering), with the bookkeeping of a real
acquisition (exposure ratio, dispersion, detector gain) and the notes it leaves."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cryospec.core.dose import MissingMetadataError
from cryospec.signals.low_loss import (
    check_low_loss,
    exposure_ratio,
    is_separate_low_loss,
    low_loss_array,
    low_loss_summary_maps,
)

__all__ = ["LowLoss", "read_low_loss"]

_logger = logging.getLogger("cryospec.signals.eels_quantify")


@dataclass
class LowLoss:
    """What the quantification takes from the low loss (all None without one)."""

    signal: Any = None
    data: Any = None
    energy: np.ndarray | None = None
    gain: float | None = None
    t_over_lambda: np.ndarray | None = None
    plasmon_eV: float = 0.0
    separate: bool = False
    spectrum: np.ndarray | None = None
    incident: np.ndarray | None = None
    units: str = "relative"
    exposure_ratio: float = 1.0
    notes: list = field(default_factory=list)


def read_low_loss(signal, low_loss, gain: float, detector_gain: float | None) -> LowLoss:
    """One read of the low loss for every number taken from it, and the incident electrons."""
    nav_shape = signal.data.shape[:-1]
    if low_loss is None:
        return LowLoss(**_incident_from_dose(signal, nav_shape))
    data, energy = low_loss_array(signal, low_loss)
    checked = check_low_loss(data, energy)
    separate = is_separate_low_loss(signal, low_loss)
    spectrum = np.asarray(data[(0,) * (data.ndim - 1)], dtype=float) if separate else None
    if separate:
        one = low_loss_summary_maps(spectrum[None], energy)
        values = {k: np.broadcast_to(v[0], nav_shape) for k, v in one.items()}
    else:
        values = low_loss_summary_maps(data, energy)
    total, plasmon_peak = values["total"], values["plasmon_peak_eV"]
    tau, rise = values["t_over_lambda"], values["rise_above_plasmons"]
    ll_gain = _low_loss_gain(low_loss, gain, detector_gain)
    notes = []
    for message in checked:
        warnings.warn(message, UserWarning, stacklevel=3)
        notes.append(message)
    if float(np.max(rise)) > 1.0:
        message = (
            "the low loss rises above 40 eV higher than its plasmon peak (up to "
            f"{float(np.max(rise)):.1f} times): a gain step or a change of detector setting in "
            "the spectrum? The plasmon energy is taken below 40 eV; check the low loss"
        )
        warnings.warn(message, UserWarning, stacklevel=3)
        notes.append(message)
    step = float(signal.axes_manager.signal_axes[0].scale)
    if not np.isclose(low_loss.axes_manager.signal_axes[0].scale, step, rtol=1e-4):
        notes.append(
            f"the low loss ({low_loss.axes_manager.signal_axes[0].scale:g} eV per channel) was "
            f"resampled to the core loss's {step:g} eV per channel, its counts conserved"
        )
    ratio = 1.0
    if separate:
        # A low loss acquired apart gives the plural scattering and t/lambda of the area, not
        # the electrons that fell on each pixel of the core loss: those come from the core
        # loss's dose metadata, or the amounts are relative.
        incident = _incident_from_dose(signal, nav_shape)
    else:
        recorded = exposure_ratio(signal, low_loss)
        if recorded is None:
            notes.append(
                "the exposure of the core loss or of the low loss is not recorded: the two are "
                "taken as equal (set dwell_time_s and n_frames of both)"
            )
        else:
            ratio = recorded
            if not np.isclose(ratio, 1.0):
                notes.append(
                    f"the core loss's exposure is {ratio:g} times the low loss's: the incident "
                    "electrons are the low-loss counts scaled by it"
                )
        electrons = total / ll_gain * ratio
        incident = {"incident": np.asarray(electrons, dtype=float), "units": "atoms/nm²"}
    return LowLoss(
        signal=low_loss,
        data=data,
        energy=energy,
        gain=ll_gain,
        t_over_lambda=tau,
        plasmon_eV=float(np.median(plasmon_peak)),
        separate=separate,
        spectrum=spectrum,
        exposure_ratio=ratio,
        notes=notes,
        **incident,
    )


def _low_loss_gain(low_loss, core_gain: float, detector_gain: float | None) -> float:
    """The low loss's detector gain: the one given to quantify (it applies to both spectra),
    else its own metadata's; a plain HyperSpy signal without cryospec's metadata shares the
    core loss's."""
    if detector_gain is not None:
        return float(detector_gain)
    if not hasattr(low_loss, "detector_gain"):
        return core_gain
    try:
        return low_loss.detector_gain()
    except MissingMetadataError as exc:
        raise MissingMetadataError(
            "the low loss has no detector gain in its metadata (the core loss has one): give "
            "quantify(..., detector_gain=...), which applies to both spectra, or set it with "
            "low_loss.set_acquisition_parameters(detector_gain=...)",
            field="detector_gain",
        ) from exc


def _incident_from_dose(signal, nav_shape) -> dict[str, Any]:
    """Incident electrons per pixel from the dose metadata, or ones (relative amounts)."""
    try:
        incident, units = np.full(nav_shape, signal.electrons_per_pixel()), "atoms/nm²"
    except MissingMetadataError:
        _logger.warning(
            "no pixel-matched low loss and no dose metadata: areal densities are relative"
        )
        incident, units = np.ones(nav_shape), "relative"
    return {"incident": np.asarray(incident, dtype=float), "units": units}
