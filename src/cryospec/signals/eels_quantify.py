"""Edge quantification of a cryo EELS signal: areal densities and atomic fractions with maps of
their standard errors (:meth:`QuantificationMethods.quantify`).

The numerics are in :mod:`cryospec.core.quantify` (the Poisson model fit and Egerton's ratio
method) and :mod:`cryospec.core.low_loss`; this module validates the signal, reads its metadata
and low loss, maps the kernels over the pixels and wraps the result.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from cryospec._chunks import compute_with_progress, is_lazy_array, map_spectra
from cryospec.core.cross_sections import partial_cross_section
from cryospec.core.edge_shapes import DEFAULT_CROSS_SECTION
from cryospec.core.fit_health import fit_health
from cryospec.core.local_fit import LOCAL_MARGIN_EV
from cryospec.core.quantify import (
    M23_DEVIANCE_DROP,
    M23_MISMATCH_RATIO,
    TRANSITION_METAL_M23,
    EdgeModelResult,
    anchor_windows_eV,
    atomic_fractions,
    channel_window,
    edge_model_block,
    fit_edge_model,
    m23_deviance_drop,
    near_edge_width,
    quantification_window,
    ratio_method_density,
)
from cryospec.core.unrequested_edges import find_edges_below, find_unrequested_edges
from cryospec.edges import Edge, get_edge
from cryospec.signals.count_validation import CountReport, count_check_maps, count_report
from cryospec.signals.eels_background import background_subtracted_sum
from cryospec.signals.io import names_read_errors
from cryospec.signals.maps import SignalMaps, fraction_title, navigation_map
from cryospec.signals.metadata import microscope_parameters
from cryospec.signals.quantify_arguments import (
    check_fit_windows,
    check_quantify_arguments,
    checked_energy_axis,
)
from cryospec.signals.quantify_low_loss import LowLoss, read_low_loss
from cryospec.signals.quantify_noise import negative_count_sums, resolve_count_noise
from cryospec.signals.quantify_provenance import cross_section_record, white_line_notes
from cryospec.signals.results import QuantificationResult
from cryospec.signals.spectrum_fit import spectrum_fit

__all__ = ["QuantificationMethods"]

_logger = logging.getLogger(__name__)
# Integration: a requested edge this far below another is that edge's preceding edge.
_PRECEDING_WITHIN_EV = 120.0


class QuantificationMethods:
    """The ``quantify`` method of :class:`~cryospec.signals.CryoEELSSpectrum`."""

    @names_read_errors
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
        cross_section: str = DEFAULT_CROSS_SECTION,
        fit_ranges: str = "global",
        background_shape: str = "per_pixel",
        negative: str = "shift",
        read_noise: float | None = None,
    ) -> QuantificationResult:
        """Areal densities and atomic fractions of the given edges, with standard-error maps.

        ``method="model"`` fits a power-law background and the edges' cross-sections together
        (convolved with each pixel's low loss when given: plural scattering is in the model),
        leaving out the fine structure above each onset, by Poisson maximum likelihood on every
        pixel at once; the errors come from the Fisher information.
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
            stay Poisson); 0 fits every channel. 4 % bins give areal densities within 0.1 % of
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
        cross_section : {"hydrogenic", "hartree-slater"}
            Egerton's hydrogenic K and L2,3 models, or the GOS computed offline for every shell
            (:mod:`cryospec.core.gos_tables`); recorded in ``summary()["cross_section"]``.
        fit_ranges : {"global", "local"}
            Model fit: one joint fit of every edge (the default), or each edge's amount from a
            fit that ends below the next edge (:mod:`cryospec.core.local_fit`). Either way an
            edge found in the data that was not requested ends the range below it (a note and a
            warning say so). Measured: on exspy-made data both hold within 5 %, the local fits
            with twice the statistical error; on the real SrTiO3 and NMC standards the short
            ranges of the local fits between close edges fail (O/Ti 7.7 for 3), the joint fit
            holds (tests/signals/test_real_standards.py).
        background_shape : {"per_pixel", "pooled"}
            Model fit: the power-law exponent fitted in every pixel, or fitted once to the
            map's summed spectrum and shared by every pixel (the amplitudes stay per pixel).
            Pooled suits a low-dose map of even thickness, where a pixel's counts cannot fix the
            exponent: on exspy-made data at 5e4 electrons per pixel, N K fitted with O K alone
            came out +102 % per pixel and +2 % pooled; it does not suit a map whose thickness
            varies (the built-in dataset: N +2 % per pixel, +13 % pooled).
        negative : {"shift", "clip", "raise"}
            Negative counts (a dark-subtracted CCD or CMOS detector): fitted with the read
            noise as shifted Poisson (``"shift"``: the amounts stay unbiased), set to 0
            (``"clip"``: biased upwards where the signal is weak, with a warning), or an error
            (:mod:`cryospec.signals.quantify_noise`). Recorded in ``summary()["noise"]``.
        read_noise : float, optional
            With ``negative="shift"``: the read-noise standard deviation per channel, in
            recorded counts (default: the one of :meth:`set_noise_model`, else, when the data
            hold negative counts, estimated from them with a warning).

        Returns
        -------
        QuantificationResult
            Dicts of maps keyed by element: ``areal_density``, ``areal_density_se``,
            ``atomic_fraction``, ``atomic_fraction_se`` (standard errors); ``t_over_lambda``
            (with a low loss), ``residual`` and ``background_exponent`` (model fit);
            ``summary()`` and ``stack()`` for reports and files.

        Raises
        ------
        ValueError
            An edge outside the energy axis or too close to its end, two edges of one element,
            a low loss whose pixels or dispersion do not match, a zero-loss peak not found,
            negative counts with ``negative="raise"``.
        KeyError
            An unknown edge name (the message lists the known ones).
        cryospec.core.dose.MissingMetadataError
            Missing beam energy, angles or detector gain.
        """
        entries = check_quantify_arguments(
            edges, method, background_model, count_target, cross_section, fit_ranges,
            background_shape, fit_range_eV, background_windows_eV,
        )  # fmt: skip
        energy = checked_energy_axis(self, entries)
        check_fit_windows(energy, entries, fit_range_eV, background_windows_eV)
        gain = self.detector_gain(detector_gain)
        microscope = microscope_parameters(self)
        ll = read_low_loss(self, low_loss, gain, detector_gain)
        near = _near_edge_widths(entries, ll, near_edge_eV)
        overlaps = _overlap_edges(self, [e.name for e in entries], overlap_edges)
        end = energy[-1] if fit_range_eV is None else min(energy[-1], fit_range_eV[1])
        total, summed_ll, negatives, counts = _summed_spectra(self, ll, gain, show_progressbar)
        noise = resolve_count_noise(self, negative, read_noise, gain, *negatives[:2])
        if noise.negative == "clip":
            total = negatives[2]
        unrequested = find_unrequested_edges(
            total, energy, entries, near, float(end), tuple(overlaps)
        )
        fit = None
        if method == "model":
            fit_arguments = {
                "energy": energy,
                "microscope": microscope,
                "low_loss_energy": ll.energy,
                "near_edge_eV": near,
                "bin_width": bin_width,
                "anchor_windows": background_windows_eV,
                "fit_range_eV": fit_range_eV,
                "cross_section": cross_section,
                "fit_ranges": fit_ranges,
                "barriers_eV": tuple(u.onset_eV for u in unrequested),
                # the nuisance M2,3 edges keep the empirical shapes, normalised to 1 at their
                # maximum: the computed ones do not separate them from Li K on real NMC
                "overlap_cross_section": "hydrogenic",
                "read_noise": noise.read_noise_electrons,
            }
            if background_shape == "pooled":
                fit_arguments["exponent_from"] = total
                fit_arguments["exponent_low_loss"] = summed_ll
                fit_arguments["exponent_read_noise"] = _summed_read_noise(self, noise)
            fit = _model_fit(self, entries, overlaps, noise, ll, fit_arguments, show_progressbar)
            summed_arguments = {**fit_arguments, "read_noise": _summed_read_noise(self, noise)}
            fit.summed = _summed_fit(total, summed_ll, ll, fit.edges, overlaps, summed_arguments)
            density, covariance = fit.areal_density, fit.covariance
        windows = None
        if method != "model":
            windows = {e.name: channel_window(energy, *quantification_window(e)) for e in entries}
            density, covariance = _integration(
                self, entries, ll, gain, microscope, count_target, show_progressbar,
                background_model, cross_section, noise, windows,
            )  # fmt: skip
        if counts.empty.any():
            density = np.where(counts.empty[..., None], np.nan, density)
            covariance = np.where(counts.empty[..., None, None], np.nan, covariance)
        record = cross_section_record(entries, microscope, cross_section, windows)
        result = _result(self, method, entries, ll, density, covariance, fit, near, record)
        if method == "model":
            result.fit_ranges = fit_ranges
        # the nuisance edges too: the fit's power law starts below the lowest of them all
        fitted_edges = [*entries, *(get_edge(name) for name in overlaps)]
        result.spectrum_fit = spectrum_fit(
            method, energy, total, int(np.prod(self.data.shape[:-1])), entries, near,
            anchor_windows_eV(fitted_edges, background_windows_eV),
            None if fit is None else fit.summed, background_model,
        )  # fmt: skip
        result.noise = noise.record()
        result.notes.extend(noise.notes())
        messages = _unrequested_notes(unrequested, method)
        messages.extend(_edges_below_notes(find_edges_below(total, energy, entries), entries))
        result.notes.extend(messages)
        result.notes.extend(counts.warnings)
        return _warned(result, [*counts.warnings, *noise.warnings, *messages])


def _near_edge_widths(entries: list[Edge], ll, near_edge_eV) -> dict[str, float]:
    """Width left out above each onset: the default, plus the plasmon energy with a low loss
    (plasmon replicas of the fine structure reach one plasmon energy further up), or the
    caller's."""
    near = {e.name: near_edge_width(e) for e in entries}
    if ll.data is not None:
        near = {k: v + ll.plasmon_eV for k, v in near.items()}
    near.update(near_edge_eV or {})
    return near


def _overlap_edges(signal, names, overlap_edges) -> list[str]:
    """Nuisance edges of the model: given, or the M2,3 edges of declared transition metals."""
    if overlap_edges is not None:
        return [get_edge(e).name for e in overlap_edges]
    if "Li_K" not in names:
        return []
    declared = set(signal.metadata.get_item("Sample.elements", []) or [])
    return [edge for element, edge in TRANSITION_METAL_M23.items() if element in declared]


def _edges_below_notes(found, entries: list[Edge]) -> list[str]:
    """What an unrequested edge below the requested ones means (each is also a warning)."""
    elements = ", ".join(e.element for e in entries)
    return [
        f"{edge.describe()}, below the requested edges: the atomic fractions are among "
        f"{elements} only and leave its element out; request its edge to include it"
        for edge in found
    ]


def _unrequested_notes(found, method: str) -> list[str]:
    """What an unrequested edge did to the quantification (each is also a warning)."""
    if method == "model":
        effect = (
            f"the fit of the requested edges below it ends {LOCAL_MARGIN_EV:g} eV below it and "
            "those above are fitted apart, from a pre-edge window above it; request it to "
            "quantify it"
        )
    else:
        effect = (
            "it may lie in the windows of the requested edges and bias them; request it, or "
            "use the model fit, whose range stops below it"
        )
    return [f"{u.describe()}: {effect}" for u in found]


def _model_fit(signal, entries, overlaps, noise, ll, fit_arguments, show_progressbar):
    """The Poisson model fit of every pixel (:func:`cryospec.core.quantify.fit_edge_model`)."""
    names = tuple(e.name for e in entries)
    electrons = noise.electrons(signal.data)
    packed = map_spectra(
        edge_model_block,
        electrons,
        ll.incident[..., None],
        *([ll.data] if ll.data is not None else []),
        n_out=EdgeModelResult.packed_size(len(names), len(overlaps)),
        dtype=float,
        max_pixels=4096,
        edges=names,
        overlaps=tuple(overlaps),
        **fit_arguments,
    )
    packed = compute_with_progress(packed, show_progressbar=show_progressbar)
    if "Li_K" in names and not overlaps and ll.data is not None:
        _warn_if_m_edges_hide_under_li_k(electrons, ll, fit_arguments)
    elif "Li_K" in names and not overlaps:
        # The plural-scattering replica of Li K (one plasmon energy up) has the delayed shape
        # of an M2,3 edge: without the low loss the two cannot be told apart.
        _logger.info(
            "no low loss: the check for undeclared Mn/Fe/Co/Ni M2,3 edges under Li K is "
            "skipped (plural scattering of Li K would look like them)"
        )
    return EdgeModelResult.unpack(packed, names, tuple(overlaps))


def _summed_spectra(
    signal, ll, gain: float, show_progressbar
) -> tuple[np.ndarray, Any, tuple, CountReport]:
    """The map's summed core loss in electrons and its summed low loss (None without one), in
    one pass over the data: the onset test for unrequested edges, the detection fit and the
    pooled background shape take them (one more pass over a lazy cube than the fit's). The
    same pass counts the negative values and sums their squares, and sums the counts clipped
    at 0 (:mod:`cryospec.signals.quantify_noise`)."""
    data = signal.data
    axes = tuple(range(data.ndim - 1))
    summed_ll = None if ll.data is None else ll.data.sum(axis=axes, dtype=float)
    # summed in float64: a float32 map's sum can pass float32's range (3.4e38)
    total, summed_ll, checks, n_negative, square_sum, below = compute_with_progress(
        data.sum(axis=axes, dtype=float),
        summed_ll,
        count_check_maps(data, gain),
        *negative_count_sums(data),
        show_progressbar=show_progressbar,
    )
    report = count_report(checks, data, signal.axes_manager.signal_axes[0].axis)
    total = np.asarray(total, dtype=float) / gain
    clipped = total - np.asarray(below, dtype=float) / gain
    negatives = (int(n_negative), float(square_sum), clipped)
    summed_ll = None if summed_ll is None else np.asarray(summed_ll, dtype=float)
    return total, summed_ll, negatives, report


def _summed_read_noise(signal, noise) -> float:
    """The read noise of the map's summed spectrum (that of one pixel, times the square root
    of the number of pixels), in electrons."""
    return noise.read_noise_electrons * float(np.sqrt(np.prod(signal.data.shape[:-1])))


def _summed_fit(total, summed_ll, ll, names, overlaps, fit_arguments) -> EdgeModelResult:
    """The model fitted to the map's summed spectrum (``total``, with the summed low loss):
    the detection test of each edge (the per-pixel amounts are kept non-negative, so their sum
    is biased above zero for an absent edge; one fit of the summed counts is not)."""
    return fit_edge_model(
        np.asarray(total, dtype=float)[None],
        edges=list(names),
        incident=float(np.sum(ll.incident)),
        low_loss=None if summed_ll is None else np.asarray(summed_ll, dtype=float)[None],
        overlaps=list(overlaps),
        keep_curves=True,
        **fit_arguments,
    )


def _rows(data, pick: np.ndarray) -> np.ndarray:
    """The spectra of the flat pixel indices ``pick`` (only those are read of a lazy array)."""
    if data.ndim == 1:  # one spectrum
        return np.asarray(data)[None][pick]
    index = np.unravel_index(pick, data.shape[:-1])
    if is_lazy_array(data):
        return np.stack([np.asarray(data[i].compute()) for i in zip(*index, strict=True)])
    return np.asarray(data[index])


def _warn_if_m_edges_hide_under_li_k(electrons, ll: LowLoss, fit_arguments) -> None:
    """Warn when the M2,3 edges of Mn, Fe, Co or Ni seem to lie under Li K, tested on a sample
    of at most 64 pixels (:func:`cryospec.core.quantify.m23_deviance_drop`)."""
    n_pixels = int(np.prod(electrons.shape[:-1]))
    pick = np.unique(np.linspace(0, n_pixels - 1, min(64, n_pixels)).astype(int))
    drop, mismatch = m23_deviance_drop(
        np.asarray(_rows(electrons, pick)),
        fit_arguments["energy"],
        fit_arguments["microscope"],
        ll.incident.reshape(-1)[pick],
        low_loss=_rows(ll.data, pick),
        low_loss_energy=ll.energy,
        anchor_windows=fit_arguments["anchor_windows"],
        bin_width=fit_arguments["bin_width"],
        cross_section=fit_arguments["cross_section"],
        read_noise=fit_arguments["read_noise"],
    )
    if drop > M23_DEVIANCE_DROP and drop > M23_MISMATCH_RATIO * max(mismatch, 1.0):
        message = (
            "the Li K region fits markedly better with the M2,3 edges of Mn, Fe, Co or Ni (mean "
            f"deviance drop {drop:.1f} per pixel, {drop / max(mismatch, 1.0):.1f} times the "
            f"deviance per degree of freedom left): the sample seems to hold transition metals, "
            "whose edges would be taken for Li. Declare them (s.add_elements(('Mn', 'Co', "
            "'Ni'))) so that they are fitted with Li K."
        )
        warnings.warn(message, UserWarning, stacklevel=4)
        _logger.warning(message)


def _integration(
    signal,
    entries,
    ll,
    gain,
    microscope,
    count_target,
    show_progressbar,
    background_model,
    cross_section,
    noise,
    windows,
):
    """Areal densities and their (diagonal) covariance by Egerton's ratio method, edge by edge
    (:func:`cryospec.core.quantify.ratio_method_density`), on the background of each edge's
    windows; an edge on the tail of a requested edge within ``_PRECEDING_WITHIN_EV`` below it
    gets that tail in its background when a low loss is given."""
    densities, variances = [], []
    for entry in entries:
        lo, hi = quantification_window(entry)
        # the counts of the channels whose centres lie in the window: the cross-section and
        # the low-loss reach over exactly the range those channels cover
        covered = windows[entry.name]
        preceding = [
            e.name
            for e in entries
            if entry.onset_eV - _PRECEDING_WITHIN_EV < e.onset_eV < entry.onset_eV
        ]
        background = {"model": background_model}
        if preceding and ll.data is not None and background_model == "power_law":
            background = {
                "preceding_edges": preceding,
                "low_loss": ll.signal,
                "cross_section": cross_section,
            }
        net, var = background_subtracted_sum(
            signal, entry.name, lo, hi, count_target=count_target,
            show_progressbar=show_progressbar, negative=noise.negative,
            read_noise=noise.read_noise, detector_gain=gain, **background,
        )  # fmt: skip
        sigma = partial_cross_section(entry, covered, *microscope, cross_section=cross_section)
        width = covered[1] - covered[0]
        if ll.separate:
            # Egerton's I_l(Delta) as the separate spectrum's share of its total, times the
            # electrons on each pixel (its own integral belongs to another acquisition).
            spectrum = ll.spectrum
            reach = ll.incident * spectrum[ll.energy <= width].sum() / spectrum.sum()
        elif ll.data is not None:
            reach = ll.data[..., ll.energy <= width].sum(-1)
            reach = compute_with_progress(reach, show_progressbar=False) / ll.gain
            reach = reach * ll.exposure_ratio
        else:
            reach = ll.incident
        density, variance = ratio_method_density(net / gain, var / gain**2, sigma, reach)
        densities.append(density)
        variances.append(variance)
    density = np.stack(densities, axis=-1)
    covariance = np.zeros((*density.shape, density.shape[-1]))
    idx = np.arange(len(entries))
    covariance[..., idx, idx] = np.stack(variances, axis=-1)
    return density, covariance


def _warned(result: QuantificationResult, messages: list[str]) -> QuantificationResult:
    """The result, after a warning for each of ``messages`` and each problem of its fit health
    (never silent)."""
    for message in [*messages, *result.fit_health["warnings"]]:
        warnings.warn(message, UserWarning, stacklevel=3)
    return result


def _result(
    signal, method, entries, ll, density, covariance, fit, near, cross_section
) -> QuantificationResult:
    elements = [e.element for e in entries]
    units = ll.units
    health = fit_health(
        density,
        covariance,
        elements,
        None if fit is None else fit.reduced_deviance,
        None if fit is None else fit.summed,
    )
    fraction, fraction_se = atomic_fractions(density, covariance)
    if not any(record["detected"] for record in health["elements"].values()):
        # fractions of amounts none of which is there are ratios of noise
        fraction = np.full_like(fraction, np.nan)
        fraction_se = np.full_like(fraction_se, np.nan)
        health["warnings"].append(
            f"no requested edge is detected ({', '.join(elements)}): the atomic fractions are "
            "undefined and left NaN; the areal densities give upper limits"
        )
    se = np.sqrt(np.clip(np.diagonal(covariance, axis1=-2, axis2=-1), 0, None))

    def maps(values, title, unit=""):
        arrays = {el: values[..., i] for i, el in enumerate(elements)}
        return SignalMaps(
            arrays,
            lambda el, v: navigation_map(
                signal, v, title.format(el), f"{el} {unit}".strip() if unit else ""
            ),
        )

    def optional(values, title):
        return None if values is None else navigation_map(signal, values, title)

    overlap_maps = {}
    if fit is not None:
        overlap_maps = {name: fit.overlap_amplitude[..., i] for i, name in enumerate(fit.overlaps)}
    return QuantificationResult(
        method=method,
        edges=tuple(e.name for e in entries),
        units=units,
        areal_density=maps(density, "{} areal density", f"({units})"),
        areal_density_se=maps(se, "{} areal density standard error", f"({units})"),
        atomic_fraction=maps(fraction, fraction_title("{}", elements)),
        atomic_fraction_se=maps(
            fraction_se, fraction_title("{}", elements, "atomic fraction standard error")
        ),
        t_over_lambda=optional(ll.t_over_lambda, "t/lambda (log-ratio)"),
        residual=optional(None if fit is None else fit.reduced_deviance, "Poisson deviance / dof"),
        background_exponent=optional(
            None if fit is None else fit.background_exponent, "background exponent r"
        ),
        incident_electrons=navigation_map(signal, ll.incident, "incident electrons per pixel"),
        near_edge_eV=near,
        cross_section=cross_section,
        notes=[*ll.notes, *white_line_notes(entries, method, near)],
        fit_health=health,
        overlap_amplitude=SignalMaps(
            overlap_maps,
            lambda name, values: navigation_map(
                signal, values, f"{name} amplitude (counts/channel at its maximum)"
            ),
        ),
    )
