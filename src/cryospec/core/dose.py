"""Electron dose bookkeeping: the acquisition fields cryospec needs and the dose they imply.

The fields live in the signal's ``metadata.CryoSpec.Acquisition`` node, with the unit in the
name, so that a user reading the metadata tree never has to guess it:

=====================  ============  ==========================================================
field                  unit          meaning
=====================  ============  ==========================================================
``beam_current_pA``    pA            probe current during the acquisition
``dwell_time_s``       s             dwell time per pixel and per frame
``pixel_size_nm``      nm            scan step (square pixels)
``n_frames``           (count)       number of frames summed into the data (dose fractionation)
``detector_gain``      counts/e      recorded counts per incident electron
``temperature_K``      K             sample temperature
=====================  ============  ==========================================================

Where a field is absent, the standard HyperSpy nodes written by the file readers are read
instead: ``Acquisition_instrument.TEM.beam_current`` (nA), ``Acquisition_instrument.TEM.dwell_time``
or ``...Detector.EELS.dwell_time`` (s), and the navigation axes' scale for the pixel size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import constants

__all__ = [
    "ACQUISITION_FIELDS",
    "AcquisitionField",
    "MissingMetadataError",
    "dose_per_pixel",
    "electrons_per_pixel",
    "validate_acquisition_value",
]

ELEMENTARY_CHARGE_C = constants.e
ACQUISITION_NODE = "CryoSpec.Acquisition"


@dataclass(frozen=True)
class AcquisitionField:
    """Description of one acquisition field of ``metadata.CryoSpec.Acquisition``."""

    name: str
    unit: str
    description: str
    integer: bool = False


ACQUISITION_FIELDS: dict[str, AcquisitionField] = {
    f.name: f
    for f in (
        AcquisitionField("beam_current_pA", "pA", "probe current"),
        AcquisitionField("dwell_time_s", "s", "dwell time per pixel and per frame"),
        AcquisitionField("pixel_size_nm", "nm", "scan step (square pixels)"),
        AcquisitionField("n_frames", "", "number of frames summed", integer=True),
        AcquisitionField("detector_gain", "counts/electron", "recorded counts per electron"),
        AcquisitionField("temperature_K", "K", "sample temperature"),
    )
}


class MissingMetadataError(KeyError):
    """A computation needs a metadata field that the signal does not hold.

    ``field`` names it as the report configuration's ``[acquisition]`` key (``detector_gain``,
    ``beam_energy_keV``...), when it has one.
    """

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.field = field

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def validate_acquisition_value(name: str, value: object) -> float | int:
    """Check one acquisition value and return it as a number.

    Raises
    ------
    KeyError
        For an unknown field name.
    ValueError
        For a value that is not a finite positive number (an integer for ``n_frames``).
    """
    if name not in ACQUISITION_FIELDS:
        raise KeyError(
            f"unknown acquisition field {name!r}; known fields: {', '.join(ACQUISITION_FIELDS)}"
        )
    field = ACQUISITION_FIELDS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number ({field.unit or 'count'}), got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    if field.integer:
        if int(value) != value:
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def electrons_per_pixel(
    beam_current_pA: ArrayLike, dwell_time_s: ArrayLike, n_frames: ArrayLike = 1
) -> NDArray:
    """Number of incident electrons per pixel: ``I * t * n_frames / e``."""
    current = np.asarray(beam_current_pA, dtype=float) * 1e-12
    return (
        current * np.asarray(dwell_time_s, dtype=float) * np.asarray(n_frames) / ELEMENTARY_CHARGE_C
    )


def dose_per_pixel(
    beam_current_pA: ArrayLike,
    dwell_time_s: ArrayLike,
    pixel_size_nm: ArrayLike,
    n_frames: ArrayLike = 1,
) -> NDArray:
    """Electron dose per pixel in e/Å²: electrons per pixel over the pixel area.

    Parameters
    ----------
    beam_current_pA : array_like
        Probe current in pA.
    dwell_time_s : array_like
        Dwell time per pixel and per frame in s.
    pixel_size_nm : array_like
        Scan step in nm (the pixel area is its square).
    n_frames : array_like
        Number of frames.

    Returns
    -------
    ndarray
        Dose in electrons per square ångström.

    Examples
    --------
    >>> round(float(dose_per_pixel(10.0, 1e-3, 2.5)), 1)
    99.9
    """
    area_A2 = (np.asarray(pixel_size_nm, dtype=float) * 10.0) ** 2
    return electrons_per_pixel(beam_current_pA, dwell_time_s, n_frames) / area_A2
