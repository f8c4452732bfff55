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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .background_edges import edge_shapes, fit_power_law_with_edges
from .edges import Edge, get_edge

__all__ = [
    "EdgeModelResult",
    "atomic_fractions",
    "edge_off_axis",
    "fit_edge_model",
    "fit_range_masks",
    "log_ratio_thickness",
    "near_edge_width",
    "zero_loss_peak",
]

BARN_NM2 = 1e-10


def edge_off_axis(edge: Edge, energy: NDArray) -> str | None:
    """Why ``edge`` cannot be quantified on ``energy`` (its onset or integration window falls
    outside the axis), or None when it can."""
    lo, hi = edge.integration_window_eV
    if edge.onset_eV <= energy[0] or hi > energy[-1]:
        return (
            f"its onset ({edge.onset_eV:g} eV) or integration window [{lo:g}, {hi:g}] eV falls "
            f"outside the energy axis [{energy[0]:g}, {energy[-1]:g}] eV"
        )
    return None


def near_edge_width(edge: Edge) -> float:
    """Default width (eV) above the onset left out of the model fit: the fine structure."""
    if edge.name == "Li_K":
        return 25.0  # ionic Li compounds peak near 62 eV and keep structure to about 80 eV
    return 15.0 if edge.shell == "K" else 10.0


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
    ordered = sorted([*edges, *overlaps], key=lambda e: e.onset_eV)
    windows = anchor_windows if anchor_windows is not None else ordered[0].background_windows_eV
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


@dataclass
class EdgeModelResult:
    """Result of :func:`fit_edge_model` (shapes (...), (..., J), (..., J, J)).

    Attributes
    ----------
    edges : tuple of str
        Edge names, the order of the last axes.
    areal_density, covariance : ndarray
        Atoms/nm² per edge (relative units when ``incident`` was 1), and their covariance.
    background_exponent : ndarray
        Fitted power-law exponent.
    reduced_deviance : ndarray
        Poisson deviance per degree of freedom over the fit channels.
    converged : ndarray of bool
    """

    edges: tuple[str, ...]
    areal_density: NDArray
    covariance: NDArray
    background_exponent: NDArray
    reduced_deviance: NDArray
    converged: NDArray
    overlaps: tuple[str, ...] = ()
    overlap_amplitude: NDArray | None = None
    deviance: NDArray | None = None

    @property
    def standard_error(self) -> NDArray:
        """Standard error of each areal density."""
        return np.sqrt(np.clip(np.diagonal(self.covariance, axis1=-2, axis2=-1), 0, None))


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
    """
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
    shapes = edge_shapes(
        energy,
        (*names, *(e.name for e in extra)),
        *microscope,
        low_loss=low_loss,
        low_loss_energy=low_loss_energy,
    )
    shapes = shapes[..., fit, :]
    n = np.asarray(electrons)
    n = n if n.dtype == np.float32 else n.astype(np.float64, copy=False)
    result = fit_power_law_with_edges(
        n, energy[fit], shapes, anchor, bin_width=bin_width, channels=fit
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


def zero_loss_peak(low_loss: NDArray, energy: NDArray) -> tuple[NDArray, NDArray]:
    """Centre (eV) and integrated intensity of the zero-loss peak of every spectrum.

    The centre is the maximum refined by a parabola through its neighbours; the intensity
    mirrors the peak's low-energy side (``2 x counts below the centre + the centre channel``),
    which needs no threshold between the peak and the plasmons.

    Raises
    ------
    ValueError
        If a spectrum's maximum is at the edge of the axis or the peak has no low-energy side.
    """
    ll = np.asarray(low_loss, dtype=float)
    e = np.asarray(energy, dtype=float)
    step = float(e[1] - e[0])
    top = np.argmax(ll, axis=-1)
    if np.any(top == 0) or np.any(top == e.size - 1):
        raise ValueError("the zero-loss peak was not found: a spectrum peaks at the axis end")
    left = np.take_along_axis(ll, (top - 1)[..., None], -1)[..., 0]
    mid = np.take_along_axis(ll, top[..., None], -1)[..., 0]
    right = np.take_along_axis(ll, (top + 1)[..., None], -1)[..., 0]
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    centre = e[top] + np.clip(offset, -0.5, 0.5) * step
    below = np.arange(e.size) < top[..., None]
    if np.any(below.sum(-1) < 3):
        raise ValueError("the zero-loss peak was not found: no channels below its maximum")
    intensity = 2.0 * np.where(below, ll, 0.0).sum(-1) + mid
    return centre, intensity


def log_ratio_thickness(low_loss: NDArray, energy: NDArray) -> NDArray:
    """Relative thickness t/lambda = ln(total / zero-loss) of every low-loss spectrum."""
    _, zero_loss = zero_loss_peak(low_loss, energy)
    total = np.asarray(low_loss, dtype=float).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(total / zero_loss)
