"""The cryo EELS signal class: exspy's EELSSpectrum with cryospec's dose-aware methods."""

from __future__ import annotations

from typing import ClassVar

from exspy.signals import EELSSpectrum, LazyEELSSpectrum

from ._cryo_mixin import CryoSignalMixin

__all__ = ["CryoEELSSpectrum", "LazyCryoEELSSpectrum"]


class CryoEELSSpectrum(CryoSignalMixin, EELSSpectrum):
    """EELS spectrum (image) of a beam-sensitive specimen, ``signal_type="CryoEELS"``.

    Everything exspy's :class:`~exspy.signals.EELSSpectrum` does works unchanged; cryospec adds
    the acquisition and dose metadata (``metadata.CryoSpec``) and the methods built on them.
    """

    _signal_type = "CryoEELS"
    _alias_signal_types: ClassVar[list[str]] = ["cryo EELS", "CryoEELSSpectrum"]


class LazyCryoEELSSpectrum(CryoEELSSpectrum, LazyEELSSpectrum):
    """Lazy (Dask-backed) twin of :class:`CryoEELSSpectrum`."""
