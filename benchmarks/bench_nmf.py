"""NMF at low dose: cryospec KL-NMF against HyperSpy's NMF, same data, one process.

Part 1. The built-in Li | interphase | LiPON dataset with a grain mosaic (pure-phase grains of
Li2O, Li3N and Li3PO4 between Li metal and LiPON) at three doses. Each method
factorises the raw counts of the Li K region (40-90 eV) into five components; for every true
phase map (Li atoms in that phase per pixel) the best-correlated component is found (best
matching, each component used once) and its Pearson correlation reported, with the mean over
the phases (and the minimum), the wall time and the peak traced memory. The methods: cryospec's
KL-NMF, HyperSpy's NMF as a HyperSpy user runs it on EELS counts
(``normalize_poissonian_noise=True``) and with its defaults, scikit-learn's NMF with the
Kullback-Leibler loss, and, as the supervised limit, cryospec's reference fit (``phase_maps``
with the phases' reference spectra). The data are cryospec's own generator: on data of another
forward model the blind methods rank otherwise (issue #21 measured HyperSpy's Poisson-normalised
NMF ahead of cryospec's KL-NMF there).

Part 2. Out of core: a 256 x 256 x 2048 float32 lazy spectrum image generated block by block
(three phases in bands with soft edges, a power-law background, Poisson counts; never held
whole), KL-NMF with ``decomposition_kl`` on the lazy signal; wall time, the correlation of
the loadings with the true maps, and the peak memory against the array's size.

Run: ``python benchmarks/bench_nmf.py`` (about three minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
import resource
import time
import tracemalloc
import warnings

import dask.array as da
import numpy as np
from scipy.optimize import linear_sum_assignment

from cryospec.data import InterphaseGeometry, li_lipon

warnings.filterwarnings("ignore")
logging.getLogger("hyperspy").setLevel(logging.ERROR)

DOSES = {"medium": 40.0, "low": 12.0, "very low": 4.0}  # beam current (pA), 5 ms, 2.5 nm
RANGE = (40.0, 90.0)


def _best_matching(loadings: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Correlation of each true map with its component, pairs chosen to maximise the sum."""
    k = loadings.shape[1]
    corr = np.corrcoef(np.c_[loadings, truth].T)[:k, k:]
    corr = np.nan_to_num(corr)
    rows, cols = linear_sum_assignment(-corr)
    out = np.full(truth.shape[1], np.nan)
    out[cols] = corr[rows, cols]
    return out


def _timed(func, *args):
    tracemalloc.start()
    started = time.perf_counter()
    value = func(*args)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, elapsed, peak / 1e6


def _kl_nmf(crop, n_components):
    s = crop.deepcopy()
    s.decomposition_kl(n_components)
    return s.learning_results.loadings


def _hyperspy_nmf(crop, n_components, poissonian=False):
    s = crop.deepcopy()
    s.change_dtype("float64")
    s.decomposition(
        algorithm="NMF",
        output_dimension=n_components,
        normalize_poissonian_noise=poissonian,
        print_info=False,
        max_iter=500,
        random_state=0,  # HyperSpy passes it to scikit-learn: reproducible runs
    )
    return s.learning_results.loadings


def _hyperspy_nmf_poissonian(crop, n_components):
    """HyperSpy's NMF as a HyperSpy user runs it on EELS counts: Poisson-normalised."""
    return _hyperspy_nmf(crop, n_components, poissonian=True)


def _sklearn_kl_nmf(crop, n_components):
    """scikit-learn's NMF with the Kullback-Leibler loss (multiplicative updates)."""
    from sklearn.decomposition import NMF

    x = np.asarray(crop.data, dtype=float).reshape(-1, crop.data.shape[-1])
    model = NMF(
        n_components, beta_loss="kullback-leibler", solver="mu", max_iter=500, random_state=0,
        init="nndsvda",
    )  # fmt: skip
    return model.fit_transform(np.clip(x, 0, None))


def _reference_fit(core_loss, low_loss, truth):
    result = core_loss.phase_maps(truth.phase_references(), low_loss=low_loss)
    return np.stack([result.amount[p].data.ravel() for p in truth.phases], -1)


def accuracy_table(shape, seeds):
    geometry = InterphaseGeometry(mosaic="grains")
    rows = {}
    for seed in seeds:
        for dose, current in DOSES.items():
            core_loss, low_loss, truth = li_lipon(
                shape=shape, beam_current_pA=current, seed=seed, geometry=geometry
            )
            n_phase = len(truth.phases)
            true_maps = np.stack(
                [
                    (truth.li_environment_fractions[..., i] * truth.areal_density["Li"]).ravel()
                    for i in range(n_phase)
                ],
                axis=-1,
            )
            crop = core_loss.isig[RANGE[0] : RANGE[1]]

            for name, func, args in (
                ("cryospec KL-NMF", _kl_nmf, (crop, n_phase)),
                ("HyperSpy NMF, Poisson-normalised", _hyperspy_nmf_poissonian, (crop, n_phase)),
                ("HyperSpy NMF (default)", _hyperspy_nmf, (crop, n_phase)),
                ("scikit-learn KL NMF", _sklearn_kl_nmf, (crop, n_phase)),
                ("cryospec reference fit", _reference_fit, (core_loss, low_loss, truth)),
            ):
                loadings, elapsed, peak = _timed(func, *args)
                rows.setdefault((dose, name), []).append(
                    (_best_matching(loadings, true_maps), elapsed, peak)
                )
            phases = truth.phases
    print(f"Part 1: {shape[0]} x {shape[1]} x 2048, Li K region, 5 components, seeds {seeds}")
    print("correlation of each true phase map with its best-matching component (mean over seeds)")
    header = " ".join(f"{p:>7}" for p in phases)
    print(f"{'dose':9} {'method':33} {header} {'mean':>6} {'min':>6} {'time s':>7} {'peak MB':>8}")
    for (dose, name), runs in rows.items():
        corr = np.mean([r[0] for r in runs], axis=0)
        elapsed = np.mean([r[1] for r in runs])
        peak = max(r[2] for r in runs)
        cells = " ".join(f"{c:7.3f}" for c in corr)
        print(
            f"{dose:9} {name:33} {cells} {np.nanmean(corr):6.3f} {np.nanmin(corr):6.3f} "
            f"{elapsed:7.2f} {peak:8.0f}"
        )


def _synthetic_block(block_id, ny, nx, n_channels, rows_per_block, seed):
    """One block of rows of the out-of-core spectrum image and its true loadings."""
    energy = 40.0 + 0.05 * np.arange(n_channels)
    onset = [55.0, 60.0, 66.0]
    spectra = np.stack(
        [
            np.where(energy > e0, 6.0 * (e0 / np.maximum(energy, e0)) ** 3, 0.0)
            * (1 + 0.8 * np.exp(-0.5 * ((energy - e0 - 2.0) / 1.0) ** 2))
            for e0 in onset
        ]
    )
    y0 = block_id * rows_per_block
    yy, xx = np.mgrid[y0 : y0 + rows_per_block, 0:nx] / np.array([ny, nx])[:, None, None]
    left = 1.0 / (1.0 + np.exp((xx - 0.33) / 0.03))
    right = 1.0 / (1.0 + np.exp(-(xx - 0.67) / 0.03))
    middle = (1.0 - left - right) * (1.0 + 0.3 * np.sin(6 * np.pi * yy))
    maps = np.stack([left, middle, right], axis=-1)
    background = 20.0 * (energy / 40.0) ** -3.0
    expected = background + maps @ spectra
    rng = np.random.default_rng((seed, block_id))
    return rng.poisson(expected).astype(np.float32), maps


def out_of_core(ny, nx, n_channels, rows_per_block, epochs):
    import hyperspy.api as hs

    def block(block_id=None):
        return _synthetic_block(block_id[0], ny, nx, n_channels, rows_per_block, 0)[0]

    data = da.map_blocks(
        block,
        chunks=((rows_per_block,) * (ny // rows_per_block), (nx,), (n_channels,)),
        dtype=np.float32,
        meta=np.empty((0, 0, 0), np.float32),
    )
    s = hs.signals.Signal1D(data).as_lazy()
    s.set_signal_type("CryoEELS")
    size_mb = data.nbytes / 1e6
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _, elapsed, peak = _timed(s.decomposition_kl, 3, None, 500, epochs)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    true_maps = np.concatenate(
        [
            _synthetic_block(i, ny, nx, 8, rows_per_block, 0)[1].reshape(-1, 3)
            for i in range(ny // rows_per_block)
        ]
    )
    corr = _best_matching(s.learning_results.loadings, true_maps)
    print(f"\nPart 2: out of core, {ny} x {nx} x {n_channels} float32 lazy ({size_mb:.0f} MB)")
    print(f"  KL-NMF, 3 components, {epochs} epochs over {ny // rows_per_block} blocks")
    print(f"  wall time {elapsed:.1f} s ({epochs * size_mb / elapsed:.0f} MB/s of input read)")
    print(f"  correlation with the true maps: {np.round(corr, 3)}")
    print(
        f"  peak traced memory {peak:.0f} MB = {peak / size_mb:.2f} of the array; "
        f"peak resident memory of the process {rss_after:.0f} MB (before the run "
        f"{rss_before:.0f} MB)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=2, default=(32, 64))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--large", type=int, nargs=3, default=(256, 256, 2048))
    parser.add_argument("--rows-per-block", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-small", action="store_true", help="only part 2 (clean RSS)")
    args = parser.parse_args()
    if not args.skip_small:
        accuracy_table(tuple(args.shape), args.seeds)
    if not args.skip_large:
        out_of_core(*args.large, args.rows_per_block, args.epochs)


if __name__ == "__main__":
    main()
