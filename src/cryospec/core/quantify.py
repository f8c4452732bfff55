"""Edge quantification kernels: areal densities and atomic fractions with their uncertainties.

Two methods, both on every pixel at once:

* **model fit**: over a fit range that starts at the background window of the lowest edge, the
  spectrum is ``A (E / E_ref)^-r + sum_j c_j S_j(E)`` with ``S_j`` each edge's hydrogenic
  cross-section, convolved with the pixel's normalised low loss when one is given (plural
  scattering). The first ``near_edge_eV`` above each onset (the fine structure, which the
  hydrogenic shape does not describe) are left out of the fit. Poisson maximum likelihood with
  non-negative ``c_j`` (:func:`cryospec.background_edges.fit_power_law_with_edges`); the
  standard errors come from the Fisher information.
* **integration** (Egerton's ratio method): the background-subtracted signal in a window
  ``Delta`` divided by the partial cross-section and by the low-loss intensity up to ``Delta``.

Areal densities follow from ``c_j = I0 * n_j * dE * 1e-10`` (``n`` in atoms/nm², dsigma/dE
in barn/eV, 1 barn = 1e-10 nm²), with ``I0`` the incident electrons per pixel: the low-loss
integral, or beam current x dwell time from the metadata.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cryospec.core.edge_model_result import EdgeModelResult, ModelCurves, model_curves
from cryospec.core.edge_shapes import DEFAULT_CROSS_SECTION, edge_shapes
from cryospec.core.local_fit import local_fit_plan, segment_plan
from cryospec.core.poisson_fit import fit_power_law_with_edges
from cryospec.edges import Edge, get_edge
from cryospec.edges.white_lines import white_line_extent_eV

__all__ = [
    "FIT_RANGES",
    "M23_DEVIANCE_DROP",
    "M23_MISMATCH_RATIO",
    "TRANSITION_METAL_M23",
    "EdgeModelResult",
    "ModelCurves",
    "anchor_windows_eV",
    "atomic_fractions",
    "channel_window",
    "edge_model_block",
    "edge_off_axis",
    "fit_edge_model",
    "fit_range_masks",
    "m23_deviance_drop",
    "near_edge_width",
    "quantification_window",
    "ratio_method_density",
]

BARN_NM2 = 1e-10
FIT_RANGES = ("global", "local")


def edge_off_axis(edge: Edge, energy: NDArray) -> str | None:
    """Why ``edge`` cannot be quantified on ``energy`` (its onset or integration window falls
    outside the axis), or None when it can."""
    lo, hi = quantification_window(edge)
    if edge.onset_eV <= energy[0] or hi > energy[-1]:
        return (
            f"its onset ({edge.onset_eV:g} eV) or integration window [{lo:g}, {hi:g}] eV falls "
            f"outside the energy axis [{energy[0]:g}, {energy[-1]:g}] eV"
        )
    return None


def near_edge_width(edge: Edge) -> float:
    """Default width (eV) above the onset left out of the model fit: the fine structure, and
    for the L2,3 edges of Sc-Cu and the M4,5 edges of Cs-Yb the white lines
    (:func:`cryospec.edges.white_lines.white_line_extent_eV`, 18 eV for Ti L2,3)."""
    if edge.name == "Li_K":
        return 25.0  # ionic Li compounds peak near 62 eV and keep structure to about 80 eV
    white_lines = white_line_extent_eV(edge)
    if white_lines is not None:
        return max(white_lines, 10.0)
    return 15.0 if edge.shell == "K" else 10.0


def quantification_window(edge: Edge) -> tuple[float, float]:
    """The integration method's window of ``edge``: the database's, moved above the white
    lines for an edge that has them (same width, starting where :func:`near_edge_width` ends),
    because no atomic cross-section holds the white lines."""
    lo, hi = edge.integration_window_eV
    white_lines = white_line_extent_eV(edge)
    if white_lines is None or lo >= edge.onset_eV + white_lines:
        return lo, hi
    start = edge.onset_eV + white_lines
    return start, start + (hi - lo)


def channel_window(energy: NDArray, lo: float, hi: float) -> tuple[float, float]:
    """The energy range that the channels whose centres lie in ``[lo, hi]`` cover (half a
    channel beyond the first and the last centre): the integration method sums those
    channels' counts, so its cross-section and low-loss reach are taken over this range."""
    e = np.asarray(energy, dtype=float)
    step = float(e[1] - e[0])
    inside = e[(e >= lo) & (e <= hi)]
    if inside.size == 0:
        raise ValueError(f"no channel centre lies in the window {lo:g}-{hi:g} eV")
    return float(inside[0] - step / 2), float(inside[-1] + step / 2)


def anchor_windows_eV(
    edges: list[Edge], anchor_windows: list[tuple[float, float]] | None = None
) -> list[tuple[float, float]]:
    """The windows that start the model fit's power law: ``anchor_windows`` when given, else
    the database windows of the lowest of ``edges`` (quantified and nuisance edges)."""
    if anchor_windows is not None:
        return [tuple(w) for w in anchor_windows]
    return [tuple(w) for w in min(edges, key=lambda e: e.onset_eV).background_windows_eV]


def fit_range_masks(
    energy: NDArray,
    edges: list[Edge],
    near_edge_eV: dict[str, float] | None = None,
    anchor_windows: list[tuple[float, float]] | None = None,
    fit_range_eV: tuple[float, float] | None = None,
    overlaps: list[Edge] = (),
) -> tuple[NDArray, NDArray]:
    """Channels of the model fit and, among them, the anchor below every edge.

    The fit covers the background window(s) of the lowest edge (or ``anchor_windows``) and,
    above it, every channel except the near-edge region of each quantified edge, up to the axis
    end or the end of ``fit_range_eV``. ``overlaps`` (nuisance edges) only move the anchor below
    them; their own shapes are fitted from their onset.
    """
    near = near_edge_eV or {}
    windows = anchor_windows_eV([*edges, *overlaps], anchor_windows)
    anchor = np.zeros(energy.shape, dtype=bool)
    for lo, hi in windows:
        anchor |= (energy >= lo) & (energy <= hi)
    fit = anchor | (energy >= max(hi for _, hi in windows))
    for edge in edges:
        width = near.get(edge.name, near_edge_width(edge))
        fit &= ~((energy >= edge.onset_eV) & (energy < edge.onset_eV + width))
    if fit_range_eV is not None:
        fit &= (energy >= fit_range_eV[0]) & (energy <= fit_range_eV[1])
    return fit, anchor[fit]


def fit_edge_model(
    electrons: NDArray,
    energy: NDArray,
    edges: list[str],
    microscope: tuple[float, float, float],
    incident: NDArray | float,
    low_loss: NDArray | None = None,
    low_loss_energy: NDArray | None = None,
    near_edge_eV: dict[str, float] | None = None,
    bin_width: float = 0.04,
    overlaps: list[str] = (),
    anchor_windows: list[tuple[float, float]] | None = None,
    fit_range_eV: tuple[float, float] | None = None,
    cross_section: str = DEFAULT_CROSS_SECTION,
    fit_ranges: str = "global",
    barriers_eV: tuple[float, ...] = (),
    exponent_from: NDArray | None = None,
    exponent_low_loss: NDArray | None = None,
    overlap_cross_section: str | None = None,
    read_noise: float = 0.0,
    exponent_read_noise: float = 0.0,
    keep_curves: bool = False,
) -> EdgeModelResult:
    """Fit background and edges together on every pixel; return areal densities.

    Parameters
    ----------
    electrons : ndarray (..., n)
        Core-loss electron counts (recorded counts / gain).
    energy : ndarray (n,)
        Uniform energy axis.
    edges : list of str
        Edge names to quantify.
    microscope : (beam_energy_keV, collection_mrad, convergence_mrad)
        For the cross-sections.
    incident : ndarray (...) or float
        Incident electrons per pixel (the low-loss integral); 1 gives relative amounts.
    low_loss, low_loss_energy : ndarray, optional
        Low-loss spectra (..., m) on the same dispersion, for plural scattering.
    near_edge_eV : dict, optional
        Width left out above each onset, by edge name.
    bin_width : float
        Channels are summed into bins about ``bin_width * E`` wide for the fit (Poisson counts
        stay Poisson; 0 fits every channel).
    overlaps : list of str
        Nuisance edges fitted alongside (the M2,3 edges under Li K); their amplitudes are
        returned in ``overlap_amplitude`` (counts per channel at the shape's maximum).
    anchor_windows : list of (float, float), optional
        Background windows below every edge (default: the lowest edge's database windows).
    fit_range_eV : (float, float), optional
        Restrict the fit to this range.
    cross_section : {"hydrogenic", "hartree-slater"}
        The edges' cross-sections (:func:`cryospec.core.edge_shapes.edge_shape`).
    fit_ranges : {"global", "local"}
        One joint fit over the whole range, or each edge's amount from a fit that ends below
        the next edge (:func:`cryospec.core.local_fit.local_fit_plan`). In pieces, the
        background exponent is the lowest fit's, the deviance the sum over the fits, and each
        overlap amplitude from the last fit that holds it.
    barriers_eV : tuple of float
        Onsets of edges in the data that were not requested: no range crosses them (the joint
        fit is cut there, :func:`cryospec.core.local_fit.segment_plan`).
    exponent_from, exponent_low_loss : ndarray (n,) and (m,), optional
        A summed spectrum (and its summed low loss): the same model fitted to it gives the
        background exponent that every pixel then shares (a pooled background shape, for
        pixels whose counts cannot fix it).
    overlap_cross_section : str, optional
        The nuisance edges' cross-sections (default: ``cross_section``).
    read_noise, exponent_read_noise : float
        The read noise per channel in electrons of ``electrons`` and of ``exponent_from``:
        negative counts of a dark-subtracted detector are fitted as shifted Poisson
        (:func:`cryospec.core.poisson_fit.fit_power_law_with_edges`).
    keep_curves : bool
        Keep the fitted background and edge contributions in ``curves``
        (:class:`ModelCurves`, one per fit range), for a figure; ``electrons`` must then hold
        one spectrum.
    """
    if fit_ranges not in FIT_RANGES:
        raise ValueError(f"fit_ranges must be one of {FIT_RANGES}, got {fit_ranges!r}")
    if keep_curves and np.size(electrons) != np.shape(electrons)[-1]:
        raise ValueError(
            f"keep_curves keeps the model of one spectrum, got {np.shape(electrons)[:-1]} spectra"
        )
    if (fit_ranges == "local" and len(edges) > 1) or barriers_eV:
        return _fit_local(
            electrons,
            energy,
            edges,
            overlaps,
            fit_range_eV,
            near_edge_eV,
            tuple(barriers_eV),
            fit_ranges,
            microscope=microscope,
            incident=incident,
            low_loss=low_loss,
            low_loss_energy=low_loss_energy,
            bin_width=bin_width,
            cross_section=cross_section,
            anchor_windows=anchor_windows,
            exponent_from=exponent_from,
            exponent_low_loss=exponent_low_loss,
            overlap_cross_section=overlap_cross_section,
            read_noise=read_noise,
            exponent_read_noise=exponent_read_noise,
            keep_curves=keep_curves,
        )
    entries = [get_edge(e) for e in edges]
    extra = [get_edge(e) for e in overlaps]
    energy = np.asarray(energy, dtype=float)
    step = float(energy[1] - energy[0])
    end = energy[-1] if fit_range_eV is None else min(energy[-1], fit_range_eV[1])
    for entry in entries:
        if not energy[0] < entry.onset_eV < energy[-1]:
            raise ValueError(
                f"the {entry.name} onset ({entry.onset_eV:g} eV) lies outside the energy axis "
                f"[{energy[0]:g}, {energy[-1]:g}] eV"
            )
        top = entry.onset_eV + near_edge_eV_or_default(entry, near_edge_eV) + 10.0
        if top > end:
            raise ValueError(
                f"the {entry.name} edge is too close to the end of the fit ({end:g} eV) to fit "
                "it beyond its near-edge region"
            )
    fit, anchor = fit_range_masks(
        energy, entries, near_edge_eV, anchor_windows, fit_range_eV, extra
    )
    names = tuple(e.name for e in entries)
    plural = {"low_loss": low_loss, "low_loss_energy": low_loss_energy}
    shapes = edge_shapes(energy, names, *microscope, **plural, cross_section=cross_section)
    if extra:
        nuisance = edge_shapes(
            energy,
            tuple(e.name for e in extra),
            *microscope,
            **plural,
            cross_section=overlap_cross_section or cross_section,
        )
        shapes = np.concatenate([shapes, nuisance], axis=-1)
    all_shapes = shapes
    shapes = shapes[..., fit, :]
    n = np.asarray(electrons)
    n = n if n.dtype == np.float32 else n.astype(np.float64, copy=False)
    exponent = None
    if exponent_from is not None:
        exponent = fit_edge_model(
            np.asarray(exponent_from, dtype=float)[None],
            energy,
            edges,
            microscope,
            1.0,
            low_loss=None if exponent_low_loss is None else np.asarray(exponent_low_loss)[None],
            low_loss_energy=low_loss_energy,
            near_edge_eV=near_edge_eV,
            bin_width=bin_width,
            overlaps=overlaps,
            anchor_windows=anchor_windows,
            fit_range_eV=fit_range_eV,
            cross_section=cross_section,
            overlap_cross_section=overlap_cross_section,
            read_noise=exponent_read_noise,
        ).background_exponent[0]
    result = fit_power_law_with_edges(
        n,
        energy[fit],
        shapes,
        anchor,
        bin_width=bin_width,
        channels=fit,
        exponent=exponent,
        read_noise=read_noise,
    )
    j = len(names)
    scale = np.asarray(incident, dtype=float)[..., None] * step * BARN_NM2
    density = result.params[..., 2 : 2 + j] / scale
    cov = result.covariance[..., 2 : 2 + j, 2 : 2 + j] / (scale[..., :, None] * scale[..., None, :])
    return EdgeModelResult(
        edges=names,
        areal_density=density,
        covariance=cov,
        background_exponent=result.params[..., 1],
        reduced_deviance=result.deviance / max(result.dof, 1),
        converged=result.converged,
        overlaps=tuple(e.name for e in extra),
        overlap_amplitude=result.params[..., 2 + j :],
        deviance=result.deviance,
        curves=[model_curves(result, energy, fit, all_shapes, (*names, *(e.name for e in extra)))]
        if keep_curves
        else [],
    )


def _fit_local(
    electrons, energy, edges, overlaps, fit_range_eV, near_edge_eV, barriers_eV, fit_ranges,
    anchor_windows, **common,
):  # fmt: skip
    """:func:`fit_edge_model` in pieces: the local fits of
    :func:`cryospec.core.local_fit.local_fit_plan` (each edge's amount from its own), or the
    joint fit cut at unrequested edges (:func:`cryospec.core.local_fit.segment_plan`)."""
    entries = [get_edge(e) for e in edges]
    energy = np.asarray(energy, dtype=float)
    end = energy[-1] if fit_range_eV is None else min(energy[-1], fit_range_eV[1])
    start = energy[0] if fit_range_eV is None else fit_range_eV[0]
    near = [near_edge_eV_or_default(e, near_edge_eV) for e in entries]
    window_ends = [max(hi for _, hi in e.background_windows_eV) for e in entries]
    onsets = [e.onset_eV for e in entries]
    if fit_ranges == "local":
        plan = local_fit_plan(onsets, near, window_ends, float(end), barriers_eV)
    else:
        plan = segment_plan(onsets, window_ends, float(end), barriers_eV)
    density = covariance = None
    converged = True
    for step in plan:
        hi = end if step.end_eV is None else step.end_eV
        lo, windows = start, anchor_windows
        if step.window_eV is not None:
            lo, windows = step.window_eV[0], [step.window_eV]
        full = step.end_eV is None and step.window_eV is None
        result = fit_edge_model(
            electrons,
            energy,
            [entries[i].name for i in step.fitted],
            overlaps=[o for o in overlaps if lo < get_edge(o).onset_eV < hi],
            fit_range_eV=fit_range_eV if full else (lo, hi),
            near_edge_eV=near_edge_eV,
            anchor_windows=windows,
            **common,
        )
        if density is None:
            nav = result.areal_density.shape[:-1]
            density = np.zeros((*nav, len(entries)))
            covariance = np.zeros((*nav, len(entries), len(entries)))
            overlap = np.zeros((*nav, len(overlaps)))
            fits = []
        mine = np.array(step.quantified)
        where = np.array([step.fitted.index(i) for i in step.quantified])
        density[..., mine] = result.areal_density[..., where]
        covariance[..., mine[:, None], mine] = result.covariance[..., where[:, None], where]
        converged = converged & result.converged
        fits.append(result)
        for k, name in enumerate(result.overlaps):
            overlap[..., list(overlaps).index(name)] = result.overlap_amplitude[..., k]
    # goodness of fit over every local fit (ranges may share their pre-edge channels)
    deviance = sum(r.deviance for r in fits)
    dof = 0.0
    for r in fits:
        with np.errstate(divide="ignore", invalid="ignore"):
            dof = dof + np.where(r.reduced_deviance > 0, r.deviance / r.reduced_deviance, 0.0)
    return EdgeModelResult(
        edges=tuple(e.name for e in entries),
        areal_density=density,
        covariance=covariance,
        background_exponent=fits[0].background_exponent,
        reduced_deviance=deviance / np.maximum(dof, 1.0),
        converged=converged,
        overlaps=tuple(overlaps),
        overlap_amplitude=overlap,
        deviance=deviance,
        curves=[curve for r in fits for curve in r.curves],
    )


def near_edge_eV_or_default(edge: Edge, near_edge_eV: dict[str, float] | None) -> float:
    """The near-edge width of ``edge``: the caller's, else :func:`near_edge_width`."""
    return (near_edge_eV or {}).get(edge.name, near_edge_width(edge))


def atomic_fractions(density: NDArray, covariance: NDArray) -> tuple[NDArray, NDArray]:
    """Atomic fractions ``n_i / sum n`` and their standard errors (delta method).

    Parameters
    ----------
    density : ndarray (..., J)
        Areal densities.
    covariance : ndarray (..., J, J)
        Their covariance (diagonal when the edges were measured independently).
    """
    total = density.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = density / total
        j = density.shape[-1]
        # d x_i / d n_k = (delta_ik - x_i) / T
        jac = (np.eye(j) - fraction[..., :, None]) / total[..., None]
        var = np.einsum("...ik,...kl,...il->...i", jac, covariance, jac)
    return fraction, np.sqrt(np.clip(var, 0, None))


TRANSITION_METAL_M23 = {"Mn": "Mn_M23", "Fe": "Fe_M23", "Co": "Co_M23", "Ni": "Ni_M23"}


# Mean per-pixel drop of the Poisson deviance, when the four M2,3 edges are added, above which
# they are reported (chi-square with 4 degrees of freedom: 15 is p = 0.005 for one pixel).
M23_DEVIANCE_DROP = 15.0
# ... and above this many times the deviance per degree of freedom that remains with them (the
# model mismatch already present: Li K fine structure, a low loss averaged over the map). Four
# free amplitudes fitted to noise alone lower the deviance by at most 4 on average, in units of
# that mismatch. Measured (drop / mismatch): built-in dataset with an averaged low loss 0.5 at
# 40 and 400 pA (no transition metal), exspy-made data -0.6; a Co M2,3 edge added to the built-in
# data 15-17, the real NMC 8.1.
M23_MISMATCH_RATIO = 4.0


def edge_model_block(
    electrons: NDArray,
    incident: NDArray,
    *low_loss: NDArray,
    edges: tuple[str, ...],
    overlaps: tuple[str, ...] = (),
    **fit_arguments,
) -> NDArray:
    """:func:`fit_edge_model` on one block of pixels, packed (:meth:`EdgeModelResult.pack`).

    ``incident`` has a trailing axis of length 1 and the block's low loss, if any, follows it
    (the form in which a Dask block kernel receives per-pixel arrays); ``fit_arguments`` are
    those of :func:`fit_edge_model`, with ``low_loss_energy`` for the low loss.
    """
    result = fit_edge_model(
        electrons,
        edges=list(edges),
        incident=incident[..., 0],
        low_loss=low_loss[0] if low_loss else None,
        overlaps=list(overlaps),
        **fit_arguments,
    )
    return result.pack()


def m23_deviance_drop(
    electrons: NDArray,
    energy: NDArray,
    microscope: tuple[float, float, float],
    incident: NDArray,
    low_loss: NDArray | None = None,
    low_loss_energy: NDArray | None = None,
    anchor_windows: list[tuple[float, float]] | None = None,
    bin_width: float = 0.04,
    cross_section: str = DEFAULT_CROSS_SECTION,
    read_noise: float = 0.0,
) -> tuple[float, float]:
    """Mean drop of the Poisson deviance when the M2,3 edges of Mn, Fe, Co and Ni join Li K,
    and the mean deviance per degree of freedom left with them.

    Li K alone is fitted over 40-128 eV with only 3 eV above its onset left out, with and
    without the four M2,3 shapes. Their delayed maxima improve the fit only when the edges are
    there: a drop above :data:`M23_DEVIANCE_DROP` (a likelihood-ratio test) and above
    :data:`M23_MISMATCH_RATIO` times the deviance per degree of freedom left (the mismatch the
    model has anyway, which scales every deviance) says that the sample seems to hold
    transition metals.
    """
    arguments = {
        "microscope": microscope,
        "incident": incident,
        "low_loss": low_loss,
        "low_loss_energy": low_loss_energy,
        "near_edge_eV": {"Li_K": 3.0},
        "anchor_windows": anchor_windows,
        "fit_range_eV": (0.0, 128.0),
        "bin_width": bin_width,
        "cross_section": cross_section,
        # a detector, calibrated on the empirical M2,3 shapes (delayed maxima 5 eV above each
        # onset): with the computed ones the test loses its power on the real NMC spectrum
        "overlap_cross_section": "hydrogenic",
        "read_noise": read_noise,
    }
    alone = fit_edge_model(electrons, energy, ["Li_K"], **arguments)
    metals = fit_edge_model(
        electrons, energy, ["Li_K"], overlaps=list(TRANSITION_METAL_M23.values()), **arguments
    )
    drop = float(np.mean(alone.deviance - metals.deviance))
    return drop, float(np.mean(metals.reduced_deviance))


def ratio_method_density(
    net_electrons: NDArray,
    variance: NDArray,
    cross_section_barn: float,
    reach: NDArray,
) -> tuple[NDArray, NDArray]:
    """Egerton's ratio method: areal density (atoms/nm²) and its variance.

    Parameters
    ----------
    net_electrons : ndarray
        Background-subtracted edge electrons in the integration window.
    variance : ndarray
        Their variance (electrons²).
    cross_section_barn : float
        Partial cross-section sigma(beta, Delta) of the window (barn).
    reach : ndarray
        Egerton's I_l(Delta): the low-loss electrons up to the window width (or the incident
        electrons without a low loss).
    """
    scale = reach * cross_section_barn * BARN_NM2
    return net_electrons / scale, variance / scale**2
