"""The cryo EDX signal class: exspy's EDSTEMSpectrum with cryospec's dose-aware methods."""

from __future__ import annotations

from typing import ClassVar

from exspy.signals import EDSTEMSpectrum, LazyEDSTEMSpectrum
from exspy.utils.eds import take_off_angle

from ._cryo_mixin import CryoSignalMixin

__all__ = ["CryoEDSTEMSpectrum", "LazyCryoEDSTEMSpectrum"]


class CryoEDSTEMSpectrum(CryoSignalMixin, EDSTEMSpectrum):
    """EDX spectrum (image) recorded in a (S)TEM at low dose, ``signal_type="CryoEDS_TEM"``.

    Everything exspy's :class:`~exspy.signals.EDSTEMSpectrum` does works unchanged; cryospec adds
    the acquisition and dose metadata (``metadata.CryoSpec``) and the methods built on them.
    """

    _signal_type = "CryoEDS_TEM"
    _alias_signal_types: ClassVar[list[str]] = ["cryo EDS TEM", "CryoEDSTEMSpectrum"]

    # exspy writes the literal "EDS_TEM" into the metadata and branches on it in a few methods;
    # the overrides below keep the cryo type and take exspy's TEM branch.
    def _set_default_param(self) -> None:
        super()._set_default_param()
        self.metadata.Signal.signal_type = self._signal_type

    def _get_line_energy(self, Xray_line, FWHM_MnKa=None):
        if FWHM_MnKa == "auto":
            FWHM_MnKa = self.metadata.Acquisition_instrument.TEM.Detector.EDS.energy_resolution_MnKa
        return super()._get_line_energy(Xray_line, FWHM_MnKa)

    def get_take_off_angle(self) -> float:
        """Take-off angle of the X-rays in degrees, from the TEM stage and detector metadata."""
        tem = self.metadata.Acquisition_instrument.TEM
        return take_off_angle(
            tem.get_item("Stage.tilt_alpha", None),
            tem.get_item("Detector.EDS.azimuth_angle", None),
            tem.get_item("Detector.EDS.elevation_angle", None),
            tem.get_item("Stage.tilt_beta", 0.0),
        )


class LazyCryoEDSTEMSpectrum(CryoEDSTEMSpectrum, LazyEDSTEMSpectrum):
    """Lazy (Dask-backed) twin of :class:`CryoEDSTEMSpectrum`."""
