"""The one place where cryospec meets Dask: the signal axis in one chunk, navigation chunked.

Every other module works on NumPy arrays or calls the helpers here (a test checks that no other
module imports Dask): mapping kernels over blocks, reducing, iterating, overlapping neighbours,
and the schedulers (threads, a distributed client, a local cluster of processes).

The chunking policy: every spectrum whole in one chunk (the energy axis is never split: the
kernels need whole spectra, and a split axis makes every operation rechunk), navigation chunks
of whole rows sized to a memory budget (:func:`default_memory_budget` unless given).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import dask.array as da
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "array_module",
    "as_dask_like",
    "broadcast_spectrum",
    "compute_with_progress",
    "connect",
    "default_memory_budget",
    "is_lazy_array",
    "iterate_row_blocks",
    "map_spectra",
    "map_with_neighbours",
    "nav_aligned",
    "nav_reduce",
    "run_on_cluster",
    "signal_axis_in_one_chunk",
    "spectral_chunks",
    "spectral_rechunk",
    "threads_scheduler",
]

_logger = logging.getLogger(__name__)


def default_memory_budget() -> int:
    """Bytes per chunk: 1/16 of the available memory shared by the worker threads, between
    16 MB and 64 MB (a few chunks per thread are in flight, each with its intermediates)."""
    import os

    try:
        import psutil

        available = psutil.virtual_memory().available
    except ImportError:  # pragma: no cover - psutil comes with distributed
        available = 4 * 2**30
    threads = os.cpu_count() or 1
    return int(np.clip(available / (16 * threads), 16 * 2**20, 64 * 2**20))


def spectral_chunks(
    shape: tuple[int, ...], itemsize: int, memory_budget: int | None = None
) -> tuple[int, ...]:
    """Chunk shape for a (..., rows, columns, channels) array under the policy.

    Raises
    ------
    ValueError
        When the budget cannot hold one row of spectra (columns x channels).
    """
    budget = default_memory_budget() if memory_budget is None else int(memory_budget)
    if len(shape) == 1:
        return tuple(shape)
    row_bytes = int(shape[-2]) * int(shape[-1]) * itemsize if len(shape) >= 2 else 0
    if budget < row_bytes:
        raise ValueError(
            f"a memory budget of {budget / 2**20:.1f} MB cannot hold one row of spectra "
            f"({shape[-2]} x {shape[-1]} channels = {row_bytes / 2**20:.1f} MB): give at least "
            f"{row_bytes / 2**20:.1f} MB (memory_budget in bytes), or crop or bin the map"
        )
    if len(shape) == 2:  # a line of spectra: chunks along it
        return (max(1, min(shape[0], budget // (shape[-1] * itemsize))), shape[-1])
    rows = max(1, min(int(shape[-3]), budget // row_bytes))
    outer = (1,) * (len(shape) - 3)  # frames or other leading axes: one at a time
    return (*outer, rows, int(shape[-2]), int(shape[-1]))


def _warn_split_energy_axis(data: da.Array, verb: str, advice: str) -> None:
    """Warn (and log) that the energy axis of ``data`` is split and will be rechunked."""
    message = (
        f"the energy axis {verb} into {len(data.chunks[-1])} chunks; rechunking so that every "
        f"spectrum is whole{advice}"
    )
    warnings.warn(message, UserWarning, stacklevel=4)
    _logger.warning(message)


def spectral_rechunk(data: da.Array, memory_budget: int | None = None) -> da.Array:
    """Apply the policy to a Dask array; a split energy axis is mended with a warning."""
    if len(data.chunks[-1]) > 1:
        _warn_split_energy_axis(
            data, "was split", " (store the data chunked that way to avoid this cost)"
        )
    target = spectral_chunks(data.shape, data.dtype.itemsize, memory_budget)
    return data.rechunk(target)


def compute_with_progress(*arrays: Any, show_progressbar: bool | None = None) -> Any:
    """Compute Dask arrays together (one pass over shared inputs), with Dask's progress bar when
    ``show_progressbar`` (default: HyperSpy's preference); NumPy arrays pass through."""
    import dask

    if not any(is_lazy_array(a) for a in arrays):
        return arrays if len(arrays) > 1 else arrays[0]
    if show_progressbar is None:
        from hyperspy.defaults_parser import preferences

        show_progressbar = bool(preferences.General.show_progressbar)
    with ExitStack() as stack:
        if _runs_in_local_threads():
            # Each Dask thread runs its own kernel: a multi-threaded BLAS under every one of
            # them oversubscribes the cores (measured: the model fit 1.7x slower on 2 cores).
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
        if show_progressbar:
            from dask.diagnostics import ProgressBar

            stack.enter_context(ProgressBar())
        out = dask.compute(*arrays)
    return out if len(arrays) > 1 else out[0]


def _runs_in_local_threads() -> bool:
    """True when ``dask.compute`` would run on this process's thread pool (no distributed
    client is the default scheduler and none is configured)."""
    import dask

    scheduler = dask.config.get("scheduler", None)
    if scheduler is not None:
        return scheduler in ("threads", "threading")
    try:
        from distributed import default_client

        default_client()
    except (ImportError, ValueError):
        return True
    return False


def is_lazy_array(data: Any) -> bool:
    """True for a Dask array."""
    return isinstance(data, da.Array)


def signal_axis_in_one_chunk(data: da.Array) -> da.Array:
    """Rechunk so that the last (signal) axis is a single chunk, with a warning when it was
    split (each such call costs a rechunk); navigation chunks are kept."""
    if len(data.chunks[-1]) == 1:
        return data
    _warn_split_energy_axis(
        data,
        "is split",
        ". Load with cryospec.load(..., lazy=True) or call s.rechunk_spectral() once to avoid "
        "this cost.",
    )
    return data.rechunk({data.ndim - 1: -1})


def nav_aligned(values: NDArray | da.Array, like: da.Array) -> da.Array:
    """A per-pixel array ``(*nav, k)`` as a Dask array chunked like ``like``'s navigation
    (a Dask array, e.g. a lazy low loss, is rechunked, never computed)."""
    if is_lazy_array(values):
        return values.rechunk((*like.chunks[:-1], (values.shape[-1],)))
    values = np.asarray(values)
    return da.from_array(values, chunks=(*like.chunks[:-1], (values.shape[-1],)))


def _reduce_block(block: NDArray, kernel: Callable[..., NDArray], kwargs: dict) -> NDArray:
    return np.asarray(kernel(block, **kwargs), dtype=float)[..., None]


def nav_reduce(kernel: Callable[..., NDArray], data: NDArray | da.Array, **kwargs: Any) -> NDArray:
    """``kernel(spectra) -> (...)``, one value per pixel, block by block for a Dask array; the
    (navigation-sized) result comes back in memory."""
    if not is_lazy_array(data):
        return np.asarray(kernel(data, **kwargs))
    data = signal_axis_in_one_chunk(data)
    out = da.map_blocks(
        _reduce_block,
        data,
        kernel=kernel,
        kwargs=kwargs,
        dtype=float,
        chunks=(*data.chunks[:-1], (1,)),
        meta=np.empty((0,) * data.ndim, dtype=float),
    )
    return out.compute()[..., 0]


class _InPieces:
    """A kernel applied to a block in pieces of at most ``max_pixels`` pixels (a picklable
    wrapper, so that it travels to Dask workers)."""

    def __init__(self, kernel: Callable[..., NDArray], max_pixels: int):
        self.kernel, self.max_pixels = kernel, int(max_pixels)

    def __call__(self, block: NDArray, *per_pixel: NDArray, **kwargs: Any) -> NDArray:
        nav = block.shape[:-1]
        n_pixels = int(np.prod(nav))
        if n_pixels <= self.max_pixels:
            return self.kernel(block, *per_pixel, **kwargs)
        flat = block.reshape(n_pixels, block.shape[-1])
        extra = [p.reshape(n_pixels, p.shape[-1]) for p in per_pixel]
        pieces = [
            self.kernel(
                flat[i : i + self.max_pixels],
                *(p[i : i + self.max_pixels] for p in extra),
                **kwargs,
            )
            for i in range(0, n_pixels, self.max_pixels)
        ]
        out = np.concatenate(pieces, axis=0)
        return out.reshape(*nav, out.shape[-1])


def map_spectra(
    kernel: Callable[..., NDArray],
    data: NDArray | da.Array,
    *per_pixel: NDArray,
    n_out: int,
    dtype: Any,
    max_pixels: int | None = None,
    **kwargs: Any,
) -> NDArray | da.Array:
    """Apply ``kernel(block, *per_pixel_blocks, **kwargs) -> (..., n_out)`` to every pixel.

    In memory the kernel sees the whole array, or, with ``max_pixels``, blocks of at most that
    many pixels (for kernels whose intermediates are many times the data; the blocks run on
    Dask's threads and the result comes back in memory). For a Dask array it runs block by
    block (``map_blocks``, signal axis in one chunk), with the per-pixel arrays ``(*nav, k)``
    cut into matching navigation blocks, so nothing is gathered in memory; with ``max_pixels``
    each block is processed in pieces of at most that many pixels.
    """
    if not is_lazy_array(data) and any(is_lazy_array(p) for p in per_pixel):
        data = da.from_array(data, chunks=spectral_chunks(data.shape, data.dtype.itemsize))
    if not is_lazy_array(data):
        n_pixels = int(np.prod(data.shape[:-1]))
        if max_pixels is None or n_pixels <= max_pixels or data.ndim < 2:
            return kernel(data, *per_pixel, **kwargs)
        rows = max(1, max_pixels // int(np.prod(data.shape[1:-1], dtype=int) or 1))
        lazy = da.from_array(data, chunks=(rows, *data.shape[1:]))
        pieces = map_spectra(kernel, lazy, *per_pixel, n_out=n_out, dtype=dtype, **kwargs)
        return compute_with_progress(pieces, show_progressbar=False)
    data = signal_axis_in_one_chunk(data)
    extra = [nav_aligned(p, data) for p in per_pixel]
    if max_pixels is not None:
        kernel = _InPieces(kernel, max_pixels)
    return da.map_blocks(
        kernel,
        data,
        *extra,
        dtype=dtype,
        chunks=(*data.chunks[:-1], (n_out,)),
        meta=np.empty((0,) * data.ndim, dtype=dtype),
        **kwargs,
    )


def array_module(data: Any):
    """``dask.array`` for a Dask array, else ``numpy`` (for element-wise code on either)."""
    return da if is_lazy_array(data) else np


def as_dask_like(values: NDArray, like: da.Array, n_axes: int) -> da.Array:
    """``values`` as a Dask array chunked like the first ``n_axes`` axes of ``like``."""
    chunks = like.chunks[:n_axes] if n_axes else -1
    return da.from_array(values, chunks=chunks)


def broadcast_spectrum(spectrum: NDArray, like: da.Array) -> da.Array:
    """One spectrum broadcast over ``like``'s navigation (no copy), chunked like it."""
    shape = (*like.shape[:-1], spectrum.size)
    chunks = (*like.chunks[:-1], (spectrum.size,))
    return da.broadcast_to(da.from_array(spectrum), shape, chunks=chunks)


def iterate_row_blocks(data: da.Array) -> Iterator[tuple[int, int, NDArray]]:
    """``(first, stop, block)`` for each block of rows of a 2-D Dask array ``(pixels,
    channels)``, computed one at a time (the spectra whole)."""
    data = signal_axis_in_one_chunk(data)
    bounds = np.cumsum((0, *data.chunks[0]))
    for i, block in enumerate(data.blocks):
        yield int(bounds[i]), int(bounds[i + 1]), np.asarray(block.compute())


def map_with_neighbours(
    kernel: Callable[[NDArray], NDArray], data: da.Array, n_nav: int, dtype: Any
) -> da.Array:
    """``kernel`` on every block of spectra with one neighbouring pixel on each side of every
    navigation axis (``map_overlap``; nothing beyond the map's border)."""
    data = signal_axis_in_one_chunk(data)
    return da.map_overlap(
        kernel,
        data,
        depth={i: (1 if i < n_nav else 0) for i in range(data.ndim)},
        boundary="none",
        dtype=dtype,
    )


@contextmanager
def threads_scheduler():
    """Dask's local threads for everything computed inside (e.g. in a worker process)."""
    import dask

    with dask.config.set(scheduler="threads"):
        yield


@contextmanager
def connect(address: str):
    """A Dask distributed client of the scheduler at ``address`` while inside."""
    from dask.distributed import Client

    with Client(address) as client:
        yield client


def run_on_cluster(
    function: Callable[..., Any],
    jobs: Iterable[tuple],
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[Any]:
    """``function(*job)`` for every job on a Dask cluster: the scheduler at ``scheduler``, or a
    local cluster of ``workers`` single-threaded processes; results in the order they finish."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = [client.submit(function, *job, pure=False) for job in jobs]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
