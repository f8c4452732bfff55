"""Generalized oscillator strengths of core-shell ionisation in a central field, computed.

For an occupied subshell ``(n, l)`` with ``N`` electrons and an ejected electron of kinetic
energy ``e`` (the energy loss ``E`` minus the edge onset), in hartree atomic units,

``df/dE (q, E) = (2 E / q^2) N sum_l' (2 l' + 1) sum_lambda (2 lambda + 1)
(l lambda l'; 0 0 0)^2 |R_lambda,l'(q, e)|^2``,

``R_lambda,l' = ∫ P_nl(r) j_lambda(q r) P_el'(r) dr``, with ``P_el'`` normalised per unit
energy: the partial-wave form of ``|<f| exp(i q.r) |i>|^2`` summed over the final states and
the electrons of the shell (Manson, Phys. Rev. A 6 (1972) 1013; Leapman, Rez and Mayers,
J. Chem. Phys. 72 (1980) 1232). The orbitals are those of :mod:`cryospec.core.atom`: the
bound orbital and the continuum waves in the same self-consistent potential.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from math import factorial

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import CubicSpline
from scipy.special import spherical_jn

from cryospec.core.atom import (
    HARTREE_EV,
    Atom,
    continuum_orbitals,
    hfs_atom,
    radial_grid,
    solve_bound,
)

__all__ = [
    "SHELL_ORBITALS",
    "CentralField",
    "GOSTable",
    "coulomb_field",
    "free_energy_axis",
    "hfs_field",
    "hfs_gos_table",
    "q_axis",
    "shell_gos",
    "wigner_3j_zero",
]

BOHR_NM = 0.0529177210903


@functools.lru_cache(maxsize=256)
def wigner_3j_zero(l1: int, l2: int, l3: int) -> float:
    """The Wigner 3j symbol ``(l1 l2 l3; 0 0 0)``."""
    total = l1 + l2 + l3
    if total % 2 or l3 > l1 + l2 or l3 < abs(l1 - l2):
        return 0.0
    g = total // 2
    value = np.sqrt(
        factorial(total - 2 * l1)
        * factorial(total - 2 * l2)
        * factorial(total - 2 * l3)
        / factorial(total + 1)
    )
    value *= factorial(g) / (factorial(g - l1) * factorial(g - l2) * factorial(g - l3))
    return float((-1) ** g * value)


@dataclass(frozen=True)
class CentralField:
    """A central potential ``V(r) = rv(r) / r`` (hartree), ``rv`` smooth, ``-tail`` far out,
    with the occupation of the atom's subshells."""

    z: int
    r: NDArray
    rv: NDArray
    tail: float
    occupation: dict

    def potential(self, r: NDArray) -> NDArray:
        """``V`` on the points ``r``: a cubic spline of ``r V`` in ``ln r``, the tail beyond."""
        spline = CubicSpline(np.log(self.r), self.rv)
        inside = r <= self.r[-1]
        rv = np.where(inside, spline(np.log(np.clip(r, self.r[0], self.r[-1]))), -self.tail)
        return rv / r


def coulomb_field(z: int, occupation: dict | None = None) -> CentralField:
    """The bare Coulomb field of a nucleus of charge ``z`` (a one-electron atom)."""
    grid = radial_grid(z)
    return CentralField(z, grid.r, np.full(grid.r.size, -float(z)), float(z), occupation or {})


def hfs_field(z: int) -> CentralField:
    """The self-consistent Hartree-Fock-Slater field of the neutral atom ``z``."""
    atom: Atom = hfs_atom(z)
    return CentralField(z, atom.grid.r, atom.potential * atom.grid.r, 1.0, atom.occupation)


def shell_gos(
    field: CentralField,
    n: int,
    l: int,
    onset_eV: float,
    energy_eV: NDArray,
    q: NDArray,
    electrons: float | None = None,
    l_max: int | None = None,
) -> NDArray:
    """``df/dE`` (per eV) of the subshell ``(n, l)`` at energy losses ``energy_eV`` (> onset)
    and momentum transfers ``q`` (1/bohr), shape ``(n_energies, n_q)``.

    Parameters
    ----------
    field : CentralField
        The atom's potential (:func:`hfs_field`, or :func:`coulomb_field` for a one-electron
        atom).
    n, l : int
        The subshell.
    onset_eV : float
        The edge onset: the ejected electron has ``energy - onset`` of kinetic energy.
    energy_eV : ndarray
        Energy losses (eV), all above the onset.
    q : ndarray
        Momentum transfers (1/bohr).
    electrons : float, optional
        Electrons in the subshell (default: the field's occupation, 1 for a one-electron atom).
    l_max : int, optional
        Largest multipole ``lambda`` (default: enough for ``q`` times the orbital's radius).
    """
    energy = np.asarray(energy_eV, dtype=float)
    q = np.asarray(q, dtype=float)
    if np.any(energy <= onset_eV):
        raise ValueError("every energy loss must lie above the onset")
    count = float(field.occupation.get((n, l), 1.0) if electrons is None else electrons)
    grid = radial_grid(field.z, h=0.01, r_max=45.0, r0=1.0)
    potential = field.potential(grid.r)
    _, states = solve_bound(grid, potential, l, n - l)
    bound = states[n - l - 1]
    weights = grid.dr * grid.h
    support = np.abs(bound) > 1e-7 * np.abs(bound).max()
    last = int(np.flatnonzero(support)[-1]) + 1
    kinetic = (energy - onset_eV) / HARTREE_EV
    if l_max is None:
        # partial waves reach up to (momentum) x (extent of the bound orbital)
        inside = np.cumsum(bound**2 * weights)
        extent = float(grid.r[np.searchsorted(inside, 1 - 1e-4)])
        momentum = max(float(q.max()), float(np.sqrt(2 * kinetic.max())))
        l_max = int(min(40, np.ceil(momentum * extent) + 6))
    r = grid.r[:last]
    bessel = np.stack([spherical_jn(lam, q[:, None] * r[None, :]) for lam in range(l_max + 1)])
    total = np.zeros((energy.size, q.size))
    for lp in range(0, l + l_max + 1):
        lambdas = [lam for lam in range(abs(l - lp), min(l + lp, l_max) + 1)]
        factors = [(2 * lam + 1) * wigner_3j_zero(l, lam, lp) ** 2 for lam in lambdas]
        if not any(factors):
            continue
        waves = continuum_orbitals(grid, potential, lp, kinetic)[:, :last]
        product = waves * (bound[:last] * weights[:last])[None, :]  # (n_e, n_r)
        for lam, factor in zip(lambdas, factors, strict=True):
            if factor == 0.0:
                continue
            radial = product @ bessel[lam].T  # (n_e, n_q)
            total += (2 * lp + 1) * factor * radial**2
    e_hartree = energy / HARTREE_EV
    return 2 * e_hartree[:, None] / q[None, :] ** 2 * count * total / HARTREE_EV


# Which (n, l) an edge's shell name means, and the subshells a combined edge sums.
SHELL_ORBITALS = {
    "K": [(1, 0)],
    "L1": [(2, 0)],
    "L23": [(2, 1)],
    "M1": [(3, 0)],
    "M23": [(3, 1)],
    "M45": [(3, 2)],
    "N1": [(4, 0)],
    "N23": [(4, 1)],
    "N45": [(4, 2)],
    "N67": [(4, 3)],
    "O1": [(5, 0)],
    "O23": [(5, 1)],
    "O45": [(5, 2)],
    "P1": [(6, 0)],
    "P23": [(6, 1)],
}


@dataclass(frozen=True)
class GOSTable:
    """``df/dE`` (per eV) of one edge on a grid of ejected-electron energies and momentum
    transfers: ``gos[i, j]`` at ``free_energy_eV[i]`` above the onset and ``q[j]`` (1/bohr)."""

    element: str
    shell: str
    free_energy_eV: NDArray
    q: NDArray
    gos: NDArray
    method: str

    def at(self, free_energy_eV: NDArray, q: NDArray) -> NDArray:
        """The GOS at ejected-electron energies (..., 1) and momentum transfers (..., m),
        interpolated linearly in (ln e, ln q); constant below the first tabulated energy and
        zero below the onset."""
        e = np.asarray(free_energy_eV, dtype=float)
        q = np.asarray(q, dtype=float)
        le = np.log(np.clip(e, self.free_energy_eV[0], self.free_energy_eV[-1]))
        lq = np.log(np.clip(q, self.q[0], self.q[-1]))
        grid_e, grid_q = np.log(self.free_energy_eV), np.log(self.q)
        i = np.clip(np.searchsorted(grid_e, le) - 1, 0, grid_e.size - 2)
        j = np.clip(np.searchsorted(grid_q, lq) - 1, 0, grid_q.size - 2)
        te = (le - grid_e[i]) / (grid_e[i + 1] - grid_e[i])
        tq = (lq - grid_q[j]) / (grid_q[j + 1] - grid_q[j])
        g = self.gos
        value = (
            (1 - te) * (1 - tq) * g[i, j]
            + te * (1 - tq) * g[i + 1, j]
            + (1 - te) * tq * g[i, j + 1]
            + te * tq * g[i + 1, j + 1]
        )
        return np.where(e > 0, value, 0.0)


def free_energy_axis(n: int = 96, first: float = 0.1, last: float = 3000.0) -> NDArray:
    """Ejected-electron energies (eV) of a table: log-spaced from ``first`` to ``last``."""
    return np.geomspace(first, last, n)


def q_axis(n: int = 72, first: float = 0.01, last: float = 25.0) -> NDArray:
    """Momentum transfers (1/bohr) of a table: log-spaced from ``first`` to ``last``."""
    return np.geomspace(first, last, n)


def hfs_gos_table(
    element: str,
    shell: str,
    z: int,
    onset_eV: float,
    free_energy_eV: NDArray | None = None,
    q: NDArray | None = None,
) -> GOSTable:
    """The Hartree-Fock-Slater GOS table of one edge (the subshells of ``shell`` summed)."""
    if shell not in SHELL_ORBITALS:
        raise ValueError(f"no orbital is known for the {shell} shell")
    free = free_energy_axis() if free_energy_eV is None else np.asarray(free_energy_eV, float)
    q = q_axis() if q is None else np.asarray(q, dtype=float)
    field = hfs_field(z)
    total = np.zeros((free.size, q.size))
    for n, l in SHELL_ORBITALS[shell]:
        if (n, l) not in field.occupation:
            raise ValueError(f"{element} has no electron in the {shell} shell")
        total += shell_gos(field, n, l, onset_eV, onset_eV + free, q)
    return GOSTable(element, shell, free, q, total, "Hartree-Fock-Slater (cryospec)")
