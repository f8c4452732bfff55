"""Edge shapes for the model fits: offline dsigma/dE per edge, plurally scattered by the low loss.

``edge_shapes`` gives every edge's differential cross-section on an energy axis (hydrogenic K and
L2,3, an empirical delayed shape for M2,3), cached per process for a given axis, and convolved
with each pixel's normalised low loss when one is given (plural scattering).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sp_fft

from cryospec.core.cross_sections import (
    CROSS_SECTIONS,
    DEFAULT_CROSS_SECTION,
    edge_differential_cross_section,
)
from cryospec.core.gos_tables import hfs_differential_cross_section
from cryospec.edges import get_edge

__all__ = [
    "CROSS_SECTIONS",
    "DEFAULT_CROSS_SECTION",
    "edge_shape",
    "edge_shapes",
    "plural_convolve",
]


M23_RISE_EV = 5.0


def edge_shape(
    edge: str,
    energy: NDArray,
    beam_energy_keV: float,
    collection_mrad: float,
    convergence_mrad: float = 0.0,
    cross_section: str = DEFAULT_CROSS_SECTION,
) -> NDArray:
    """Shape of one edge on ``energy``: its dsigma/dE (barn/eV).

    ``cross_section="hartree-slater"``: computed from the Hartree-Fock-Slater GOS
    (:mod:`cryospec.core.gos_tables`) for every shell of the database. ``"hydrogenic"``:
    Egerton's hydrogenic models for K and L2,3; M2,3 edges (the Mn, Fe, Co, Ni edges under Li K)
    then get an empirical shape, a rise over about ``M23_RISE_EV`` to a delayed maximum followed
    by an ``E^-3`` decay, normalised to 1 at its maximum: its fitted amplitude separates them
    from Li K, it is not an areal density.
    """
    if cross_section not in CROSS_SECTIONS:
        raise ValueError(f"cross_section must be one of {CROSS_SECTIONS}, got {cross_section!r}")
    entry = get_edge(edge)
    if cross_section == "hartree-slater":
        return hfs_differential_cross_section(
            entry, energy, beam_energy_keV, collection_mrad, convergence_mrad
        )
    if entry.shell in ("K", "L23"):
        return edge_differential_cross_section(
            entry, energy, beam_energy_keV, collection_mrad, convergence_mrad
        )
    if entry.shell == "M23":

        def raw(e):
            u = np.clip(e - entry.onset_eV, 0.0, None) / M23_RISE_EV
            return u**2 / (1.0 + u**2) * (entry.onset_eV / np.maximum(e, 1e-3)) ** 3

        fine = entry.onset_eV + np.linspace(0.0, 10.0 * M23_RISE_EV, 2001)
        return raw(np.asarray(energy, dtype=float)) / raw(fine).max()
    raise ValueError(f"no offline shape for the {entry.name} edge (shell {entry.shell})")


@functools.lru_cache(maxsize=16)
def _single_scattering_shapes(
    energy: bytes, edges: tuple[str, ...], microscope: tuple, cross_section: str
) -> NDArray:
    e = np.frombuffer(energy, dtype=float)
    return np.stack(
        [edge_shape(name, e, *microscope, cross_section=cross_section) for name in edges], axis=-1
    )


def edge_shapes(
    energy: NDArray,
    edges: tuple[str, ...],
    beam_energy_keV: float,
    collection_mrad: float,
    convergence_mrad: float = 0.0,
    low_loss: NDArray | None = None,
    low_loss_energy: NDArray | None = None,
    cross_section: str = DEFAULT_CROSS_SECTION,
) -> NDArray:
    """Shapes ``S_j(E)`` of preceding edges: dsigma/dE in barn/eV, optionally plurally scattered.

    Parameters
    ----------
    energy : ndarray (n,)
        Uniform energy axis (eV).
    edges : tuple of str
        Edge names.
    beam_energy_keV, collection_mrad, convergence_mrad : float
        Microscope parameters of the cross-sections.
    low_loss : ndarray (..., m), optional
        Low-loss spectra (any scale; each is normalised to unit sum), same dispersion as
        ``energy``; the shapes are convolved with them.
    low_loss_energy : ndarray (m,)
        Energy axis of ``low_loss``.
    cross_section : {"hydrogenic", "hartree-slater"}
        The cross-sections (see :func:`edge_shape`).

    Returns
    -------
    ndarray
        ``(n, J)`` without a low loss, ``(..., n, J)`` with one.
    """
    energy = np.asarray(energy, dtype=float)
    step = float(energy[1] - energy[0])
    if low_loss is None:
        # The same for every block of a map: computed once per process and axis.
        microscope = (float(beam_energy_keV), float(collection_mrad), float(convergence_mrad))
        return _single_scattering_shapes(
            energy.tobytes(), tuple(edges), microscope, cross_section
        ).copy()
    ll_energy = np.asarray(low_loss_energy, dtype=float)
    # sigma on a grid that starts far enough below the axis for every low-loss shift, and
    # ends far enough above it for the gain side of the zero-loss peak (without it the last
    # channels lose part of the peak and the model drops there)
    lead = int(np.ceil(max(ll_energy[-1], 0.0) / step)) + 1
    tail = int(np.ceil(max(-ll_energy[0], 0.0) / step)) + 1
    grid = energy[0] - lead * step + step * np.arange(lead + energy.size + tail)
    sigma = np.stack(
        [
            edge_shape(
                e,
                np.maximum(grid, 1e-3),
                beam_energy_keV,
                collection_mrad,
                convergence_mrad,
                cross_section,
            )
            for e in edges
        ],
        axis=-1,
    )
    return plural_convolve(sigma, grid, low_loss, ll_energy, energy)


def plural_convolve(
    spectra: NDArray,
    grid: NDArray,
    low_loss: NDArray,
    low_loss_energy: NDArray,
    energy: NDArray,
) -> NDArray:
    """Convolve single-scattering spectra with each pixel's normalised low loss.

    Parameters
    ----------
    spectra : ndarray (g, J)
        Spectra on the uniform ``grid`` (zero below it).
    grid : ndarray (g,)
        Their energies; same dispersion as ``low_loss_energy``; ``energy`` lies on it.
    low_loss : ndarray (..., m)
        Low-loss spectra (any scale; each is normalised to unit sum).
    low_loss_energy : ndarray (m,)
        Energy axis of ``low_loss``.
    energy : ndarray (n,)
        Where the result is wanted.

    Returns
    -------
    ndarray (..., n, J)
        The plurally scattered spectra, clipped at zero.
    """
    grid = np.asarray(grid, dtype=float)
    energy = np.asarray(energy, dtype=float)
    step = float(grid[1] - grid[0])
    ll = np.asarray(low_loss, dtype=float)
    ll_energy = np.asarray(low_loss_energy, dtype=float)
    ll_step = float(ll_energy[1] - ll_energy[0])
    if not np.isclose(ll_step, step, rtol=1e-4):
        raise ValueError(
            f"the low loss has {ll_step:g} eV per channel and the core loss {step:g}: "
            "plural scattering needs the same dispersion"
        )
    totals = ll.sum(axis=-1, keepdims=True)
    if np.any(totals <= 0) or not np.all(np.isfinite(ll)):
        raise ValueError("every low-loss spectrum needs finite counts with a positive total")
    # float32 is ample for the shapes (1e-7 relative) and halves the memory traffic.
    kernel = (ll / totals).astype(np.float32)
    m = ll.shape[-1]
    n_fft = sp_fft.next_fast_len(grid.size + m, real=True)
    spectrum = sp_fft.rfft(np.asarray(spectra, dtype=np.float32), n=n_fft, axis=0)  # (f, J)
    kernel_ft = sp_fft.rfft(kernel, n=n_fft, axis=-1, workers=-1)  # (..., f)
    product = np.swapaxes(kernel_ft[..., None, :] * spectrum.T, -1, -2)
    conv = sp_fft.irfft(product, n=n_fft, axis=-2, workers=-1)
    # conv[q] is at energy grid[0] + ll_energy[0] + q * step
    first = round(float(energy[0] - grid[0] - ll_energy[0]) / step)
    return np.clip(conv[..., first : first + energy.size, :], 0.0, None)
