"""The cryo EELS signal class: exspy's EELSSpectrum with cryospec's dose-aware methods."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from exspy.signals import EELSSpectrum, LazyEELSSpectrum

from ..background import DEFAULT_LCPL_EXPONENTS
from ._background_method import subtract_background
from ._cryo_mixin import CryoSignalMixin
from ._dose_series_method import fit_dose_series
from ._phase_method import PhaseMapResult, phase_maps
from ._quantify_method import quantify

__all__ = ["CryoEELSSpectrum", "LazyCryoEELSSpectrum"]


class CryoEELSSpectrum(CryoSignalMixin, EELSSpectrum):
    """EELS spectrum (image) of a beam-sensitive specimen, ``signal_type="CryoEELS"``.

    Everything exspy's :class:`~exspy.signals.EELSSpectrum` does works unchanged; cryospec adds
    the acquisition and dose metadata (``metadata.CryoSpec``) and the methods built on them.
    """

    _signal_type = "CryoEELS"
    _alias_signal_types: ClassVar[list[str]] = ["cryo EELS", "CryoEELSSpectrum"]

    def subtract_background(
        self,
        edge: str | None = None,
        windows=None,
        model: str = "power_law",
        estimator: str = "ml",
        count_target: float | None = None,
        detector_gain: float | None = None,
        read_noise: float = 0.0,
        negative: str = "raise",
        exponents: tuple[float, ...] = DEFAULT_LCPL_EXPONENTS,
        max_radius: int | None = None,
        preceding_edges=None,
        low_loss=None,
        return_fit: bool = False,
        inplace: bool = False,
        show_progressbar: bool | None = None,
    ):
        """Fit the pre-edge background by Poisson maximum likelihood and subtract it.

        All pixels are fitted at once. Recorded counts are converted to electrons with the
        detector gain; the fit is Poisson maximum likelihood (unbiased at low counts) or, for
        comparison, 1/n-weighted least squares. With ``count_target`` the fit is dose-aware:
        where a pixel's windows hold fewer counts than the target, the background shape comes
        from a neighbourhood grown until it holds them, while the amplitude stays per pixel.

        Channels below the first window are set to zero. The result carries its variance in
        ``metadata.Signal.Noise_properties.variance``: the counts' variance (the input's own
        variance if it has one, else Poisson ``gain * counts + read_noise**2``) plus the
        variance of the extrapolated background from the fit's covariance. The channels'
        background errors are fully correlated: to integrate an edge use
        :func:`cryospec.background.window_sum_variance` on the returned fit.

        For a lazy signal nothing is computed here: the pixel-by-pixel fit runs block by block
        beside the subtraction when the result is computed or saved (each block read once), and
        bad counts in the windows raise then. The dose-aware fit (``count_target``), a fit with
        ``preceding_edges`` and ``return_fit=True`` read the window channels into memory first
        (a small part of the cube); the subtraction and the variance stay lazy.

        Parameters
        ----------
        edge : str, optional
            Edge name (``"Li_K"``, ``"P_L2,3"``...): its database windows, and windows may not
            reach above its onset.
        windows : sequence of (float, float), optional
            Explicit windows in eV (override the edge's).
        model : {"power_law", "exponential", "lcpl"}
            Background model.
        estimator : {"ml", "ls"}
            Poisson maximum likelihood or 1/max(n, 1)-weighted least squares.
        count_target : float, optional
            Dose-aware mode: counts the background windows must hold to estimate the shape.
        detector_gain : float, optional
            Counts per electron; default ``metadata.CryoSpec.Acquisition.detector_gain``.
        read_noise : float
            Read-noise standard deviation in counts per channel.
        negative : {"raise", "clip"}
            Negative counts in the windows (dark-subtracted detectors) raise an error, or are
            clipped to zero for the fit (the data themselves are not changed).
        exponents : tuple of float
            LCPL exponents.
        max_radius : int, optional
            Largest neighbourhood half-width of the dose-aware mode.
        preceding_edges : str or sequence of str, optional
            Edges whose tails lie under this one (``"Li_K"`` under ``"P_L23"``): the background
            becomes a power law plus their hydrogenic cross-sections (non-negative), fitted over
            their own pre-edge windows and this edge's (see :mod:`cryospec.background_edges`).
        low_loss : CryoEELSSpectrum, optional
            With ``preceding_edges``: the matching low-loss spectrum image (same dispersion,
            same pixels); the tails are convolved with it (plural scattering).
        return_fit : bool
            Also return a :class:`~cryospec.signals._background_method.BackgroundResult` with
            the parameter maps as signals.
        inplace : bool
            Replace this signal's data instead of returning a new signal.
        show_progressbar : bool, optional
            Dask's progress bar while a lazy signal's windows are read (default: HyperSpy's
            preference); the subtraction itself stays lazy.

        Returns
        -------
        CryoEELSSpectrum or None, and BackgroundResult if ``return_fit``

        Raises
        ------
        ValueError
            NaN/inf or negative counts in the windows, a window outside the axis, above the
            edge onset or with too few channels, a non-uniform axis, a bad argument.
        cryospec.dose.MissingMetadataError
            If the detector gain is neither given nor in the metadata.
        """
        return subtract_background(
            self,
            edge=edge,
            windows=windows,
            model=model,
            estimator=estimator,
            count_target=count_target,
            detector_gain=detector_gain,
            read_noise=read_noise,
            negative=negative,
            exponents=exponents,
            max_radius=max_radius,
            preceding_edges=preceding_edges,
            low_loss=low_loss,
            return_fit=return_fit,
            inplace=inplace,
            show_progressbar=show_progressbar,
        )

    def fit_dose_series(
        self,
        edges,
        count_target: float | None = None,
        fit_floor: bool = True,
        model: str = "power_law",
    ):
        """Edge signals of a dose-fractionated acquisition against cumulative dose.

        The frames (a navigation axis named ``"frame"``, each of dose
        :meth:`frame_dose`) are background-subtracted one by one (:meth:`subtract_background`
        with the edge's windows) and integrated over the edge's window. The decay
        ``floor + (1 - floor) exp(-D / D_c)``, averaged over each frame's dose range, is fitted
        with one critical dose per edge (a property of the material) and one zero-dose signal
        per pixel (see :mod:`cryospec.dose_series`).

        Parameters
        ----------
        edges : str or sequence of str
            Edge names (``"Li_K"``, ``"P_L23"``, ``"O_K"``...).
        count_target : float, optional
            Dose-aware background fit of each frame (see :meth:`subtract_background`).
        fit_floor : bool
            Fit a residual fraction at infinite dose (mass loss to a floor).
        model : str
            Background model.

        Returns
        -------
        dict
            Edge name -> :class:`~cryospec.signals._dose_series_method.DoseSeriesResult` with
            the critical dose and its 95 % interval, the per-frame signals, and the maps
            extrapolated to zero dose with their standard errors.
        """
        return fit_dose_series(self, edges, count_target, fit_floor, model)

    def quantify(
        self,
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
    ):
        """Areal densities and atomic fractions of the given edges, with standard-error maps.

        ``method="model"`` fits a power-law background and the edges' hydrogenic shapes
        together (convolved with each pixel's low loss when given, so that plural scattering is
        in the model), leaving out the fine structure just above each onset, by Poisson maximum
        likelihood on every pixel at once; the errors come from the Fisher information.
        ``method="integration"`` is Egerton's ratio method on the edge database's windows, with
        the background of :meth:`subtract_background` (an edge on the tail of a requested
        preceding edge, P L2,3 on Li K, gets that tail in its background when a low loss is
        given).

        The absolute scale (atoms/nm²) comes from the low-loss integral (incident electrons),
        else from the dose metadata; without either, the amounts are relative.

        Parameters
        ----------
        edges : str or sequence of str
            One edge per element, e.g. ``["Li_K", "P_L23", "N_K", "O_K"]``.
        low_loss : CryoEELSSpectrum, optional
            The matching low-loss spectrum image (same pixels, same dispersion), or one
            low-loss spectrum used for every pixel (a low loss acquired apart from the core
            loss, e.g. ``ll.mean(ll.axes_manager.navigation_axes)``): it then gives the plural
            scattering and t/lambda of the area, and the electrons per pixel come from the
            dose metadata (else the amounts are relative).
        method : {"model", "integration"}
            See above.
        count_target : float, optional
            Integration method: dose-aware background (see :meth:`subtract_background`).
        near_edge_eV : dict, optional
            Model fit: width above each onset to leave out (default: 25 eV for Li K, 15 eV for
            other K edges, 10 eV for L edges, plus the plasmon energy when a low loss is given).
        detector_gain : float, optional
            Counts per electron (default: metadata).
        bin_width : float
            Model fit: channels are summed into bins ``bin_width * E`` wide (Poisson counts
            stay Poisson; the power law is integrated over each bin, the edges summed
            exactly); 0 fits every channel. 4 % bins give areal densities within 0.1 % of
            2 % bins at half the cost (bench_large).
        overlap_edges : sequence of str, optional
            Model fit: edges fitted alongside but not quantified. By default, with Li K, the
            M2,3 edges of the transition metals declared in ``metadata.Sample.elements``
            (``s.add_elements(("Mn", "Co", "Ni"))``); when none is declared and adding them
            improves the fit markedly, a warning says so (checked with a low loss only: without
            it the plural-scattering replica of Li K looks like those edges).
        background_windows_eV : list of (float, float), optional
            Model fit: the background windows below every edge (default: the lowest edge's).
        fit_range_eV : (float, float), optional
            Model fit: restrict the fit to this energy range.
        show_progressbar : bool, optional
            Dask's progress bar while a lazy signal is computed (default: HyperSpy's
            preference).
        background_model : {"power_law", "exponential", "lcpl"}
            Integration: the background model of each edge's windows (the model fit uses a
            power law).

        Returns
        -------
        QuantificationResult
            Dicts of maps keyed by element: ``areal_density``, ``areal_density_std``,
            ``atomic_fraction``, ``atomic_fraction_std``; ``t_over_lambda`` (with a low loss),
            ``residual`` and ``background_exponent`` (model fit); ``summary()`` and
            ``stack()`` for reports and files.

        Raises
        ------
        ValueError
            An edge outside the energy axis or too close to its end, two edges of one element,
            a low loss whose pixels or dispersion do not match, a zero-loss peak not found.
        KeyError
            An unknown edge name (the message lists the known ones).
        cryospec.dose.MissingMetadataError
            Missing beam energy, angles or detector gain.
        """
        return quantify(
            self,
            edges,
            low_loss=low_loss,
            method=method,
            count_target=count_target,
            near_edge_eV=near_edge_eV,
            detector_gain=detector_gain,
            bin_width=bin_width,
            overlap_edges=overlap_edges,
            background_windows_eV=background_windows_eV,
            fit_range_eV=fit_range_eV,
            show_progressbar=show_progressbar,
            background_model=background_model,
        )

    def phase_maps(
        self,
        references: dict,
        edge: str = "Li_K",
        signal_range: tuple[float, float] | None = None,
        background_end_eV: float | None = None,
        low_loss=None,
        detector_gain: float | None = None,
    ) -> PhaseMapResult:
        """Phase-fraction maps with standard errors: reference spectra fitted to every pixel.

        Over ``signal_range`` each pixel's counts are modelled as a power law plus a
        non-negative combination of the references (Poisson maximum likelihood, all pixels at
        once, :func:`cryospec.phases.fit_phases`); with a low loss the references are
        convolved with each pixel's low-loss spectrum first, which matters for fine structure
        at t/lambda above about 0.1.

        Parameters
        ----------
        references : dict of str to Signal1D or ndarray
            Background-free single-scattering spectra of the phases, e.g. measured on standards
            (signals are interpolated onto the energy axis; arrays must match it) or
            ``truth.phase_references()`` of the built-in dataset. With references normalised per
            Li atom the fractions are fractions of the Li atoms.
        edge : str
            Edge whose database windows give the defaults: the range from the start of its
            background window to 10 eV past its integration window, the power law anchored
            below the end of its background window (Li K: 40-90 eV, anchor below 53 eV).
        signal_range : (float, float), optional
            Energy range fitted.
        background_end_eV : float, optional
            Below it only background.
        low_loss : EELSSpectrum, optional
            Low loss of the same pixels and dispersion, zero-loss peak at 0 eV.
        detector_gain : float, optional
            Counts per electron (default: from the metadata).

        Returns
        -------
        PhaseMapResult
            ``fraction``, ``fraction_se``, ``amount``, ``amount_se`` (dicts of maps keyed by
            phase) and ``residual``.

        Raises
        ------
        ValueError
            A range off the axis, negative or non-finite counts or references, a reference that
            does not overlap the range.
        """
        return phase_maps(
            self,
            references,
            edge=edge,
            signal_range=signal_range,
            background_end_eV=background_end_eV,
            low_loss=low_loss,
            detector_gain=detector_gain,
        )

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
        from ..calibration import find_edge_onset
        from ..edges import get_edge

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
        from .._chunks import nav_reduce
        from ._background_method import _low_loss_array
        from ._quantify_method import _zero_loss_centre

        ll_data, ll_energy = _low_loss_array(self, low_loss)
        centre = nav_reduce(_zero_loss_centre, ll_data, energy=ll_energy)
        core, ll = self.deepcopy(), low_loss.deepcopy()
        ll.align_zero_loss_peak(
            also_align=[core], subpixel=True, print_stats=False, show_progressbar=False
        )
        shift = self._get_navigation_signal(data=centre if centre.ndim else centre.reshape(1))
        shift.metadata.General.title = "zero-loss centre before alignment (eV)"
        core.metadata.set_item(
            "CryoSpec.Calibration",
            {"method": "zero-loss alignment", "mean_shift_eV": float(np.mean(centre))},
        )
        return core, ll, shift


class LazyCryoEELSSpectrum(CryoEELSSpectrum, LazyEELSSpectrum):
    """Lazy (Dask-backed) twin of :class:`CryoEELSSpectrum`."""
