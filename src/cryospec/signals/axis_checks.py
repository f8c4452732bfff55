"""The energy axis check every computation makes first: uniform, ascending, finite."""

from __future__ import annotations

import numpy as np

__all__ = ["energy_axis", "length_to_nm"]

# Length units as HyperSpy axes and file readers write them, to nm.
_LENGTH_TO_NM = {
    "nm": 1.0,
    "Å": 0.1,
    "A": 0.1,
    "angstrom": 0.1,
    "pm": 1e-3,
    "µm": 1e3,
    "um": 1e3,
    "μm": 1e3,
    "mm": 1e6,
    "m": 1e9,
}


def length_to_nm(units: str | None) -> float | None:
    """The factor from a length unit (as HyperSpy axes write it) to nm; None if unknown."""
    return _LENGTH_TO_NM.get(str(units).strip()) if units else None


# Units that mean eV, or that say nothing (then eV is taken, as HyperSpy's EELS does).
_EV_UNITS = {"ev", "", "<undefined>", "undefined", "none"}


def energy_axis(signal, what: str = "the energy axis", unit: str | None = "eV") -> np.ndarray:
    """The signal axis as a float array, checked.

    Parameters
    ----------
    signal : Signal1D
    what : str
        The axis's name in the messages.
    unit : str or None
        ``"eV"``: an axis in another unit (keV) is refused with the conversion; None: any.

    Raises
    ------
    ValueError
        A non-uniform axis (with the HyperSpy call that makes it uniform), a descending axis
        (with how to flip it), a zero or non-finite scale, fewer than 2 channels, an axis in
        keV or another unit where eV is needed.
    """
    axis = signal.axes_manager.signal_axes[0]
    units = str(getattr(axis, "units", "") or "").strip()
    if unit == "eV" and units.lower() not in _EV_UNITS:
        fix = (
            "axis.scale *= 1000; axis.offset *= 1000; axis.units = 'eV'"
            if units.lower() == "kev"
            else "calibrate it in eV"
        )
        raise ValueError(f"{what} is in {units!r}; cryospec's EELS needs eV ({fix})")
    if not getattr(axis, "is_uniform", True):
        raise ValueError(
            f"{what} is not uniform: cryospec's fits need a uniform axis "
            "(s.axes_manager.signal_axes[0].convert_to_uniform_axis())"
        )
    energy = np.asarray(axis.axis, dtype=float)
    if energy.size < 2:
        raise ValueError(f"{what} holds {energy.size} channel(s): a spectrum needs more")
    if not np.all(np.isfinite(energy)) or not energy[1] != energy[0]:
        raise ValueError(
            f"{what} is not calibrated: offset {axis.offset!r}, scale {axis.scale!r} eV per "
            "channel; set s.axes_manager.signal_axes[0].offset and .scale"
        )
    if energy[1] < energy[0]:
        raise ValueError(
            f"{what} descends ({energy[0]:g} to {energy[-1]:g} eV, scale {axis.scale:g}): flip "
            "the signal axis so that the energy increases (s.data = s.data[..., ::-1], offset "
            "the last energy, scale positive)"
        )
    return energy
