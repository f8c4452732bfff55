"""Phase mapping: reference spectra fitted to every pixel; NMF components named by the maps.

Each pixel's counts over an edge region are modelled as a power-law background plus a
non-negative combination of reference spectra (single-scattering edge spectra of the phases,
measured on standards or simulated), convolved with the pixel's low loss when one is given
(multiple linear least squares in its Poisson maximum-likelihood form). The coefficients are the
amounts of each phase (in units of its reference), the fractions their shares; both carry
standard errors from the Fisher information, the fractions by the delta method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cryospec.core.checks import check_counts
from cryospec.core.edge_shapes import plural_convolve
from cryospec.core.poisson_fit import fit_power_law_with_edges

__all__ = ["PhaseFit", "fit_phases", "label_by_maps", "reference_shapes"]


@dataclass
class PhaseFit:
    """Result of :func:`fit_phases`; arrays have the navigation shape first.

    Attributes
    ----------
    names : tuple of str
        The phases, order of the last axis.
    amount, amount_se : ndarray (..., J)
        Coefficient of each reference (counts per unit of the reference) and its standard error.
    fraction, fraction_se : ndarray (..., J)
        Share of each phase among the fitted amounts (references normalised to the same unit,
        e.g. per Li atom, make these fractions of the Li atoms) and its standard error.
    deviance : ndarray (...)
        Poisson deviance of the fit; ``dof`` its degrees of freedom.
    """

    names: tuple[str, ...]
    amount: NDArray
    amount_se: NDArray
    fraction: NDArray
    fraction_se: NDArray
    deviance: NDArray
    dof: int


def reference_shapes(
    references: NDArray,
    energy: NDArray,
    low_loss: NDArray | None = None,
    low_loss_energy: NDArray | None = None,
) -> NDArray:
    """References on ``energy`` as fit shapes: ``(n, J)``, or ``(..., n, J)`` plurally scattered.

    ``references`` is ``(J, n)`` on the uniform axis ``energy`` (zero below it); with a low loss
    each is convolved with every pixel's normalised low-loss spectrum.
    """
    refs = np.asarray(references, dtype=float)
    if low_loss is None:
        return refs.T
    return plural_convolve(refs.T, energy, low_loss, low_loss_energy, energy)


def _check_references(references: NDArray, n_channels: int) -> None:
    if references.ndim != 2 or references.shape[1] != n_channels:
        raise ValueError(
            f"references must be (n_phases, {n_channels}) on the energy axis, got "
            f"{references.shape}"
        )
    check_counts(references, "reference spectra must be finite and non-negative")
    if np.any(references.sum(axis=1) <= 0):
        raise ValueError("a reference spectrum is zero over the fit range")


def fit_phases(
    counts: NDArray,
    energy: NDArray,
    references: NDArray,
    names: tuple[str, ...],
    background_end_eV: float,
    low_loss: NDArray | None = None,
    low_loss_energy: NDArray | None = None,
    read_noise: float = 0.0,
) -> PhaseFit:
    """Fit power law + non-negative references to every pixel (Poisson ML).

    Parameters
    ----------
    counts : ndarray (..., n)
        Electron counts over the fit range.
    energy : ndarray (n,)
        Uniform energy axis of the fit range (eV).
    references : ndarray (J, n)
        Single-scattering reference spectra on ``energy`` (zero where a phase has no signal).
    names : tuple of str
        Phase names, one per reference.
    background_end_eV : float
        The channels below it hold only background (they start the power law).
    low_loss, low_loss_energy : ndarray (..., m), (m,), optional
        Low-loss spectra, same dispersion: the references are plurally scattered per pixel.
    read_noise : float
        Read noise per channel in electrons: above 0, negative counts of a dark-subtracted
        detector are fitted as shifted Poisson
        (:func:`cryospec.core.poisson_fit.fit_power_law_with_edges`).

    Returns
    -------
    PhaseFit
    """
    n = np.asarray(counts, dtype=float)
    e = np.asarray(energy, dtype=float)
    refs = np.asarray(references, dtype=float)
    _check_references(refs, e.size)
    if len(names) != refs.shape[0]:
        raise ValueError(f"{refs.shape[0]} references but {len(names)} names")
    check_counts(
        n,
        "counts must be finite and non-negative (fit raw counts, or give the read noise of "
        "a dark-subtracted detector)",
        allow_negative=read_noise > 0,
    )
    anchor = e < background_end_eV
    shapes = reference_shapes(refs, e, low_loss, low_loss_energy)
    fit = fit_power_law_with_edges(n, e, shapes, anchor, read_noise=read_noise)
    amount = fit.params[..., 2:]
    cov = fit.covariance[..., 2:, 2:]
    amount_se = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0.0, None))
    total = amount.sum(axis=-1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    fraction = np.where(total > 0, amount / safe, np.nan)
    # d f_k / d a_l = (delta_kl - f_k) / S
    jac = (np.eye(amount.shape[-1]) - fraction[..., :, None]) / safe[..., None]
    fcov = jac @ cov @ np.swapaxes(jac, -1, -2)
    fraction_se = np.sqrt(np.clip(np.diagonal(fcov, axis1=-2, axis2=-1), 0.0, None))
    fraction_se = np.where(total > 0, fraction_se, np.nan)
    return PhaseFit(tuple(names), amount, amount_se, fraction, fraction_se, fit.deviance, fit.dof)


def label_by_maps(
    loadings: NDArray, phase_maps: NDArray, names: tuple[str, ...], mask: NDArray | None = None
) -> list[tuple[str, float]]:
    """Name each component by the phase map its loading map resembles most.

    Parameters
    ----------
    loadings : ndarray (n_pixels, k)
        Component loadings (e.g. NMF).
    phase_maps : ndarray (n_pixels, J)
        Phase amounts from :func:`fit_phases` on the same pixels.
    names : tuple of str
        Phase names.
    mask : ndarray of bool (n_pixels,), optional
        Pixels to leave out (True).

    Returns
    -------
    list of (str, float)
        Per component, the phase whose map has the highest Pearson correlation with its
        loadings, and that correlation (the match score). Several components may share a label
        (a phase split over components); a score near zero means no phase explains it.
    """
    w = np.asarray(loadings, dtype=float)
    p = np.asarray(phase_maps, dtype=float)
    if mask is not None:
        keep = ~np.asarray(mask, dtype=bool).ravel()
        w, p = w[keep], p[keep]
    w = w - w.mean(axis=0)
    p = p - p.mean(axis=0)
    norm = np.linalg.norm(w, axis=0)[:, None] * np.linalg.norm(p, axis=0)[None, :]
    corr = np.where(norm > 0, (w.T @ p) / np.where(norm > 0, norm, 1.0), 0.0)
    best = np.argmax(corr, axis=1)
    return [(names[j], float(corr[i, j])) for i, j in enumerate(best)]
