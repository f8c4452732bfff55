"""The cryo EELS signal class: exspy's EELSSpectrum with cryospec's dose-aware methods.

The methods are written once each, in the mixins of :mod:`.eels_background`,
:mod:`.eels_quantify`, :mod:`.eels_phases` and :mod:`.eels_dose_series`; calibration stays here.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from exspy.signals import EELSSpectrum, LazyEELSSpectrum

from cryospec._chunks import nav_reduce
from cryospec.core.calibration import find_edge_onset
from cryospec.core.low_loss import zero_loss_centre
from cryospec.edges import get_edge
from cryospec.signals.axis_checks import energy_axis
from cryospec.signals.cryo_signal import CryoSignalMixin
from cryospec.signals.eels_background import BackgroundMethods
from cryospec.signals.eels_dose_series import DoseSeriesMethods
from cryospec.signals.eels_phases import PhaseMethods
from cryospec.signals.eels_quantify import QuantificationMethods
from cryospec.signals.low_loss import check_low_loss, low_loss_array, low_loss_summary_maps
from cryospec.signals.maps import navigation_map

__all__ = ["CryoEELSSpectrum", "LazyCryoEELSSpectrum"]


class CryoEELSSpectrum(
    QuantificationMethods,
    BackgroundMethods,
    PhaseMethods,
    DoseSeriesMethods,
    CryoSignalMixin,
    EELSSpectrum,
):
    """EELS spectrum (image) of a beam-sensitive specimen, ``signal_type="CryoEELS"``.

    Everything exspy's :class:`~exspy.signals.EELSSpectrum` does works unchanged; cryospec adds
    the acquisition and dose metadata (``metadata.CryoSpec``) and the methods built on them.
    """

    _signal_type = "CryoEELS"
    _alias_signal_types: ClassVar[list[str]] = ["cryo EELS", "CryoEELSSpectrum"]

    def calibrate_from_edge(self, edge: str = "O_K", inplace: bool = False):
        """Shift the energy axis so that an edge rises at its tabulated onset.

        For a core loss recorded without a simultaneous low loss. The summed spectrum's rise
        (:func:`cryospec.calibration.find_edge_onset`: half of the post-edge level above a
        power-law background) is compared with the edge database's onset. Chemical shifts and
        pre-peaks move a real onset by a few eV: choose an edge whose onset you trust.

        Returns
        -------
        (signal, offset_eV) or offset_eV
            The calibrated signal (unless ``inplace``) and the correction added to the axis;
            recorded in ``metadata.CryoSpec.Calibration``.
        """
        axis = self.axes_manager.signal_axes[0]
        spectrum = self.data.sum(axis=tuple(range(self.data.ndim - 1)))
        if self._lazy:
            spectrum = spectrum.compute()
        found = find_edge_onset(np.asarray(spectrum), axis.axis, edge)
        onset = get_edge(edge).onset_eV
        offset = onset - found
        out = self if inplace else self.deepcopy()
        out.axes_manager.signal_axes[0].offset = axis.offset + offset
        out.metadata.set_item(
            "CryoSpec.Calibration",
            {
                "edge": get_edge(edge).name,
                "found_eV": found,
                "tabulated_eV": onset,
                "offset_eV": offset,
            },
        )
        return offset if inplace else (out, offset)

    def align_zero_loss(self, low_loss):
        """Align the zero-loss peak pixel by pixel and shift this core loss with it.

        For a core loss and a low loss recorded together (same pixels): exspy's
        ``align_zero_loss_peak`` (sub-pixel, calibrated to 0 eV) runs on copies of both.

        Returns
        -------
        (core_loss, low_loss, shift)
            The aligned copies and the map of the zero-loss centre before alignment (eV).
        """
        ll_data, ll_energy = low_loss_array(self, low_loss)
        centre = nav_reduce(zero_loss_centre, ll_data, energy=ll_energy)
        core, ll = self.deepcopy(), low_loss.deepcopy()
        ll.align_zero_loss_peak(
            also_align=[core], subpixel=True, print_stats=False, show_progressbar=False
        )
        shift = navigation_map(self, centre, "zero-loss centre before alignment (eV)")
        core.metadata.set_item(
            "CryoSpec.Calibration",
            {"method": "zero-loss alignment", "mean_shift_eV": float(np.mean(centre))},
        )
        return core, ll, shift

    def low_loss_properties(self, show_progressbar: bool | None = None) -> dict:
        """What a low loss tells of the area it was recorded on, every pixel at once.

        Returns
        -------
        dict of BaseSignal
            Navigation maps: ``t_over_lambda`` (log-ratio), ``plasmon_eV`` (the first
            plasmon's energy loss above the zero-loss peak, its tail taken off: see
            :func:`cryospec.core.low_loss.plasmon_energy`) and ``zero_loss_centre_eV``. The
            checks of a low loss run first; their warnings are issued.

        Raises
        ------
        ValueError
            The signal is no low loss (no zero-loss peak inside an axis through 0 eV), or
            holds NaN or a negative dark level.
        """
        import warnings

        energy = energy_axis(self, "the low loss")
        for message in check_low_loss(self.data, energy, calibrated=False):
            warnings.warn(message, UserWarning, stacklevel=2)
        values = low_loss_summary_maps(self.data, energy, show_progressbar)
        return {
            "t_over_lambda": navigation_map(self, values["t_over_lambda"], "t/lambda (log-ratio)"),
            "plasmon_eV": navigation_map(self, values["plasmon_peak_eV"], "plasmon energy (eV)"),
            "zero_loss_centre_eV": navigation_map(
                self, values["zero_loss_centre_eV"], "zero-loss centre (eV)"
            ),
        }


class LazyCryoEELSSpectrum(CryoEELSSpectrum, LazyEELSSpectrum):
    """Lazy (Dask-backed) twin of :class:`CryoEELSSpectrum`."""
