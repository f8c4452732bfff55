"""Quantification: cryospec (model fit, integration) against exspy's EELSModel.multifit.

On a 32 x 32 crop of the built-in Li | interphase | LiPON dataset (medium dose, low loss
given), in one process:

* cryospec ``quantify(["Li_K", "P_L23", "N_K", "O_K"], low_loss=...)``, model fit and
  integration;
* exspy ``create_model(low_loss=..., GOS="hydrogenic")`` with Li K and O K (exspy's hydrogenic
  model has no P L2,3) over 40-125 and 480-644 eV (the P and N regions left out), ``multifit``.

Printed: the per-element error of the map-summed areal density against the truth, the spread
of the per-pixel error, the wall time and the speed ratio; then the same on data cryospec did
not make (``tests/independent_forward_model.py``: exspy's hydrogenic Li K, N K and O K edges
with fine structure, convolved with a Drude low loss by exspy, ``m.as_signal()``, Poisson
noise; 8 x 8 pixels at 6.25e6 and 6.25e5 electrons per pixel), where exspy's own ``multifit``
plays on its home ground; the same physics recorded by a dark-subtracted CCD-like detector
(negative counts: cryospec's shifted-Poisson fit, its clipped fit, exspy's least-squares
``multifit``); then cryospec alone on a 256 x 256 x 2048 spectrum image. exspy's
intensities are in atoms per barn (the model is convolved with the low loss in electrons),
converted to atoms/nm² (x 1e10).

Run: ``python benchmarks/bench_quantify.py`` (about a minute on 2 cores; ``--large`` adds
the 256 x 256 run, several minutes).
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from cryospec.data import li_lipon

warnings.filterwarnings("ignore")
logging.getLogger("hyperspy").setLevel(logging.ERROR)
logging.getLogger("exspy").setLevel(logging.ERROR)

EDGES = ["Li_K", "P_L23", "N_K", "O_K"]


def _errors(estimate, truth, element):
    n = truth.areal_density[element]
    present = n > 0.2 * n.max()
    total = 100 * (estimate[present].sum() / n[present].sum() - 1)
    spread = 100 * np.std((estimate - n)[present] / n[present])
    return total, spread


def _exspy(core_loss, low_loss):
    from exspy.components import EELSCLEdge

    s = core_loss.isig[40.0:644.0]
    model = s.create_model(
        low_loss=low_loss, auto_background=True, auto_add_edges=False, GOS="hydrogenic"
    )
    model.extend([EELSCLEdge("Li_K", GOS="hydrogenic"), EELSCLEdge("O_K", GOS="hydrogenic")])
    model.remove_signal_range(125.0, 480.0)
    model.multifit(show_progressbar=False)
    return {
        "Li": model.components.Li_K.intensity.map["values"] * 1e10,
        "O": model.components.O_K.intensity.map["values"] * 1e10,
    }


def compare(seed):
    # 5 nm pixels: the 32 columns span Li metal, the interphase and LiPON.
    core_loss, low_loss, truth = li_lipon(
        shape=(32, 32), pixel_size_nm=5.0, beam_current_pA=40.0, seed=seed
    )
    rows = []
    timings = {}
    for method in ("model", "integration"):
        core_loss.quantify(EDGES, low_loss=low_loss, method=method)  # warm-up
        started = time.perf_counter()
        result = core_loss.quantify(EDGES, low_loss=low_loss, method=method)
        timings[f"cryospec {method}"] = time.perf_counter() - started
        for element in ("Li", "P", "N", "O"):
            total, spread = _errors(result.areal_density[element].data, truth, element)
            rows.append((f"cryospec {method}", element, total, spread))
    started = time.perf_counter()
    exspy_maps = _exspy(core_loss, low_loss)
    timings["exspy multifit (Li K + O K)"] = time.perf_counter() - started
    for element, estimate in exspy_maps.items():
        total, spread = _errors(estimate, truth, element)
        rows.append(("exspy multifit", element, total, spread))
    print("\nAccuracy on 32 x 32 x 2048 (medium dose, low loss given), against the truth")
    print(f"{'method':24} {'element':8} {'map-sum error %':>16} {'per-pixel spread %':>19}")
    for name, element, total, spread in rows:
        print(f"{name:24} {element:8} {total:16.2f} {spread:19.2f}")
    print("\nWall time on the same crop (1024 pixels)")
    for name, seconds in timings.items():
        print(f"{name:30} {seconds:8.2f} s  ({1000 * seconds / 1024:.3f} ms per pixel)")
    ratio = timings["exspy multifit (Li K + O K)"] / timings["cryospec model"]
    print(f"cryospec model fit (4 edges) is {ratio:.0f} times faster than exspy multifit (2 edges)")


def _exspy_multifit(data, truth) -> tuple[float, dict[str, np.ndarray]]:
    """exspy's own model of the edges in ``truth`` (hydrogenic, convolved with the low loss,
    its automatic power law) fitted by ``multifit`` above 40 eV: the wall time and the areal
    density maps (atoms/nm²) by element."""
    from exspy.components import EELSCLEdge

    started = time.perf_counter()
    s = data.core_loss.isig[40.0:]
    model = s.create_model(
        low_loss=data.low_loss, auto_background=True, auto_add_edges=False, GOS="hydrogenic"
    )
    model.extend([EELSCLEdge(name, GOS="hydrogenic") for name in truth])
    model.multifit(show_progressbar=False)
    seconds = time.perf_counter() - started
    found = {
        name.split("_")[0]: getattr(model.components, name).intensity.map["values"] * 1e10
        for name in truth
    }
    return seconds, found


def independent(electrons_per_pixel: float) -> None:
    """Accuracy and time on exspy-made data, cryospec (same cross-section model as the data)
    against exspy's multifit with its own components."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from independent_forward_model import exspy_spectrum_image

    truth = {"Li_K": 1500.0, "N_K": 240.0, "O_K": 1700.0}
    data = exspy_spectrum_image(truth, electrons_per_pixel=electrons_per_pixel, shape=(8, 8))
    rows, times = [], {}
    for mode in ("global", "local"):
        started = time.perf_counter()
        q = data.core_loss.quantify(
            list(truth), low_loss=data.low_loss, cross_section="hydrogenic", fit_ranges=mode
        )
        times[f"cryospec model ({mode})"] = time.perf_counter() - started
        for element, m in q.areal_density.items():
            rows.append((f"cryospec {mode}", element, np.asarray(m.data)))
    times["exspy multifit"], found = _exspy_multifit(data, truth)
    rows.extend(("exspy multifit", element, values) for element, values in found.items())
    print(
        f"\nIndependent data (exspy's physics), 8 x 8 pixels at {electrons_per_pixel:.3g} "
        "electrons per pixel: error of the map mean against the truth"
    )
    print(f"{'method':24} {'element':8} {'map-mean error %':>17} {'per-pixel spread %':>19}")
    for method, element, values in rows:
        n = data.areal_density[element]
        error = 100 * (np.mean(values) / n - 1)
        print(f"{method:24} {element:8} {error:17.2f} {100 * np.std(values) / n:19.2f}")
    for name, seconds in times.items():
        print(f"{name:30} {seconds:8.2f} s")
    ratio = times["exspy multifit"] / times["cryospec model (global)"]
    print(f"cryospec's joint model fit is {ratio:.0f} times faster than exspy multifit")


def dark_subtracted(electrons_per_pixel: float = 5e6, read_noise: float = 80.0) -> None:
    """Accuracy on exspy-made data recorded by a CCD-like detector (4 counts per electron,
    Gaussian read noise, dark level subtracted: weak channels negative): cryospec's
    shifted-Poisson fit (the default), its clipped fit, the same electrons without read noise,
    and exspy's multifit (least squares, which takes negative counts) on the same data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from independent_forward_model import exspy_spectrum_image

    truth = {"Li_K": 1500.0, "N_K": 240.0, "O_K": 1700.0}
    common = {"electrons_per_pixel": electrons_per_pixel, "shape": (8, 8), "seed": 3, "gain": 4.0}
    data = exspy_spectrum_image(truth, read_noise=read_noise, **common)
    twin = exspy_spectrum_image(truth, **common)
    negative = float(np.mean(data.core_loss.data < 0))
    # one untimed run first: the cross-section tables are read once per process
    twin.core_loss.quantify(list(truth), low_loss=twin.low_loss, cross_section="hydrogenic")
    rows, times = [], {}
    for label, source, choice in (
        ("cryospec shift", data, "shift"),
        ("cryospec clip", data, "clip"),
        ("cryospec, no read noise", twin, "shift"),
    ):
        started = time.perf_counter()
        q = source.core_loss.quantify(
            list(truth), low_loss=source.low_loss, cross_section="hydrogenic", negative=choice
        )
        times[label] = time.perf_counter() - started
        for element, m in q.areal_density.items():
            se = np.asarray(q.areal_density_se[element].data)
            rows.append((label, element, np.asarray(m.data), se))
    times["exspy multifit"], found = _exspy_multifit(data, truth)
    rows.extend(("exspy multifit", element, values, None) for element, values in found.items())
    print(
        f"\nDark-subtracted independent data, 8 x 8 pixels at {electrons_per_pixel:.3g} electrons "
        f"per pixel, 4 counts per electron, read noise {read_noise:g} counts "
        f"({100 * negative:.0f} % of the values negative): error of the map mean"
    )
    print(
        f"{'method':26} {'element':8} {'map-mean error %':>17} {'its SE from fit %':>18} "
        f"{'from pixels %':>14}"
    )
    for method, element, values, se in rows:
        n = data.areal_density[element]
        error = 100 * (np.mean(values) / n - 1)
        scatter = 100 * np.std(values, ddof=1) / np.sqrt(values.size) / n
        fitted = "" if se is None else f"{100 * np.mean(se) / np.sqrt(se.size) / n:18.2f}"
        print(f"{method:26} {element:8} {error:17.2f} {fitted:>18} {scatter:14.2f}")
    for name, seconds in times.items():
        print(f"{name:30} {seconds:8.2f} s")


def large():
    core_loss, low_loss, _ = li_lipon(shape=(256, 256), beam_current_pA=40.0, seed=0)
    started = time.perf_counter()
    core_loss.quantify(EDGES, low_loss=low_loss)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\ncryospec model fit on 256 x 256 x 2048: {seconds:.1f} s "
        f"({1000 * seconds / 256**2:.3f} ms per pixel); peak resident memory {rss:.0f} MB"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--large", action="store_true", help="also run 256 x 256 x 2048")
    args = parser.parse_args()
    print(f"BLAS: {[(i['internal_api'], i['num_threads']) for i in threadpool_info()]}")
    compare(args.seed)
    for electrons in (6.25e6, 6.25e5):
        independent(electrons)
    dark_subtracted()
    if args.large:
        large()


if __name__ == "__main__":
    main()
