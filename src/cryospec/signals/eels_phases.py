"""Phase maps of a cryo EELS signal: reference spectra fitted to every pixel
(:meth:`PhaseMethods.phase_maps`; the fit is :func:`cryospec.core.phases.fit_phases`)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from hyperspy.signal import BaseSignal

from cryospec._chunks import compute_with_progress, map_spectra
from cryospec.core.phases import fit_phases
from cryospec.edges import get_edge
from cryospec.signals.axis_checks import energy_axis
from cryospec.signals.count_validation import count_check_maps, count_report
from cryospec.signals.io import names_read_errors
from cryospec.signals.low_loss import check_low_loss, low_loss_array
from cryospec.signals.maps import SignalMaps, navigation_map
from cryospec.signals.quantify_noise import negative_count_sums, resolve_count_noise
from cryospec.signals.results import PhaseMapResult

__all__ = ["PhaseMethods"]


class PhaseMethods:
    """The ``phase_maps`` method of :class:`~cryospec.signals.CryoEELSSpectrum`."""

    @names_read_errors
    def phase_maps(
        self,
        references: dict,
        edge: str = "Li_K",
        signal_range: tuple[float, float] | None = None,
        background_end_eV: float | None = None,
        low_loss=None,
        detector_gain: float | None = None,
        negative: str = "shift",
        read_noise: float | None = None,
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
        negative : {"shift", "clip", "raise"}
            Negative counts in the range (a dark-subtracted detector): fitted with the read
            noise as shifted Poisson, set to 0 (biased), or an error, as in
            :meth:`quantify` (:mod:`cryospec.signals.quantify_noise`); recorded in
            ``result.noise``.
        read_noise : float, optional
            With ``negative="shift"``: the read-noise standard deviation in counts (default:
            the one of ``set_noise_model``, else estimated from the negative counts, with a
            warning).

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
        energy_all = energy_axis(self)
        entry = get_edge(edge)
        if signal_range is None:
            signal_range = (
                entry.background_windows_eV[0][0],
                entry.integration_window_eV[1] + 10.0,
            )
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
            ll_data, ll_energy = low_loss_array(self, low_loss)
            for message in check_low_loss(ll_data, ll_energy):
                warnings.warn(message, UserWarning, stacklevel=2)
            per_pixel = [ll_data]
        j = len(names)
        gain = self.detector_gain(detector_gain)
        in_range = self.data[..., keep]
        checks, n_negative, square_sum, _ = compute_with_progress(
            count_check_maps(in_range, gain), *negative_count_sums(in_range)
        )
        for message in count_report(checks, in_range, energy, "the fit range").warnings:
            warnings.warn(message, UserWarning, stacklevel=2)
        noise = resolve_count_noise(self, negative, read_noise, gain, n_negative, square_sum)
        for message in noise.warnings:
            warnings.warn(message, UserWarning, stacklevel=2)
        packed = map_spectra(
            _kernel,
            self.data,
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
            noise=noise,
        )
        packed = compute_with_progress(packed)

        def maps(first, title):
            arrays = {name: packed[..., first + i] for i, name in enumerate(names)}
            return SignalMaps(arrays, lambda name, v: navigation_map(self, v, title.format(name)))

        result = PhaseMapResult(
            names=names,
            amount=maps(0, "{} amount"),
            amount_se=maps(j, "{} amount standard error"),
            fraction=maps(2 * j, "{} fraction"),
            fraction_se=maps(3 * j, "{} fraction standard error"),
            residual=navigation_map(self, packed[..., 4 * j], "phase fit: Poisson deviance / dof"),
            signal_range=(float(lo), float(hi)),
            background_end_eV=float(background_end_eV),
            noise=noise.record(),
        )
        return result


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


def _kernel(block, *ll_block, energy, keep, refs, names, background_end, ll_energy, noise):
    counts = noise.electrons(block[..., keep])
    low_loss = ll_block[0] if ll_block else None
    fit = fit_phases(
        counts, energy, refs, names, background_end, low_loss, ll_energy,
        read_noise=noise.read_noise_electrons,
    )  # fmt: skip
    dof = max(fit.dof, 1)
    return np.concatenate(
        [fit.amount, fit.amount_se, fit.fraction, fit.fraction_se, (fit.deviance / dof)[..., None]],
        axis=-1,
    )
