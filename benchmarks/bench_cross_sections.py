"""Cross-sections computed from the Hartree-Fock-Slater atom: time, and checks against physics.

Printed, in one process:

1. Time to compute one edge's GOS table cold (an empty cache folder) and to read it back.
2. The optical limit against Chantler's photoabsorption (xraydb), integrated over 30-150 eV
   above each edge (L2,3 with L1 above its onset, as Chantler's total holds it).
3. K-shell partial cross-sections sigma(beta, Delta) against the hydrogenic model (cryospec's
   and exspy's offline hydrogenic GOS) at 300 kV.
4. Real standards through the default path of ``quantify``: SrTiO3 (O/Ti = 3), the pyTEMlib
   core loss (200 kV, 33 mrad, 30 mrad convergence in its metadata) and the pyEELSMODEL pair
   (300 kV, 2.675 mrad, 0.9 mrad convergence: pyEELSMODEL's own example), and the Si-doped NMC
   core loss (O/(Mn+Co+Ni) = 2); joint model fit, local fits and integration. exspy's offline
   (hydrogenic) GOS has no Ti, Mn, Co or Ni L2,3, so it cannot quantify these offline.

Run: ``python benchmarks/bench_cross_sections.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import constants, integrate

warnings.filterwarnings("ignore")
logging.getLogger("hyperspy").setLevel(logging.ERROR)
logging.getLogger("exspy").setLevel(logging.ERROR)
logging.getLogger("cryospec").setLevel(logging.ERROR)
os.environ["CRYOSPEC_CACHE_DIR"] = tempfile.mkdtemp(prefix="cryospec-bench-")

import cryospec  # noqa: E402
from cryospec.core import gos_tables  # noqa: E402
from cryospec.core.cross_sections import edge_differential_cross_section  # noqa: E402
from cryospec.core.gos import hfs_gos_table  # noqa: E402
from cryospec.edges import get_edge  # noqa: E402

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "eels"
PHOTO_BARN_EV = 1.0975e-16 / 1e-24


def timing() -> None:
    print("1. One edge's table (96 ejected-electron energies x 72 momentum transfers)")
    for name in ("O_K", "Mn_L23", "La_M45"):
        gos_tables._table.cache_clear()
        started = time.perf_counter()
        gos_tables.gos_table(name)
        cold = time.perf_counter() - started
        gos_tables._table.cache_clear()
        started = time.perf_counter()
        gos_tables.gos_table(name)
        warm = time.perf_counter() - started
        print(f"   {name:8} cold {cold:5.2f} s   from the cache {1e3 * warm:5.1f} ms")


def chantler_shell(element: str, level: str) -> float:
    import xraydb

    edge = xraydb.xray_edge(element, level).energy
    per_atom = xraydb.atomic_mass(element) / constants.Avogadro / 1e-24
    below = np.linspace(0.75 * edge, 0.97 * edge, 40)
    coef = np.polyfit(np.log(below), np.log(xraydb.mu_chantler(element, below) * per_atom), 1)
    e = np.linspace(edge + 30, edge + 150, 400)
    shell = xraydb.mu_chantler(element, e) * per_atom - np.exp(np.polyval(coef, np.log(e)))
    return float(integrate.trapezoid(shell, e))


def chantler() -> None:
    import xraydb

    print("\n2. Optical limit vs Chantler's photoabsorption, 30-150 eV above the edge")
    print("   edge      computed / Chantler")
    free = np.linspace(30.0, 150.0, 400)
    small_q = np.array([[0.01]])
    for element, shell, level in [
        ("C", "K", "K"), ("N", "K", "K"), ("O", "K", "K"), ("F", "K", "K"), ("Al", "K", "K"),
        ("Si", "K", "K"), ("P", "K", "K"), ("S", "K", "K"), ("Ti", "L23", "L3"),
        ("Mn", "L23", "L3"), ("Ni", "L23", "L3"),
    ]:  # fmt: skip
        z = xraydb.atomic_number(element)
        edge = get_edge(f"{element}_{shell}")
        ours = hfs_gos_table(element, shell, z, edge.onset_eV).at(free[:, None], small_q)[:, 0]
        if shell == "L23":
            l1 = get_edge(f"{element}_L1")
            above = free + edge.onset_eV - l1.onset_eV
            ours = (
                ours
                + hfs_gos_table(element, "L1", z, l1.onset_eV).at(above[:, None], small_q)[:, 0]
            )
        ratio = PHOTO_BARN_EV * integrate.trapezoid(ours, free) / chantler_shell(element, level)
        print(f"   {element}_{shell:4}   {ratio:6.3f}")


def exspy_hydrogenic(name: str, window, beta: float) -> float:
    from exspy.components import EELSCLEdge

    edge = EELSCLEdge(name, GOS="hydrogenic")
    edge.E0, edge.collection_angle, edge.convergence_angle = 300.0, beta, 0.0
    edge._integrate_GOS()
    grid = np.arange(window[0] + 0.05, window[1], 0.05)
    return float(integrate.trapezoid(edge.tab_xsection(grid), grid))


def versus_hydrogenic() -> None:
    print("\n3. K-shell partial cross-sections at 300 kV: computed / hydrogenic")
    print("   edge  beta (mrad)  Delta (eV)   / cryospec hydrogenic   / exspy hydrogenic")
    for element in ("C", "N", "O"):
        edge = get_edge(f"{element}_K")
        for beta, delta in ((5.0, 30.0), (10.0, 50.0), (20.0, 50.0), (100.0, 100.0)):
            grid = np.arange(edge.onset_eV + 0.05, edge.onset_eV + delta + 0.025, 0.05)
            computed = integrate.trapezoid(
                gos_tables.hfs_differential_cross_section(edge, grid, 300.0, beta), grid
            )
            hydrogenic = integrate.trapezoid(
                edge_differential_cross_section(edge, grid, 300.0, beta), grid
            )
            exspy = exspy_hydrogenic(f"{element}_K", (edge.onset_eV, edge.onset_eV + delta), beta)
            print(
                f"   {element}_K  {beta:8.0f}   {delta:9.0f}   {computed / hydrogenic:18.3f}"
                f"   {computed / exspy:17.3f}"
            )


def _ratio(q, numerator: str, denominators: tuple[str, ...]) -> float:
    total = {el: float(np.nansum(m.data)) for el, m in q.areal_density.items()}
    return total[numerator] / sum(total[d] for d in denominators)


def real_standards() -> None:
    print("\n4. Real standards, the default path (Hartree-Slater, white-line rule)")
    if not REALDATA.is_dir():
        print("   ../shared/realdata not found: skipped")
        return
    stem = cryospec.load(REALDATA / "pyTEMlib_SrTiO3_350-862eV_TiL_OK.dm3")
    stem.set_acquisition_parameters(detector_gain=1.0)
    on_ti, _ = stem.calibrate_from_edge("Ti_L23")
    pair = [
        cryospec.load(REALDATA / f"pyEELSMODEL_SrTiO3_{p}.msa", signal_type="CryoEELS")
        for p in ("hl_357-664eV", "ll")
    ]
    for s in pair:  # pyEELSMODEL's own parameters (examples/FineStructureOnSrTiO3.ipynb)
        s.set_microscope_parameters(
            beam_energy=300.0, collection_angle=2.675, convergence_angle=0.9
        )
        s.set_acquisition_parameters(detector_gain=1.0)
    core, low, _ = pair[0].align_zero_loss(pair[1])
    nmc = cryospec.load(REALDATA / "NMC_SiDoped_SI_440-1054eV_OK_TML.dm3")
    nmc.set_acquisition_parameters(detector_gain=1.0)
    nmc, _ = nmc.calibrate_from_edge("O_K")
    metals = ("Mn", "Co", "Ni")
    cases = [
        ("SrTiO3 pyTEMlib, O/Ti = 3", stem, ["Ti_L23", "O_K"], {}, ("O", ("Ti",))),
        ("  calibrated on Ti L2,3", on_ti, ["Ti_L23", "O_K"], {}, ("O", ("Ti",))),
        ("SrTiO3 pyEELSMODEL + low loss", core, ["Ti_L23", "O_K"], {"low_loss": low},
         ("O", ("Ti",))),
        ("NMC, O/(Mn+Co+Ni) = 2 (O K calibrated)", nmc, ["O_K", "Mn_L23", "Co_L23", "Ni_L23"],
         {}, ("O", metals)),
    ]  # fmt: skip
    print(f"   {'spectrum':42} {'model':>8} {'model, local':>13} {'integration':>12}")
    for label, signal, edges, kwargs, (num, den) in cases:
        values = []
        for extra in ({}, {"fit_ranges": "local"}, {"method": "integration"}):
            q = signal.quantify(edges, **kwargs, **extra)
            values.append(_ratio(q, num, den))
        print(f"   {label:42} " + " ".join(f"{v:>10.2f}" for v in values))
    print("   exspy's offline (hydrogenic) GOS has no Ti, Mn, Co or Ni L2,3: not quantifiable")


def main() -> int:
    timing()
    chantler()
    versus_hydrogenic()
    real_standards()
    return 0


if __name__ == "__main__":
    sys.exit(main())
