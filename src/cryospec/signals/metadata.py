"""Reading and setting a signal's microscope metadata and signal type: one table, one setter."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cryospec.core.dose import MissingMetadataError

__all__ = ["MICROSCOPE_FIELDS", "MicroscopeField", "microscope_parameters", "set_cryo_signal_type"]


class MicroscopeField(NamedTuple):
    """One microscope parameter: its report-config key, its HyperSpy
    ``set_microscope_parameters`` argument, its metadata path and a label with its unit."""

    key: str
    argument: str
    path: str
    label: str


_TEM = "Acquisition_instrument.TEM"
MICROSCOPE_FIELDS = (
    MicroscopeField("beam_energy_keV", "beam_energy", f"{_TEM}.beam_energy", "beam energy (keV)"),
    MicroscopeField(
        "collection_mrad",
        "collection_angle",
        f"{_TEM}.Detector.EELS.collection_angle",
        "collection angle (mrad)",
    ),
    MicroscopeField(
        "convergence_mrad",
        "convergence_angle",
        f"{_TEM}.convergence_angle",
        "convergence angle (mrad)",
    ),
)

# HyperSpy's signal types that cryospec gives its own classes.
CRYO_SIGNAL_TYPES = {"EELS": "CryoEELS", "TEM EELS": "CryoEELS", "EDS_TEM": "CryoEDS_TEM"}


def set_cryo_signal_type(signal, signal_type: str | None = None) -> bool:
    """Give a spectrum (image) its cryospec class: ``signal_type``, else the cryospec twin of its
    HyperSpy type. Returns False when the signal is not one cryospec handles."""
    current = signal.metadata.get_item("Signal.signal_type", "")
    target = signal_type or CRYO_SIGNAL_TYPES.get(current)
    if not target or signal.axes_manager.signal_dimension != 1:
        return False
    if current != target:
        signal.set_signal_type(target)
    return True


def microscope_parameters(signal) -> tuple[float, float, float]:
    """Beam energy (keV), collection and convergence angles (mrad) for the cross-sections."""
    values = []
    setter = (
        "s.set_microscope_parameters(beam_energy=..., convergence_angle=..., collection_angle=...)"
    )
    for field in MICROSCOPE_FIELDS:
        path, what = field.path, field.label
        value = signal.metadata.get_item(path, None)
        if value is None:
            raise MissingMetadataError(
                f"metadata.{path} ({what}) is needed for the edge cross-sections; set it with "
                f"{setter}",
                field=field.key,
            )
        # a convergence angle of 0 is a parallel beam (or one not recorded): allowed
        convergence = field.argument == "convergence_angle"
        number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
        if not number or not np.isfinite(value) or value < 0 or (value == 0 and not convergence):
            raise MissingMetadataError(
                f"metadata.{path} ({what}) is {value!r}: it must be a "
                f"{'non-negative' if convergence else 'positive'} number; set the right value "
                f"with {setter}",
                field=field.key,
            )
        values.append(float(value))
    return values[0], values[1], values[2]
