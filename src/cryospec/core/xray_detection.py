"""What an EDX detector records of the X-rays a thin specimen emits: window, dead layer, crystal,
and the absorption of each line in the specimen on its way out.

Mass attenuation coefficients are Elam's tables (``xraydb.material_mu`` and ``xraydb.mu_elam``;
Elam, Ravel and Sieber, Radiat. Phys. Chem. 63 (2002) 121). Detector presets describe typical
layer stacks; a user who knows the detector's own stack gives it as a :class:`Detector`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DETECTOR_PRESETS",
    "Detector",
    "Layer",
    "attenuation_matrix",
    "detector_efficiency",
    "mass_attenuation",
    "thin_film_absorption",
]


@dataclass(frozen=True)
class Layer:
    """One absorbing layer in front of the detector crystal: a formula, its density (g/cm³) and
    its thickness (nm)."""

    formula: str
    density: float
    thickness_nm: float


@dataclass(frozen=True)
class Detector:
    """An EDX detector: the layers in front of the crystal, the crystal's dead layer and
    thickness (silicon).

    Attributes
    ----------
    name : str
        Preset name or a user label.
    window : tuple of Layer
        Window and contact layers, outermost first.
    dead_layer_nm : float
        Inactive silicon at the crystal's front.
    crystal_um : float
        Active silicon thickness.
    source : str
        Where the description comes from.
    """

    name: str
    window: tuple[Layer, ...] = field(default_factory=tuple)
    dead_layer_nm: float = 30.0
    crystal_um: float = 450.0
    source: str = ""


# Typical stacks. Polymer: a 300 nm polyimide film with a 40 nm Al light shield (the widely
# used Moxtek AP3.3 ultra-thin window, per its data sheet; the support grid's open area scales
# every energy alike and cancels in k-factor ratios). Si3N4: a 40 nm silicon nitride membrane
# with a 30 nm Al coating (Amptek C2-series data sheet). Windowless: the crystal's own dead
# layer only. A 450 um silicon drift detector crystal and a 30 nm dead layer for all three.
DETECTOR_PRESETS: dict[str, Detector] = {
    "windowless": Detector(
        "windowless", (), 30.0, 450.0, "cryospec preset: windowless SDD, 30 nm dead layer"
    ),
    "polymer": Detector(
        "polymer",
        (Layer("C22H10N2O5", 1.42, 300.0), Layer("Al", 2.70, 40.0)),
        30.0,
        450.0,
        "cryospec preset: 300 nm polyimide + 40 nm Al ultra-thin window (Moxtek AP3.3 type)",
    ),
    "Si3N4": Detector(
        "Si3N4",
        (Layer("Si3N4", 3.17, 40.0), Layer("Al", 2.70, 30.0)),
        30.0,
        450.0,
        "cryospec preset: 40 nm Si3N4 + 30 nm Al window (Amptek C2 type)",
    ),
}


def _mu_rho(formula: str, energy_eV: np.ndarray, density: float) -> np.ndarray:
    """Linear attenuation (1/cm) of a material at ``energy_eV``."""
    import xraydb

    return np.asarray(xraydb.material_mu(formula, energy_eV, density=density), dtype=float)


def detector_efficiency(energy_keV, detector: Detector) -> np.ndarray:
    """Fraction of X-rays of ``energy_keV`` that reach the detector and are absorbed in its
    active silicon (window and dead-layer transmission times crystal absorption)."""
    energy = np.atleast_1d(np.asarray(energy_keV, dtype=float)) * 1e3
    if energy.size == 0:
        return energy
    transmission = np.ones_like(energy)
    for layer in detector.window:
        transmission *= np.exp(
            -_mu_rho(layer.formula, energy, layer.density) * layer.thickness_nm * 1e-7
        )
    mu_si = _mu_rho("Si", energy, 2.33)
    transmission *= np.exp(-mu_si * detector.dead_layer_nm * 1e-7)
    absorbed = 1.0 - np.exp(-mu_si * detector.crystal_um * 1e-4)
    out = transmission * absorbed
    return out if np.ndim(energy_keV) else out[0]


def attenuation_matrix(energies_keV: Sequence[float], elements: Sequence[str]) -> np.ndarray:
    """Mass attenuation coefficients (cm²/g): ``[i, j]`` of element ``j`` at energy ``i``."""
    import xraydb

    return np.array(
        [[float(xraydb.mu_elam(el, float(e) * 1e3)) for el in elements] for e in energies_keV]
    )


def mass_attenuation(energy_keV: float, weight_fractions: Mapping[str, float]) -> float:
    """Mass attenuation coefficient (cm²/g) of a mixture at one energy, by weight fractions."""
    total = sum(weight_fractions.values())
    if not total > 0:
        raise ValueError("the weight fractions must sum to a positive number")
    mu = attenuation_matrix([energy_keV], list(weight_fractions))[0]
    return float(np.dot(mu, list(weight_fractions.values())) / total)


def thin_film_absorption(
    attenuation: np.ndarray,
    weight_fractions,
    mass_thickness_g_cm2,
    take_off_deg: float,
) -> np.ndarray:
    """Fraction of each line's generated X-rays that leaves a uniform film towards the detector.

    X-rays generated uniformly in depth in a film of mass thickness ``rho t`` and absorbed on a
    path ``rho t / sin(take-off)``: ``A = (1 - exp(-chi rho t)) / (chi rho t)`` with
    ``chi = (mu/rho) / sin(take-off)`` (Goldstein et al., in *Introduction to Analytical
    Electron Microscopy*, 1979).

    Parameters
    ----------
    attenuation : ndarray (J_lines, J_elements)
        :func:`attenuation_matrix` of the line energies and the film's elements.
    weight_fractions : ndarray (..., J_elements)
        The film's composition per pixel (normalised here; negative values count as 0).
    mass_thickness_g_cm2 : float or ndarray (...)
        Per pixel.

    Returns
    -------
    ndarray (..., J_lines)
    """
    if not 0 < take_off_deg < 90:
        raise ValueError(
            f"the take-off angle must lie between 0 and 90 degrees, got {take_off_deg}"
        )
    w = np.clip(np.asarray(weight_fractions, dtype=float), 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = w / w.sum(-1, keepdims=True)
    mu = np.einsum("...j,ij->...i", w, np.asarray(attenuation, dtype=float))
    x = mu / np.sin(np.radians(take_off_deg)) * np.asarray(mass_thickness_g_cm2, float)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(x > 1e-9, -np.expm1(-x) / np.where(x > 1e-9, x, 1.0), 1.0 - x / 2)
    return np.where(np.isfinite(factor), factor, 1.0)
