"""X-rays generated per atom and per electron in a thin specimen: ionisation, fluorescence, lines.

The ingredients of theoretical Cliff-Lorimer k-factors, each from a published source:

- ionisation cross-section of the shell: Casnati, Tartari and Baraldi, J. Phys. B 15 (1982) 155,
  with its relativistic factor (Quarles, Phys. Rev. A 13 (1976) 1278). Fitted to measured K-shell
  cross-sections to about 10 % for 6 <= Z <= 79; for L and M shells it is an approximation
  (no better analytic form is established: Powell, quoted in Casnati's use by NIST DTSA), hence
  the factor-2.5 uncertainty of L lines; M lines are refused;
- fluorescence yield and the fraction of the shell's radiative decays in the line family:
  ``xraydb`` (Elam, Ravel and Sieber, Radiat. Phys. Chem. 63 (2002) 121; Krause, J. Phys. Chem.
  Ref. Data 8 (1979) 307);
- atomic weights and edge energies: ``xraydb``.

Vacancies created in a lower subshell of the same shell move up by Coster-Kronig transitions
before the X-ray is emitted: an L3 line counts the L3 ionisations plus the L1 and L2 ones times
their (total) Coster-Kronig probabilities (xraydb), and likewise for M subshells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import constants

__all__ = [
    "LINE_SHELL",
    "LineEmission",
    "casnati_cross_section",
    "line_emission",
    "line_relative_uncertainty",
]

_M0C2_EV = constants.value("electron mass energy equivalent in MeV") * 1e6
_RYDBERG_EV = constants.value("Rydberg constant times hc in eV")
_BOHR_CM = constants.value("Bohr radius") * 100.0
_BARN_CM2 = 1e-24

# The shell a line family starts from (IUPAC edge names, as xraydb spells them) and the number
# of electrons of that (sub)shell in a neutral atom.
LINE_SHELL = {
    "Ka": ("K", 2),
    "Kb": ("K", 2),
    "La": ("L3", 4),
    "Lb1": ("L2", 2),
    "Lb2": ("L3", 4),
    "Ll": ("L3", 4),
    "Ln": ("L2", 2),
    "Lg1": ("L2", 2),
    "Lb3": ("L1", 2),
    "Lb4": ("L1", 2),
    "Lg3": ("L1", 2),
    "Ma": ("M5", 6),
    "Mb": ("M4", 4),
    "Mg": ("M3", 4),
    "Mz": ("M5", 6),
}
# Electrons of each subshell, for the Coster-Kronig cascade.
_SUBSHELL_ELECTRONS = {
    "L1": 2,
    "L2": 2,
    "L3": 4,
    "M1": 2,
    "M2": 2,
    "M3": 4,
    "M4": 4,
    "M5": 6,
}
# xraydb's family names of the lines above (it sums the members of a family: Ka = Ka1 + Ka2 ...)
_XRAYDB_FAMILY = {
    "Lb1": "Lb1",
    "Lb2": "Lb2",
    "Lb3": "Lb3",
    "Lb4": "Lb4",
    "Lg1": "Lg1",
    "Lg3": "Lg3",
}

# Relative uncertainty (1 sigma) of the generated intensity of a line family, stated by source:
# Casnati's fit (10 % for K shells) combined with the fluorescence-yield uncertainties quoted by
# Krause (1979): 10-25 % for K shells below Z = 11, 3-5 % above Z = 20. L lines: Casnati's form
# is a K-shell fit; against the Velox table (tests/data) L-line k-factors of Ti to La lie 0.5 to
# 2.3 times its values, hence an uncertainty of a factor 2.5. M lines lie 4-6 times off: they are
# refused (give measured k-factors).
_K_LIGHT, _K_MID, _K_HEAVY = 0.25, 0.15, 0.11
_L_SHELL = 1.5


@dataclass(frozen=True)
class LineEmission:
    """X-rays of one line family generated per atom and per incident electron.

    Attributes
    ----------
    line : str
        ``"Si_Ka"``.
    energy_keV : float
        Intensity-weighted line energy (xraydb).
    cross_section_barn : float
        Ionisation cross-section of the shell (Casnati).
    fluorescence_yield : float
        The shell's fluorescence yield (xraydb).
    line_fraction : float
        Fraction of the shell's X-rays in this family (xraydb).
    atomic_weight : float
        g/mol (xraydb).
    relative_uncertainty : float
        1-sigma relative uncertainty of ``cross_section * yield * fraction``.
    """

    line: str
    energy_keV: float
    cross_section_barn: float
    fluorescence_yield: float
    line_fraction: float
    atomic_weight: float
    relative_uncertainty: float

    @property
    def photons_barn(self) -> float:
        """X-rays of the line per atom per electron, as an effective cross-section in barn."""
        return self.cross_section_barn * self.fluorescence_yield * self.line_fraction


def casnati_cross_section(edge_eV, beam_eV, electrons: float) -> np.ndarray:
    """Ionisation cross-section (barn) of a shell by electron impact, Casnati et al. (1982).

    Parameters
    ----------
    edge_eV : float or array
        Ionisation energy of the shell (eV).
    beam_eV : float or array
        Kinetic energy of the incident electron (eV).
    electrons : float
        Electrons in the shell.

    Returns
    -------
    ndarray
        Zero at and below the threshold.
    """
    ec = np.asarray(edge_eV, dtype=float)
    e0 = np.asarray(beam_eV, dtype=float)
    u = e0 / ec
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = 10.57 * np.exp(-1.736 / u + 0.317 / u**2)
        psi = (ec / _RYDBERG_EV) ** (-0.0318 + 0.3160 / u - 0.1135 / u**2)
        i = ec / _M0C2_EV
        t = e0 / _M0C2_EV
        relativistic = (
            (2.0 + i)
            / (2.0 + t)
            * ((1.0 + t) / (1.0 + i)) ** 2
            * (
                (i + t)
                * (2.0 + t)
                * (1.0 + i) ** 2
                / (t * (2.0 + t) * (1.0 + i) ** 2 + i * (2.0 + i))
            )
            ** 1.5
        )
        sigma = (
            electrons
            * (_BOHR_CM * _RYDBERG_EV / ec) ** 2
            * psi
            * phi
            * relativistic
            * np.log(u)
            / u
        )
    return np.where(u > 1.0, sigma / _BARN_CM2, 0.0)


def _split(line: str) -> tuple[str, str]:
    try:
        element, family = line.split("_")
    except ValueError:
        raise ValueError(
            f"an X-ray line is written 'Element_Family', e.g. 'Si_Ka', not {line!r}"
        ) from None
    if family not in LINE_SHELL:
        known = ", ".join(LINE_SHELL)
        raise ValueError(f"no theoretical k-factor for the {family} line of {element}: use {known}")
    return element, family


def line_relative_uncertainty(line: str) -> float:
    """Stated 1-sigma relative uncertainty of a line's generated intensity (see module notes)."""
    import xraydb

    element, family = _split(line)
    shell = LINE_SHELL[family][0]
    if shell.startswith(("L", "M")):
        return _L_SHELL
    z = xraydb.atomic_number(element)
    return _K_LIGHT if z <= 10 else _K_MID if z < 20 else _K_HEAVY


def _coster_kronig_feed(element: str, shell: str, beam_eV: float) -> float:
    """Ionisations of the lower subshells of ``shell``'s shell that reach ``shell`` by
    Coster-Kronig transitions (barn)."""
    import xraydb

    if shell not in _SUBSHELL_ELECTRONS:
        return 0.0
    letter, index = shell[0], int(shell[1:])
    feed = 0.0
    for lower in range(1, index):
        name = f"{letter}{lower}"
        edge = xraydb.xray_edge(element, name)
        if edge is None or edge.energy >= beam_eV:
            continue
        probability = float(xraydb.ck_probability(element, name, shell, total=True))
        if probability > 0:
            feed += probability * float(
                casnati_cross_section(edge.energy, beam_eV, _SUBSHELL_ELECTRONS[name])
            )
    return feed


def line_emission(line: str, beam_energy_keV: float) -> LineEmission:
    """The X-rays of ``line`` generated per atom and per electron at ``beam_energy_keV``.

    Raises
    ------
    ValueError
        An unknown element or line family, or a shell the beam cannot ionise.
    """
    import xraydb

    element, family = _split(line)
    shell, electrons = LINE_SHELL[family]
    if shell.startswith("M"):
        raise ValueError(
            f"no theoretical k-factor for the M line {line}: the analytic cross-section is a "
            "K-shell fit and M-line k-factors from it lie 4-6 times off a vendor's table; give "
            "k-factors measured on a standard, or use the element's K or L line"
        )
    try:
        edge = xraydb.xray_edge(element, shell)
    except Exception as exc:  # xraydb raises its own types for unknown symbols
        raise ValueError(f"unknown element {element!r} in {line!r}") from exc
    if edge is None:
        raise ValueError(f"{element} has no {shell} shell for the {family} line")
    beam_eV = float(beam_energy_keV) * 1e3
    if beam_eV <= edge.energy:
        raise ValueError(
            f"a {beam_energy_keV} keV beam cannot ionise the {element} {shell} shell "
            f"({edge.energy / 1e3:.3f} keV)"
        )
    yield_, energy_eV, fraction = xraydb.fluor_yield(
        element, shell, _XRAYDB_FAMILY.get(family, family), beam_eV
    )
    if not (fraction > 0 and yield_ > 0):
        raise ValueError(f"xraydb holds no {family} emission for {element}")
    sigma = float(casnati_cross_section(edge.energy, beam_eV, electrons))
    sigma += _coster_kronig_feed(element, shell, beam_eV)
    return LineEmission(
        line=line,
        energy_keV=float(energy_eV) / 1e3,
        cross_section_barn=sigma,
        fluorescence_yield=float(yield_),
        line_fraction=float(fraction),
        atomic_weight=float(xraydb.atomic_mass(element)),
        relative_uncertainty=line_relative_uncertainty(line),
    )
