"""Self-consistent central-field atoms and their radial orbitals, bound and continuum.

The atom is Hartree-Fock-Slater in the tradition of Herman and Skillman (Atomic Structure
Calculations, 1963): one local potential for every electron,

``V(r) = -Z/r + V_H(r) - (3/2) alpha (3 rho(r) / pi)^(1/3)``,

with Slater's exchange (``alpha = 1``) and Latter's tail correction (``V <= -1/r``, the
potential an electron leaving a neutral atom sees), iterated to self-consistency with the
ground-state configuration. Hartree atomic units throughout (energies in hartree, lengths in
bohr).

Orbitals are ``P(r) = r R(r)`` on one grid ``x = ln r + r / R0`` (logarithmic near the nucleus,
uniform far out, so that the same grid holds core orbitals and oscillating continuum waves).
Bound states come from a finite-difference Hamiltonian (a symmetric tridiagonal eigenproblem,
all states of one ``l`` at once); continuum states from Numerov's recursion, every energy at
once, normalised per unit energy from their WKB amplitude far out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.linalg import solve_banded
from scipy.sparse.linalg import eigsh

__all__ = [
    "Atom",
    "RadialGrid",
    "continuum_orbitals",
    "ground_state_configuration",
    "hfs_atom",
    "radial_grid",
    "solve_bound",
]

HARTREE_EV = 27.211386245988
_L_LETTERS = "spdf"
# Madelung order, and the ground-state configurations that depart from it (NIST ASD).
_MADELUNG = [
    (1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (3, 2), (4, 1), (5, 0), (4, 2), (5, 1),
    (6, 0), (4, 3), (5, 2), (6, 1), (7, 0), (5, 3), (6, 2), (7, 1),
]  # fmt: skip
_EXCEPTIONS = {
    24: "[Ar] 3d5 4s1",
    29: "[Ar] 3d10 4s1",
    41: "[Kr] 4d4 5s1",
    42: "[Kr] 4d5 5s1",
    44: "[Kr] 4d7 5s1",
    45: "[Kr] 4d8 5s1",
    46: "[Kr] 4d10",
    47: "[Kr] 4d10 5s1",
    57: "[Xe] 5d1 6s2",
    58: "[Xe] 4f1 5d1 6s2",
    64: "[Xe] 4f7 5d1 6s2",
    78: "[Xe] 4f14 5d9 6s1",
    79: "[Xe] 4f14 5d10 6s1",
    89: "[Rn] 6d1 7s2",
    90: "[Rn] 6d2 7s2",
    91: "[Rn] 5f2 6d1 7s2",
    92: "[Rn] 5f3 6d1 7s2",
}
_NOBLE = {"He": 2, "Ne": 10, "Ar": 18, "Kr": 36, "Xe": 54, "Rn": 86}


def _madelung(n_electrons: int) -> dict[tuple[int, int], float]:
    occupation: dict[tuple[int, int], float] = {}
    left = n_electrons
    for n, l in _MADELUNG:
        if left <= 0:
            break
        take = min(2 * (2 * l + 1), left)
        occupation[(n, l)] = float(take)
        left -= take
    return occupation


def ground_state_configuration(z: int) -> dict[tuple[int, int], float]:
    """Occupation of every (n, l) subshell of the neutral atom's ground state."""
    if not 1 <= z <= 92:
        raise ValueError(f"atomic number must lie in 1..92, got {z}")
    if z not in _EXCEPTIONS:
        return _madelung(z)
    core, *valence = _EXCEPTIONS[z].split()
    occupation = _madelung(_NOBLE[core.strip("[]")])
    for term in valence:
        n, letter, count = re.fullmatch(r"(\d)([spdf])(\d+)", term).groups()
        occupation[(int(n), _L_LETTERS.index(letter))] = float(count)
    return occupation


@dataclass(frozen=True)
class RadialGrid:
    """Points ``r`` of the grid ``x = ln r + r / r0`` (uniform step ``h`` in ``x``) and the
    derivatives of ``r(x)`` that the transformed radial equation needs."""

    x: NDArray
    r: NDArray
    dr: NDArray  # r'(x)
    h: float
    correction: NDArray  # 3 r''^2 / (4 r'^2) - r''' / (2 r')

    def integrate(self, values: NDArray, axis: int = -1) -> NDArray:
        """∫ values dr over the grid (values on its points, trapezoid in x)."""
        weights = self.dr * self.h
        weights = np.concatenate([[weights[0] / 2], weights[1:-1], [weights[-1] / 2]])
        return np.tensordot(values, weights, axes=([axis], [0]))


@functools.lru_cache(maxsize=16)
def radial_grid(z: int, h: float = 0.02, r_max: float = 40.0, r0: float = 10.0) -> RadialGrid:
    """The radial grid of an atom of nuclear charge ``z``: from ``1e-6 / z`` to ``r_max`` bohr,
    logarithmic below ``r0`` and uniform (step about ``h r0``) beyond. The default serves the
    bound states; the continuum needs ``r0`` of about 1 (a step of 0.01 bohr far out)."""
    r_min = 1e-6 / z
    x0 = np.log(r_min) + r_min / r0
    x1 = np.log(r_max) + r_max / r0
    x = np.arange(x0, x1 + h / 2, h)
    # invert x = ln r + r / r0 by Newton steps from the logarithmic guess
    r = np.minimum(np.exp(x), r0 * np.maximum(x, 1.0))
    for _ in range(60):
        f = np.log(r) + r / r0 - x
        r = np.maximum(r - f / (1.0 / r + 1.0 / r0), 1e-300)
        if np.max(np.abs(f)) < 1e-13:
            break
    g = 1.0 / (1.0 / r + 1.0 / r0)  # r'
    g_r = g**2 / r**2  # d r' / dr
    d2 = g * g_r  # r''
    d3 = g * (3 * g**4 / r**4 - 2 * g**3 / r**3)  # r'''
    correction = 3 * d2**2 / (4 * g**2) - d3 / (2 * g)
    return RadialGrid(x=x, r=r, dr=g, h=h, correction=correction)


def _radial_operators(grid: RadialGrid, potential: NDArray, l: int):
    """Banded ``A`` (3 x n, upper/main/lower) and diagonal ``B`` of ``A y = e B y``."""
    r, g, h = grid.r, grid.dr, grid.h
    w = g**2 * (2 * potential + l * (l + 1) / r**2) + grid.correction
    banded = np.empty((3, r.size))
    banded[0] = banded[2] = -1.0 / h**2
    banded[1] = 2.0 / h**2 + w
    return banded, 2 * g**2


def _nodes(y: NDArray) -> int:
    big = np.abs(y) > 1e-6 * np.abs(y).max()
    signs = np.sign(y[big])
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


def _refine(banded: NDArray, b: NDArray, energy: float, steps: int = 8):
    """Rayleigh-quotient iteration from ``energy``: the nearest eigenpair, its vector B-normed."""
    rng = np.random.default_rng(0)
    y = rng.random(b.size) + 0.5
    shift = energy
    for _ in range(steps):
        system = banded.copy()
        system[1] -= shift * b
        y = solve_banded((1, 1), system, b * y)
        y /= np.sqrt(np.sum(b * y * y))
        a_y = banded[1] * y
        a_y[:-1] += banded[0, 1:] * y[1:]
        a_y[1:] += banded[2, :-1] * y[:-1]
        new = float(y @ a_y)
        if abs(new - shift) < 1e-12 * max(1.0, abs(new)):
            shift = new
            break
        shift = new
    return shift, y


def solve_bound(
    grid: RadialGrid,
    potential: NDArray,
    l: int,
    n_states: int,
    guesses: NDArray | None = None,
) -> tuple[NDArray, NDArray]:
    """The ``n_states`` lowest bound states of angular momentum ``l`` in ``potential``.

    The radial equation, finite differences on the grid, is a generalised symmetric
    tridiagonal eigenproblem ``A y = e B y``. Without ``guesses`` its lowest eigenvalues come
    from shift-invert Lanczos below the hydrogenic level of the bare nucleus; with
    ``guesses`` (eigenvalues of a nearby potential, e.g. the previous self-consistent
    iteration) each state is refined by Rayleigh-quotient iteration, and its node count is
    checked (``n - l - 1``): a state that lands elsewhere is solved afresh.

    Returns
    -------
    energies : ndarray (n_states,)
        Eigenvalues (hartree).
    orbitals : ndarray (n_states, n_points)
        ``P(r)``, normalised (∫ P² dr = 1), positive near the nucleus.
    """
    banded, b = _radial_operators(grid, potential, l)
    vectors = None
    if guesses is not None and len(guesses) == n_states:
        found = [_refine(banded, b, float(e)) for e in guesses]
        if all(_nodes(y) == k for k, (_, y) in enumerate(found)):
            energies = np.array([e for e, _ in found])
            vectors = np.array([y for _, y in found])
    if vectors is None:
        a = sparse.diags([banded[2, :-1], banded[1], banded[0, 1:]], [-1, 0, 1], format="csc")
        charge = float(-potential[0] * grid.r[0])
        sigma = -0.55 * charge**2 / (l + 1) ** 2 - 1.0
        energies, vec = eigsh(
            a,
            k=n_states,
            M=sparse.diags(b, 0, format="csc"),
            sigma=sigma,
            which="LM",
            v0=np.ones(b.size),  # a fixed start: the same orbitals on every run
        )
        order = np.argsort(energies)
        energies, vectors = energies[order], vec[:, order].T
    orbitals = vectors * np.sqrt(grid.dr)[None, :]
    norm = np.sqrt(grid.integrate(orbitals**2))
    orbitals = orbitals / norm[:, None]
    first = np.argmax(np.abs(orbitals) > 1e-3 * np.abs(orbitals).max(axis=1, keepdims=True), 1)
    signs = np.sign(orbitals[np.arange(n_states), first])
    return energies, orbitals * signs[:, None]


@dataclass
class Atom:
    """A self-consistent atom: its potential and occupied orbitals.

    Attributes
    ----------
    z : int
    grid : RadialGrid
    potential : ndarray
        ``V(r)`` in hartree.
    occupation : dict
        (n, l) -> electrons.
    energies, orbitals : dict
        (n, l) -> eigenvalue (hartree) and ``P(r)``.
    iterations : int
    """

    z: int
    grid: RadialGrid
    potential: NDArray
    occupation: dict[tuple[int, int], float]
    energies: dict[tuple[int, int], float] = field(default_factory=dict)
    orbitals: dict[tuple[int, int], NDArray] = field(default_factory=dict)
    iterations: int = 0

    def binding_energy_eV(self, n: int, l: int) -> float:
        """Minus the orbital eigenvalue, in eV (Koopmans' estimate of the binding energy)."""
        return -self.energies[(n, l)] * HARTREE_EV


def _orbitals(grid, potential, occupation, previous=None):
    energies, orbitals = {}, {}
    for l in sorted({l for _, l in occupation}):
        ns = sorted(n for n, ll in occupation if ll == l)
        guesses = None
        if previous is not None:
            guesses = np.array([previous[(n, l)] for n in range(l + 1, max(ns) + 1)])
        values, states = solve_bound(grid, potential, l, max(ns) - l, guesses)
        for n in ns:
            energies[(n, l)] = float(values[n - l - 1])
            orbitals[(n, l)] = states[n - l - 1]
    return energies, orbitals


def _hfs_potential(grid, z, occupation, orbitals, alpha):
    r = grid.r
    u = sum(occupation[key] * orbitals[key] ** 2 for key in occupation)  # 4 pi r^2 rho
    weights = grid.dr * grid.h
    inner = np.cumsum(u * weights) - 0.5 * u * weights
    outer = np.cumsum((u / r * weights)[::-1])[::-1] - 0.5 * u / r * weights
    hartree = inner / r + outer
    rho = u / (4 * np.pi * r**2)
    exchange = -1.5 * alpha * np.cbrt(3 * rho / np.pi)
    n_electrons = sum(occupation.values())
    tail = -(z - n_electrons + 1.0) / r
    return np.minimum(-z / r + hartree + exchange, tail)


@functools.lru_cache(maxsize=16)
def hfs_atom(z: int, alpha: float = 1.0, tol: float = 1e-7, max_iter: int = 300) -> Atom:
    """The Hartree-Fock-Slater atom of nuclear charge ``z`` (neutral, ground state).

    Parameters
    ----------
    z : int
        Atomic number, 1..92.
    alpha : float
        Exchange factor (1: Slater's, as Herman and Skillman; 2/3: Kohn-Sham's).
    tol : float
        Convergence: the largest change of an eigenvalue between iterations (hartree).

    Raises
    ------
    RuntimeError
        If the iteration does not converge.
    """
    occupation = ground_state_configuration(z)
    grid = radial_grid(z)
    r = grid.r
    if z == 1:  # one electron: no self-interaction, the Coulomb potential
        potential = -1.0 / r
        energies, orbitals = _orbitals(grid, potential, occupation)
        return Atom(z, grid, potential, occupation, energies, orbitals, 0)
    # Thomas-Fermi start (Tietz's approximation of the screening function)
    scaled = r / (0.8853 * z ** (-1.0 / 3.0))
    potential = np.minimum(-z / r / (1.0 + 0.53625 * scaled) ** 2, -1.0 / r)
    previous = None
    energies = None
    for iteration in range(1, max_iter + 1):
        energies, orbitals = _orbitals(grid, potential, occupation, energies)
        new = _hfs_potential(grid, z, occupation, orbitals, alpha)
        values = np.array([energies[k] for k in sorted(energies)])
        if previous is not None and np.max(np.abs(values - previous)) < tol:
            return Atom(z, grid, new, occupation, energies, orbitals, iteration)
        previous = values
        potential = 0.6 * potential + 0.4 * new
    raise RuntimeError(f"the Hartree-Fock-Slater iteration of Z = {z} did not converge")


def continuum_orbitals(
    grid: RadialGrid, potential: NDArray, l: int, kinetic: NDArray, tail_charge: float = 1.0
) -> NDArray:
    """Continuum ``P_el(r)`` of every kinetic energy ``kinetic`` (hartree), normalised per unit
    energy (``P -> sqrt(2 / (pi k)) sin(...)`` far out), by Numerov's recursion outward.

    ``tail_charge`` is the charge the electron sees far out (1 for an ionised neutral atom); the
    normalisation uses the WKB amplitude in the outer third of the grid.

    Returns
    -------
    ndarray (n_energies, n_points)
    """
    energy = np.asarray(kinetic, dtype=float)
    r, g, h = grid.r, grid.dr, grid.h
    f = (g**2 * (2 * potential + l * (l + 1) / r**2) + grid.correction)[:, None] - 2 * (g**2)[
        :, None
    ] * energy[None, :]
    k12 = h**2 / 12.0
    y = np.empty((r.size, energy.size))
    y[0] = r[0] ** (l + 0.5)
    y[1] = r[1] ** (l + 0.5)
    a = 1.0 - k12 * f  # Numerov's weights
    for i in range(1, r.size - 1):
        y[i + 1] = ((12.0 - 10.0 * a[i]) * y[i] - a[i - 1] * y[i - 1]) / a[i + 1]
        if i % 256 == 0:  # keep the growing solution representable
            scale = np.abs(y[i + 1]).max()
            if scale > 1e100:
                y[: i + 2] /= scale
    p = y * np.sqrt(g)[:, None]
    outer = r > 2 * r[-1] / 3
    slope = np.gradient(p, r, axis=0)
    local_k2 = 2 * (energy[None, :] - potential[:, None]) - l * (l + 1) / r[:, None] ** 2
    local_k = np.sqrt(np.clip(local_k2, 1e-12, None))
    amplitude2 = p**2 + (slope / local_k) ** 2
    # WKB: the amplitude of P is sqrt(2 / (pi k(r))); average the ratio over the outer region
    factor = np.sqrt(2.0 / (np.pi * local_k[outer]) / amplitude2[outer]).mean(axis=0)
    return (p * factor[None, :]).T
