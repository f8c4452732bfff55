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
    **kwargs: Any,
) -> NDArray | da.Array:
    """Apply ``kernel(block, *per_pixel_blocks, **kwargs) -> (..., n_out)`` to every pixel.

    In memory the kernel sees the whole array; for a Dask array it runs block by block
    (``map_blocks``, signal axis in one chunk), with the per-pixel arrays ``(*nav, k)`` cut
    into matching navigation blocks, so nothing is gathered in memory.
    """
    if not is_lazy_array(data):
        return kernel(data, *per_pixel, **kwargs)
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
