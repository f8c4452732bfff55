"""Out of core: the chunking policy, lazy = in memory for every public operation, no operation
gathering the whole cube, and the same numbers on a Dask distributed cluster."""

from __future__ import annotations

import numpy as np
import pytest
from dask.callbacks import Callback

import cryospec
from cryospec._chunks import spectral_chunks, spectral_rechunk
from cryospec.data import li_lipon, li_lipon_eds

EDGES = ["Li_K", "P_L23", "O_K", "N_K"]


class LargestTaskResult(Callback):
    """Records the largest array any Dask task returns while active."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        self.largest = max(self.largest, int(getattr(result, "nbytes", 0)))


@pytest.fixture(scope="module")
def data():
    core_loss, low_loss, truth = li_lipon(shape=(16, 48), seed=4)
    return core_loss, low_loss, truth


def _lazy(signal, rows=4):
    lazy = signal.as_lazy()
    lazy.data = lazy.data.rechunk((rows, -1, -1))
    return lazy


def test_policy_keeps_spectra_whole_and_rows_within_the_budget():
    shape = (512, 512, 2048)
    chunks = spectral_chunks(shape, 4, memory_budget=64 * 2**20)
    assert chunks[1:] == (512, 2048)
    assert chunks[0] * 512 * 2048 * 4 <= 64 * 2**20
    assert spectral_chunks((3, 64, 64, 100), 8, memory_budget=2**20)[:1] == (1,)
    with pytest.raises(ValueError, match="cannot hold one row of spectra"):
        spectral_chunks(shape, 4, memory_budget=2**20)


def test_split_energy_axis_is_rechunked_with_a_warning(data):
    import dask.array as da

    core_loss = data[0]
    split = da.from_array(core_loss.data, chunks=(4, 48, 512))
    with pytest.warns(UserWarning, match="energy axis"):
        fixed = spectral_rechunk(split, memory_budget=8 * 2**20)
    assert len(fixed.chunks[-1]) == 1
    lazy = core_loss.as_lazy()
    lazy.data = split
    with pytest.warns(UserWarning, match="energy axis is split"):
        lazy.subtract_background("Li_K")


@pytest.mark.parametrize("suffix", [".zspy", ".hspy"])
def test_load_lazily_applies_the_policy(data, tmp_path, suffix):
    core_loss = data[0]
    path = tmp_path / f"cube{suffix}"
    core_loss.save(path)
    row = 48 * core_loss.data.shape[-1] * core_loss.data.dtype.itemsize
    s = cryospec.load(path, lazy=True, memory_budget=3 * row)
    assert s._lazy and type(s).__name__ == "LazyCryoEELSSpectrum"
    assert len(s.data.chunks[-1]) == 1 and max(s.data.chunks[0]) == 3
    with pytest.raises(ValueError, match="one row of spectra"):
        cryospec.load(path, lazy=True, memory_budget=row // 2)


def test_dose_background_quantification_lazy_equal_in_memory(data):
    core_loss, low_loss, _ = data
    lazy, lazy_ll = _lazy(core_loss), _lazy(low_loss)
    np.testing.assert_allclose(
        np.asarray(lazy.dose_per_pixel().data), core_loss.dose_per_pixel().data
    )
    for kwargs in ({}, {"count_target": 2000.0}):
        eager = core_loss.subtract_background("Li_K", **kwargs)
        lazy_result = lazy.subtract_background("Li_K", **kwargs)
        assert lazy_result._lazy
        np.testing.assert_allclose(lazy_result.data.compute(), eager.data, rtol=1e-5, atol=1e-3)
    for method in ("model", "integration"):
        eager = core_loss.quantify(EDGES, low_loss=low_loss, method=method)
        lazy_q = lazy.quantify(EDGES, low_loss=lazy_ll, method=method)
        for el in ("Li", "P", "O", "N"):
            # float32 sums in another order: agreement to 1e-5 of the map's scale
            for group in ("areal_density", "atomic_fraction_std"):
                expected = getattr(eager, group)[el].data
                np.testing.assert_allclose(
                    getattr(lazy_q, group)[el].data,
                    expected,
                    rtol=1e-5,
                    atol=1e-5 * np.abs(expected).max(),
                )
        np.testing.assert_allclose(lazy_q.t_over_lambda.data, eager.t_over_lambda.data)


def test_phase_maps_profiles_and_edx_lazy_equal_in_memory(data):
    from cryospec.signals.cryo_profile import auto_profile

    core_loss, low_loss, truth = data
    refs = truth.phase_references()
    eager = core_loss.phase_maps(refs, low_loss=low_loss)
    lazy = _lazy(core_loss).phase_maps(refs, low_loss=_lazy(low_loss))
    for name in refs:
        np.testing.assert_allclose(lazy.fraction[name].data, eager.fraction[name].data, atol=1e-8)
    quant = core_loss.quantify(EDGES, low_loss=low_loss)
    fraction = quant.atomic_fraction["P"]
    variance = quant.atomic_fraction_se["P"].data ** 2
    profile = auto_profile(fraction, variance=variance)
    lazy_profile = auto_profile(fraction.as_lazy(), variance=variance)
    np.testing.assert_allclose(lazy_profile.data, profile.data)

    eds, eds_truth = li_lipon_eds(shape=(8, 48), seed=4)
    lazy_eds = eds.as_lazy()
    lazy_eds.data = lazy_eds.data.rechunk((2, -1, -1))
    eager = eds.quantify_lines(eds.line_intensities(), eds_truth.k_factors)
    lazy = lazy_eds.quantify_lines(lazy_eds.line_intensities(), eds_truth.k_factors)
    np.testing.assert_allclose(
        lazy["atomic_fraction"]["P"].data, eager["atomic_fraction"]["P"].data, equal_nan=True
    )


def test_no_operation_gathers_the_whole_cube(data, tmp_path):
    core_loss, low_loss, truth = data
    lazy, lazy_ll = _lazy(core_loss, rows=2), _lazy(low_loss, rows=2)
    cube = lazy.data.nbytes
    operations = {
        "dose": lambda: lazy.dose_per_pixel(),
        "background written to zspy": lambda: lazy.subtract_background(
            "O_K", count_target=2000.0
        ).save(tmp_path / "bg.zspy"),
        "quantify": lambda: lazy.quantify(EDGES, low_loss=lazy_ll),
        "phase maps": lambda: lazy.phase_maps(truth.phase_references(), low_loss=lazy_ll),
        "KL-NMF": lambda: lazy.deepcopy().decomposition_kl(2, signal_range=(40.0, 90.0)),
    }
    for name, run in operations.items():
        with LargestTaskResult() as watch:
            run()
        assert watch.largest < cube / 4, f"{name}: a task returned {watch.largest} of {cube} B"


def test_local_cluster_gives_the_threaded_numbers(data):
    from dask.distributed import Client, LocalCluster

    core_loss, low_loss, _ = data
    lazy, lazy_ll = _lazy(core_loss), _lazy(low_loss)
    threaded = lazy.quantify(EDGES, low_loss=lazy_ll)
    background = lazy.subtract_background("Li_K").data.compute()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        distributed = lazy.quantify(EDGES, low_loss=lazy_ll)
        distributed_background = lazy.subtract_background("Li_K").data.compute()
    for el in ("Li", "P", "O", "N"):
        np.testing.assert_array_equal(
            distributed.areal_density[el].data, threaded.areal_density[el].data
        )
    np.testing.assert_array_equal(distributed_background, background)


def test_quantify_command_on_a_scheduler_gives_the_same_numbers(data, tmp_path):
    import json

    from dask.distributed import LocalCluster

    from cryospec.app.cli import main

    core_loss, low_loss, _ = data
    core_loss.save(tmp_path / "cl.zspy")
    low_loss.save(tmp_path / "ll.zspy")
    base = ["quantify", str(tmp_path / "cl.zspy"), "--low-loss", str(tmp_path / "ll.zspy")]
    base += ["--edges", "Li_K,P_L23,O_K"]
    assert main([*base, "--out", str(tmp_path / "threads")]) == 0
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code = main(
            [*base, "--out", str(tmp_path / "cluster"), "--scheduler", cluster.scheduler_address]
        )
    assert code == 0
    threads = json.loads((tmp_path / "threads" / "quantification.json").read_text())
    on_cluster = json.loads((tmp_path / "cluster" / "quantification.json").read_text())
    for el, values in threads["elements"].items():
        for key, value in values.items():
            assert on_cluster["elements"][el][key] == pytest.approx(value, rel=1e-5), (el, key)


def test_a_cluster_needs_zarr_inputs(data, tmp_path, capsys):
    from cryospec.app.cli import main

    data[0].save(tmp_path / "cl.hspy")
    args = ["quantify", str(tmp_path / "cl.hspy"), "--edges", "Li_K", "--out", str(tmp_path)]
    assert main([*args, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "Zarr (.zspy)" in capsys.readouterr().err
