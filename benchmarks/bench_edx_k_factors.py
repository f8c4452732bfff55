"""Theoretical EDX k-factors against a vendor table, and real standards next to exspy.

1. cryospec's theoretical k-factors at 200 kV (windowless detector) relative to Si against the
   Thermo Fisher Velox table of a Spectra 300 (``tests/data``; via pyTEMlib).
2. Real standards with theoretical k-factors: the NIST SiO2 spectrum image (O/Si = 2) and the
   pyTEMlib SrTiO3 spectrum (Sr:Ti:O = 1:1:3), cryospec's line intensities and absorption
   correction next to exspy's own line intensities (``get_lines_intensity`` with its background
   windows) and Cliff-Lorimer with the same k-factors, each with its time and peak memory.

Run: ``python benchmarks/bench_edx_k_factors.py`` (about 20 s).
"""

from __future__ import annotations

import csv
import logging
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
logging.getLogger("hyperspy").setLevel(logging.ERROR)
logging.getLogger("exspy").setLevel(logging.ERROR)

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _timed(call):
    tracemalloc.start()
    start = time.perf_counter()
    value = call()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return value, elapsed, peak / 2**20


def k_factor_table() -> None:
    from cryospec.core.k_factors import theoretical_k_factors
    from cryospec.core.xray_detection import DETECTOR_PRESETS

    with open(DATA / "thermo_velox_k_factors_spectra300_200kV.csv", newline="") as handle:
        rows = list(csv.reader(handle))[2:]
    velox = {row[0].split("-")[0]: float(row[2]) for row in rows}
    print("| line | cryospec k (rel. Si) | stated uncertainty | Velox k (rel. Si) | ratio |")
    print("|---|---|---|---|---|")
    lines = [f"{el}_Ka" for el in velox]
    theory = theoretical_k_factors(lines, 200.0, DETECTOR_PRESETS["windowless"])
    for el in velox:
        k = theory[f"{el}_Ka"]
        ref = velox[el] / velox["Si"]
        print(
            f"| {el} Ka | {k.value:.3f} | ±{100 * k.relative_uncertainty:.0f} % | {ref:.3f} "
            f"| {k.value / ref:.3f} |"
        )


def _exspy_fractions(signal, lines, k_by_element):
    exspy_signal = signal.deepcopy()
    exspy_signal.set_signal_type("EDS_TEM")
    exspy_signal.set_lines(lines)
    intensities = exspy_signal.get_lines_intensity(
        xray_lines=lines,
        background_windows=exspy_signal.estimate_background_windows(xray_lines=lines),
        show_progressbar=False,
    )
    factors = [k_by_element[line.split("_")[0]] for line in lines]
    composition = exspy_signal.quantification(
        intensities,
        method="CL",
        factors=factors,
        composition_units="atomic",
        plot_result=False,
        show_progressbar=False,
    )
    return {
        line.split("_")[0]: float(np.nanmean(c.data)) / 100
        for line, c in zip(lines, composition, strict=True)
    }


def standards() -> None:
    import hyperspy.api as hs

    import cryospec

    sio2 = cryospec.load(DATA / "nist_SiO2_EDS_SI_128x128.hspy").sum((0, 1))
    sto = next(
        s
        for s in hs.load(DATA / "pyTEMlib_EDS-STO_Velox.emd")
        if s.axes_manager.signal_dimension == 1 and s.data.size > 1000
    )
    sto.set_signal_type("CryoEDS_TEM")
    cases = [
        ("NIST SiO2 (summed map)", sio2, ["O_Ka", "Si_Ka"], "Si", {"O": 2.0}),
        ("pyTEMlib SrTiO3", sto, ["O_Ka", "Ti_Ka", "Sr_Ka"], "Ti", {"O": 3.0, "Sr": 1.0}),
    ]
    print()
    print("| standard | method | ratios (truth) | absorption | time (s) | peak memory (MB) |")
    print("|---|---|---|---|---|---|")
    for name, signal, lines, base, truth in cases:

        def run(signal=signal, lines=lines):
            return signal.quantify_lines(signal.line_intensities(lines))

        result, elapsed, peak = _timed(run)
        f = {el: float(np.nanmean(m.data)) for el, m in result["atomic_fraction"].items()}
        ratios = ", ".join(
            f"{el}/{base} {f[el] / f[base]:.2f} ({true:g})" for el, true in truth.items()
        )
        absorption = result["absorption"]
        text = absorption["method"]
        if "mass_thickness_g_cm2" in absorption:
            text += f", rho t {float(np.ravel(absorption['mass_thickness_g_cm2'])[0]):.2e} g/cm²"
        detector = result["k_factors"]["detector"]
        print(
            f"| {name} | cryospec, theoretical k ({detector}) | {ratios} | {text} "
            f"| {elapsed:.2f} | {peak:.0f} |"
        )
        k = result["k_factors"]["values"]
        plain = signal.quantify_lines(signal.line_intensities(lines), absorption="none")
        g = {el: float(np.nanmean(m.data)) for el, m in plain["atomic_fraction"].items()}
        ratios = ", ".join(f"{el}/{base} {g[el] / g[base]:.2f}" for el in truth)
        print(f"| {name} | cryospec, same k, no absorption correction | {ratios} | none | | |")
        exspy_f, elapsed, peak = _timed(
            lambda s=signal, li=lines, kk=k: _exspy_fractions(s, li, kk)
        )
        ratios = ", ".join(f"{el}/{base} {exspy_f[el] / exspy_f[base]:.2f}" for el in truth)
        print(
            f"| {name} | exspy get_lines_intensity + CL, same k | {ratios} | none "
            f"| {elapsed:.2f} | {peak:.0f} |"
        )


if __name__ == "__main__":
    k_factor_table()
    standards()
