"""Theoretical Cliff-Lorimer k-factors, absorption in the film, and the zeta-factor mass thickness.

``C_A / C_B = k_AB I_A / I_B`` (weight fractions, as exspy) with
``k_A = A_A / (Q_A eps_A)`` relative to a reference line: ``A`` the atomic weight, ``Q`` the
X-rays of the line generated per atom and per electron (:mod:`cryospec.core.xray_generation`)
and ``eps`` the detector efficiency at the line (:mod:`cryospec.core.xray_detection`).

With the dose known, the same physics gives each element's mass per area directly (the
zeta-factor method, Watanabe and Williams, J. Microsc. 221 (2006) 89):
``rho t C_A = I_A A_A / (N_e N_A Q_A eps_A (Omega / 4 pi) a_A)``, summed over the elements for
the mass thickness ``rho t``; ``a_A`` is the line's absorption in the film, which depends on
``rho t`` and the composition, so the two are iterated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import constants

from cryospec.core.xray_detection import (
    Detector,
    attenuation_matrix,
    detector_efficiency,
    thin_film_absorption,
)
from cryospec.core.xray_generation import line_emission

__all__ = [
    "SOURCES",
    "KFactor",
    "absorption_corrected_weights",
    "theoretical_k_factors",
    "zeta_mass_thickness",
]

_BARN_CM2 = 1e-24
# The ingredients of every theoretical k-factor and their sources, in one line.
SOURCES = (
    "Casnati et al. 1982 ionisation cross-section; xraydb fluorescence yield and line "
    "fraction (Elam 2002), Coster-Kronig cascade for L lines; detector efficiency from "
    "xraydb mass attenuation"
)


@dataclass(frozen=True)
class KFactor:
    """A theoretical k-factor and what it is made of."""

    line: str
    value: float
    relative_uncertainty: float
    reference: str
    energy_keV: float
    photons_barn: float
    efficiency: float
    atomic_weight: float


def theoretical_k_factors(
    lines: Sequence[str],
    beam_energy_keV: float,
    detector: Detector,
    reference: str = "Si_Ka",
) -> dict[str, KFactor]:
    """Cliff-Lorimer k-factors of ``lines`` relative to ``reference`` (its k is 1).

    Returns
    -------
    dict
        Line -> :class:`KFactor`; the uncertainty of each combines the line's and the
        reference's stated generation uncertainties (zero for the reference itself).
    """
    ref = line_emission(reference, beam_energy_keV)
    ref_eff = float(detector_efficiency(ref.energy_keV, detector))
    ref_k = ref.atomic_weight / (ref.photons_barn * ref_eff)
    out = {}
    for line in lines:
        em = line_emission(line, beam_energy_keV)
        eff = float(detector_efficiency(em.energy_keV, detector))
        if not eff > 1e-6:
            raise ValueError(
                f"the {detector.name} detector records no {line} X-rays ({em.energy_keV:.3f} keV)"
            )
        value = em.atomic_weight / (em.photons_barn * eff) / ref_k
        u = (
            0.0
            if line == reference
            else float(np.hypot(em.relative_uncertainty, ref.relative_uncertainty))
        )
        out[line] = KFactor(
            line, float(value), u, reference, em.energy_keV, em.photons_barn, eff, em.atomic_weight
        )
    return out


def _weights(intensity: NDArray, k: NDArray) -> NDArray:
    amount = intensity * k
    with np.errstate(invalid="ignore", divide="ignore"):
        return amount / amount.sum(-1, keepdims=True)


def absorption_corrected_weights(
    intensity: NDArray,
    k_factors: NDArray,
    elements: Sequence[str],
    energies_keV: Sequence[float],
    mass_thickness_g_cm2,
    take_off_deg: float,
    iterations: int = 12,
) -> tuple[NDArray, NDArray]:
    """Weight fractions (..., J) corrected for absorption in a film of known mass thickness,
    and the absorption factors (..., J) they imply.

    The composition that sets the absorption is the corrected one: the correction is iterated
    (it converges in a few steps for films thinner than the lines' absorption lengths).
    """
    i = np.asarray(intensity, dtype=float)
    k = np.asarray(k_factors, dtype=float)
    mu = attenuation_matrix(energies_keV, elements)
    factor = np.ones_like(i)
    weights = _weights(i, k)
    for _ in range(iterations):
        factor = thin_film_absorption(mu, weights, mass_thickness_g_cm2, take_off_deg)
        weights = _weights(i / factor, k)
    return weights, factor


def zeta_mass_thickness(
    intensity: NDArray,
    k_factors: dict[str, KFactor],
    lines: Sequence[str],
    electrons,
    solid_angle_sr: float,
    take_off_deg: float,
    iterations: int = 12,
) -> tuple[NDArray, NDArray, NDArray]:
    """Mass thickness (g/cm²), weight fractions and absorption factors from the dose.

    Parameters
    ----------
    intensity : ndarray (..., J)
        Line intensities (counts) of ``lines``.
    k_factors : dict
        :func:`theoretical_k_factors` of the lines (their generation and efficiency are used).
    electrons : float or ndarray (...)
        Electrons that produced each spectrum (beam current x live time / e).
    solid_angle_sr : float
        Detector solid angle.
    """
    i = np.asarray(intensity, dtype=float)
    n_e = np.asarray(electrons, dtype=float)[..., None]
    kf = [k_factors[line] for line in lines]
    per_mass = (
        np.array([f.photons_barn * _BARN_CM2 * f.efficiency / f.atomic_weight for f in kf])
        * constants.Avogadro
        * solid_angle_sr
        / (4 * np.pi)
    )
    mu = attenuation_matrix([f.energy_keV for f in kf], [line.split("_")[0] for line in lines])
    factor = np.ones_like(i)
    for _ in range(iterations):
        with np.errstate(invalid="ignore", divide="ignore"):
            mass = i / (n_e * per_mass * factor)
            rho_t = mass.sum(-1)
            weights = mass / rho_t[..., None]
        factor = thin_film_absorption(mu, weights, np.clip(rho_t, 0.0, None), take_off_deg)
    return rho_t, weights, factor
