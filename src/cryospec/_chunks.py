"""The one place where kernels meet Dask: the signal axis in one chunk, navigation chunked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np
from numpy.typing import NDArray

__all__ = ["is_lazy_array", "map_spectra", "nav_aligned", "signal_axis_in_one_chunk"]


def is_lazy_array(data: Any) -> bool:
    """True for a Dask array."""
    return isinstance(data, da.Array)


def signal_axis_in_one_chunk(data: da.Array) -> da.Array:
    """Rechunk so that the last (signal) axis is a single chunk; navigation chunks are kept."""
    if len(data.chunks[-1]) == 1:
        return data
    return data.rechunk({data.ndim - 1: -1})


def nav_aligned(values: NDArray, like: da.Array) -> da.Array:
    """A per-pixel array ``(*nav, k)`` as a Dask array chunked like ``like``'s navigation."""
    values = np.asarray(values)
    return da.from_array(values, chunks=(*like.chunks[:-1], (values.shape[-1],)))


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
    cut into matching navigation blocks, so nothing is gathered in memory.
    """
    if not is_lazy_array(data):
        n_pixels = int(np.prod(data.shape[:-1]))
        if max_pixels is None or n_pixels <= max_pixels or data.ndim < 2:
            return kernel(data, *per_pixel, **kwargs)
        rows = max(1, max_pixels // int(np.prod(data.shape[1:-1], dtype=int) or 1))
        lazy = da.from_array(data, chunks=(rows, *data.shape[1:]))
        return map_spectra(kernel, lazy, *per_pixel, n_out=n_out, dtype=dtype, **kwargs).compute()
    data = signal_axis_in_one_chunk(data)
    extra = [nav_aligned(p, data) for p in per_pixel]
    return da.map_blocks(
        kernel,
        data,
        *extra,
        dtype=dtype,
        chunks=(*data.chunks[:-1], (n_out,)),
        meta=np.empty((0,) * data.ndim, dtype=dtype),
        **kwargs,
    )
