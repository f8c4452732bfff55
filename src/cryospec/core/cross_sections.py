"""Hydrogenic K and L2,3 ionisation cross-sections, computed offline.

The generalized oscillator strengths are Egerton's hydrogenic models (the SIGMAK3 and SIGMAL3
family: Egerton, *Electron Energy-Loss Spectroscopy in the Electron Microscope*, 3rd ed., 2011,
appendix B), evaluated for all energies at once and integrated over the scattering vector with
a fixed Gauss-Legendre rule in ln(q a0^2). Nothing is downloaded.

The L2,3 model is Egerton's: above the L1 onset it includes the L1 contribution, so a spectrum
model should not add a separate ``P_L1`` edge on top of ``P_L23``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import constants, integrate

from cryospec.edges import Edge, get_edge

__all__ = [
    "CROSS_SECTIONS",
    "DEFAULT_CROSS_SECTION",
    "differential_cross_section",
    "edge_differential_cross_section",
    "effective_collection_angle",
    "integrate_over_q",
    "partial_cross_section",
]

CROSS_SECTIONS = ("hydrogenic", "hartree-slater")
# Computed from the Hartree-Fock-Slater atom for every shell; its optical limit agrees with
# Chantler's photoabsorption within 5 % (tests/core/test_hfs_cross_sections.py), where the
# hydrogenic K shells of C, N and O lie 9-16 % above it.
DEFAULT_CROSS_SECTION = "hartree-slater"

RYDBERG_EV = constants.value("Rydberg constant times hc in eV")
_M0C2_EV = constants.value("electron mass energy equivalent in MeV") * 1e6
# 4 pi a0^2 in barn (1 barn = 1e-28 m^2)
_BARN_PREFACTOR = 4.0 * np.pi * constants.value("Bohr radius") ** 2 / 1e-28
# Egerton's correction exponents of the hydrogenic L2,3 GOS, for Z = 11 ... 36.
_L23_EXPONENT = (
    0.82,
    0.52,
    0.52,
    0.42,
    0.30,
    0.29,
    0.22,
    0.30,
    0.22,
    0.16,
    0.12,
    0.13,
    0.13,
    0.14,
    0.16,
    0.18,
    0.19,
    0.22,
    0.14,
    0.11,
    0.12,
    0.12,
    0.12,
    0.10,
    0.10,
    0.10,
)
_ATOMIC_NUMBER = {
    "Li": 3,
    "Be": 4,
    "B": 5,
    "C": 6,
    "N": 7,
    "O": 8,
    "F": 9,
    "Na": 11,
    "Mg": 12,
    "Al": 13,
    "Si": 14,
    "P": 15,
    "S": 16,
    "Cl": 17,
}
_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(96)


def _kinematics(beam_energy_keV: float) -> tuple[float, float]:
    gamma = 1.0 + beam_energy_keV * 1e3 / _M0C2_EV
    t_eff = _M0C2_EV * (1.0 - 1.0 / gamma**2) / 2.0
    return gamma, t_eff


def _q_limits(
    energy: NDArray, beam_energy_keV: float, beta_rad: NDArray
) -> tuple[NDArray, NDArray]:
    """ln(q a0^2) limits for energy losses ``energy`` and collection semi-angle ``beta_rad``."""
    gamma, t_eff = _kinematics(beam_energy_keV)
    r = RYDBERG_EV
    qa0_min = energy**2 / (4 * r * t_eff) + energy**3 / (8 * gamma**3 * r * t_eff**2)
    p02 = t_eff / (r * (1 - 2 * t_eff / _M0C2_EV))
    pp2 = p02 - energy / r * (gamma - energy / (2 * _M0C2_EV))
    qa0_max = qa0_min + 4 * np.sqrt(p02 * pp2) * np.sin(beta_rad / 2) ** 2
    return np.log(qa0_min), np.log(qa0_max)


def _gos_k(energy: NDArray, qa02: NDArray, z: int) -> NDArray:
    r = RYDBERG_EV
    zs, nk = (1.0, 1) if z == 1 else (z - 0.5, 2)
    q = qa02 / zs**2
    kh2 = energy / (r * zs**2) - 1.0
    akh = np.maximum(np.sqrt(np.abs(kh2)), 0.01)
    above = kh2 >= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.where(above, 1.0 - np.exp(-2 * np.pi / akh), 1.0)
        bp = np.arctan(2 * akh / (q - kh2 + 1.0))
        bp = np.where(bp < 0, bp + np.pi, bp)
        c_above = np.exp(-2.0 / akh * bp)
        c_below = np.exp(-1.0 / akh * np.log((q + 1 - kh2 + 2 * akh) / (q + 1 - kh2 - 2 * akh)))
    c = np.where(above, c_above, c_below)
    a = ((q - kh2 + 1.0) ** 2 + 4 * kh2) ** 3
    return 128 * nk * energy / (r * zs**4) * c / d * (q + kh2 / 3 + 1.0 / 3) / (a * r)


def _gos_l23(energy: NDArray, qa02: NDArray, z: int, onset_l3: float, onset_l1: float) -> NDArray:
    r = RYDBERG_EV
    zs = z - 0.35 * 7 - 1.7
    iz = z - 11
    u = _L23_EXPONENT[iz] if 0 <= iz < len(_L23_EXPONENT) else 0.1
    q = qa02 / zs**2
    kh2 = energy / (r * zs**2) - 0.25
    akh = np.sqrt(np.abs(kh2))
    above = kh2 >= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.where(above, 1.0 - np.exp(-2 * np.pi / akh), 1.0)
        bp = np.arctan(akh / (q - kh2 + 0.25))
        bp = np.where(bp < 0, bp + np.pi, bp)
        c_above = np.exp(-2.0 / akh * bp)
        c_below = np.exp(-1.0 / akh * np.log((q + 0.25 - kh2 + akh) / (q + 0.25 - kh2 - akh)))
    c = np.where(above, c_above, c_below)
    below_l1 = energy <= onset_l1
    g_l23 = (
        2.25 * q**4
        - (0.75 + 3 * kh2) * q**3
        + (0.59375 - 0.75 * kh2 - 0.5 * kh2**2) * q**2
        + (0.11146 + 0.85417 * kh2 + 1.8833 * kh2**2 + kh2**3) * q
        + 0.0035807
        + kh2 / 21.333
        + kh2**2 / 4.5714
        + kh2**3 / 2.4
        + kh2**4 / 4
    )
    g_l = (
        q**3
        - (5.0 / 3 * kh2 + 11.0 / 12) * q**2
        + (kh2**2 / 3 + 1.5 * kh2 + 65.0 / 48) * q
        + kh2**3 / 3
        + 0.75 * kh2**2
        + 23.0 / 48 * kh2
        + 5.0 / 64
    )
    base = (q - kh2 + 0.25) ** 2 + kh2
    g = np.where(below_l1, g_l23, g_l)
    a = np.where(below_l1, base**5, base**4)
    rf = np.clip((energy + 0.1 - onset_l3) / 1.8 / z**2, 0, None) ** u
    return rf * 32 * g * c / a / d * energy / r**2 / zs**4


def effective_collection_angle(
    energy: ArrayLike, beam_energy_keV: float, convergence_mrad: float, collection_mrad: float
) -> NDArray:
    """Effective collection semi-angle (mrad) for a convergent probe.

    Egerton's formula for the fraction of the inelastic scattering collected by an aperture of
    semi-angle ``collection_mrad`` when the probe has semi-angle ``convergence_mrad``, expressed
    as the collection angle that collects the same fraction with a parallel beam.

    Parameters
    ----------
    energy : array_like
        Energy loss in eV (> 0).
    beam_energy_keV, convergence_mrad, collection_mrad : float
        Beam energy (keV), convergence and collection semi-angles (mrad).
    """
    e = np.asarray(energy, dtype=float)
    if convergence_mrad <= 0:
        return np.full_like(e, float(collection_mrad))
    e0 = float(beam_energy_keV)
    tgt = e0 * (1 + e0 / 1022.0) / (1 + e0 / 511.0)
    theta_e = e / tgt
    a2 = (convergence_mrad * 1e-3) ** 2
    b2 = (collection_mrad * 1e-3) ** 2
    t2 = (theta_e * 1e-3) ** 2
    eta1 = np.sqrt((a2 + b2 + t2) ** 2 - 4 * a2 * b2) - a2 - b2 - t2
    eta2 = 2 * b2 * np.log(0.5 / t2 * (np.sqrt((a2 + t2 - b2) ** 2 + 4 * b2 * t2) + a2 + t2 - b2))
    eta3 = 2 * a2 * np.log(0.5 / t2 * (np.sqrt((b2 + t2 - a2) ** 2 + 4 * a2 * t2) + b2 + t2 - a2))
    f1 = (eta1 + eta2 + eta3) / 2 / a2 / np.log(1 + b2 / t2)
    f2 = f1 * a2 / b2 if convergence_mrad > collection_mrad else f1
    return theta_e * np.sqrt(np.exp(f2 * np.log(1 + b2 / t2)) - 1)


def differential_cross_section(
    energy: ArrayLike,
    element: str,
    shell: str,
    onset_eV: float,
    beam_energy_keV: float,
    collection_mrad: float,
    convergence_mrad: float = 0.0,
    l1_onset_eV: float | None = None,
) -> NDArray:
    """Energy-differential hydrogenic cross-section per atom, in barn/eV.

    Parameters
    ----------
    energy : array_like
        Energy-loss axis in eV. Zero below ``onset_eV``.
    element : str
        Chemical symbol (K shells: Li to Cl; L2,3: Na to Cl in the offline table).
    shell : {"K", "L23"}
        The shell.
    onset_eV : float
        Edge onset.
    beam_energy_keV, collection_mrad, convergence_mrad : float
        Microscope parameters; the convergence correction uses
        :func:`effective_collection_angle`.
    l1_onset_eV : float, optional
        L1 onset for L2,3 edges (default: the ``*_L1`` edge of the database).

    Returns
    -------
    ndarray
        dsigma/dE in barn/eV, same shape as ``energy``.
    """
    if element not in _ATOMIC_NUMBER:
        raise ValueError(f"no hydrogenic parameters for element {element!r}")
    for value, what in (
        (beam_energy_keV, "beam_energy_keV"),
        (collection_mrad, "collection_mrad"),
        (onset_eV, "onset_eV"),
    ):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{what} must be a positive number, got {value!r}")
    e = np.asarray(energy, dtype=float)
    out = np.zeros_like(e)
    mask = e > onset_eV
    if not mask.any():
        return out
    z = _ATOMIC_NUMBER[element]
    if shell == "K":

        def gos(ee, qa02):
            return _gos_k(ee, qa02, z)

    elif shell == "L23":
        l1 = l1_onset_eV if l1_onset_eV is not None else get_edge(f"{element}_L1").onset_eV

        def gos(ee, qa02):
            return _gos_l23(ee, qa02, z, onset_eV, l1)

    else:
        raise ValueError(f"hydrogenic cross-sections exist for K and L23 shells, not {shell!r}")
    out[mask] = integrate_over_q(e[mask], gos, beam_energy_keV, collection_mrad, convergence_mrad)
    return out


def integrate_over_q(
    energy: NDArray,
    gos,
    beam_energy_keV: float,
    collection_mrad: float,
    convergence_mrad: float = 0.0,
) -> NDArray:
    """dsigma/dE (barn/eV) from a GOS: ``gos(energy (n, 1), q^2 a0^2 (n, m)) -> df/dE per eV``
    integrated over ln(q^2 a0^2) between the limits of relativistic kinematics for the
    (effective) collection angle, by a 96-point Gauss-Legendre rule."""
    beta = effective_collection_angle(energy, beam_energy_keV, convergence_mrad, collection_mrad)
    lo, hi = _q_limits(energy, beam_energy_keV, beta * 1e-3)
    half = (hi - lo) / 2
    lnq = (lo + hi)[:, None] / 2 + half[:, None] * _GAUSS_X[None, :]
    values = gos(energy[:, None], np.exp(lnq))
    integral = (values * _GAUSS_W[None, :]).sum(axis=1) * half
    _, t_eff = _kinematics(beam_energy_keV)
    r = RYDBERG_EV
    return _BARN_PREFACTOR * (r / t_eff) * (r / energy) * integral


def edge_differential_cross_section(
    edge: str | Edge,
    energy: ArrayLike,
    beam_energy_keV: float,
    collection_mrad: float,
    convergence_mrad: float = 0.0,
    onset_eV: float | None = None,
) -> NDArray:
    """:func:`differential_cross_section` for an edge of the database (``"Li_K"``, ``"P_L23"``)."""
    e = get_edge(edge) if isinstance(edge, str) else edge
    return differential_cross_section(
        energy,
        e.element,
        e.shell,
        e.onset_eV if onset_eV is None else onset_eV,
        beam_energy_keV,
        collection_mrad,
        convergence_mrad,
    )


def partial_cross_section(
    edge: str | Edge,
    window_eV: tuple[float, float],
    beam_energy_keV: float,
    collection_mrad: float,
    convergence_mrad: float = 0.0,
    step_eV: float = 0.05,
    cross_section: str = DEFAULT_CROSS_SECTION,
) -> float:
    """Partial cross-section sigma(beta, Delta) in barn: dsigma/dE integrated over a window
    (hydrogenic, or ``cross_section="hartree-slater"``)."""
    lo, hi = window_eV
    grid = np.arange(lo, hi + step_eV / 2, step_eV)
    if cross_section == "hartree-slater":
        from cryospec.core.gos_tables import hfs_differential_cross_section

        dsde = hfs_differential_cross_section(
            edge, grid, beam_energy_keV, collection_mrad, convergence_mrad
        )
    elif cross_section == "hydrogenic":
        dsde = edge_differential_cross_section(
            edge, grid, beam_energy_keV, collection_mrad, convergence_mrad
        )
    else:
        raise ValueError(f"unknown cross_section {cross_section!r}")
    return float(integrate.trapezoid(dsde, grid))
