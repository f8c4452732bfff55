"""Line profiles from maps, with their variance, for gradient fits across an interphase.

A profile is a weighted sum of map pixels: every sample point along the line is the average of
bilinear interpolations at points spaced at most half a pixel across the width. The weights of
all points form one sparse matrix ``W`` (points x pixels), so that the profile is ``W v`` and,
for independent pixels, its variance is ``(W * W) var`` exactly, whatever the overlap of the
interpolation footprints.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, sparse

__all__ = ["auto_direction", "line_weights", "profile_from_weights", "stripe_weights"]


def line_weights(
    shape: tuple[int, int],
    start_px: tuple[float, float],
    end_px: tuple[float, float],
    width_px: float,
    step_px: float = 1.0,
    n_stripes: int = 1,
) -> tuple[NDArray, list[sparse.csr_matrix]]:
    """Sparse averaging weights of a line (or of ``n_stripes`` parallel sub-lines).

    Parameters
    ----------
    shape : (int, int)
        Map shape (rows, columns).
    start_px, end_px : (float, float)
        End points as (column, row) in pixel coordinates (sub-pixel allowed).
    width_px : float
        Width across the line, in pixels (> 0); split into ``n_stripes`` equal stripes.
    step_px : float
        Spacing of the profile points along the line, in pixels.

    Returns
    -------
    distance_px : ndarray
        Distance of each point from ``start_px`` along the line (pixels).
    weights : list of csr_matrix
        One (n_points, rows * columns) matrix per stripe.

    Raises
    ------
    ValueError
        A line of zero length, a non-positive width or step, or samples outside the map.
    """
    if not width_px > 0:
        raise ValueError(f"the profile width must be positive, got {width_px!r}")
    if not step_px > 0:
        raise ValueError(f"the step must be positive, got {step_px!r}")
    if n_stripes < 1:
        raise ValueError(f"n_stripes must be at least 1, got {n_stripes}")
    ny, nx = shape
    p0, p1 = np.asarray(start_px, dtype=float), np.asarray(end_px, dtype=float)
    length = float(np.hypot(*(p1 - p0)))
    if length == 0:
        raise ValueError("the line has zero length")
    direction = (p1 - p0) / length
    normal = np.array([-direction[1], direction[0]])
    distance = np.arange(0.0, length + 1e-9, step_px)
    n_across = max(1, int(np.ceil(width_px / 0.5)))
    across = (np.arange(n_across) + 0.5) / n_across * width_px - width_px / 2
    stripes = np.array_split(np.arange(n_across), n_stripes)
    weights = []
    for members in stripes:
        offsets = across[members]
        points = (
            p0[None, None, :]
            + distance[:, None, None] * direction
            + offsets[None, :, None] * normal
        )
        col, row = points[..., 0], points[..., 1]
        if (
            col.min() < -1e-9
            or row.min() < -1e-9
            or col.max() > nx - 1 + 1e-9
            or (row.max() > ny - 1 + 1e-9)
        ):
            raise ValueError(
                "the line (with its width) leaves the map: samples span columns "
                f"[{col.min():.2f}, {col.max():.2f}] and rows [{row.min():.2f}, {row.max():.2f}] "
                f"of a {ny} x {nx} map"
            )
        c0 = np.clip(np.floor(col), 0, nx - 2).astype(int)
        r0 = np.clip(np.floor(row), 0, ny - 2).astype(int)
        fc, fr = col - c0, row - r0
        point = np.broadcast_to(np.arange(distance.size)[:, None], col.shape)
        rows_, cols_, data = [], [], []
        for dr, dc, w in (
            (0, 0, (1 - fr) * (1 - fc)),
            (0, 1, (1 - fr) * fc),
            (1, 0, fr * (1 - fc)),
            (1, 1, fr * fc),
        ):
            rows_.append(point.ravel())
            cols_.append(((r0 + dr) * nx + (c0 + dc)).ravel())
            data.append((w / len(offsets)).ravel())
        matrix = sparse.csr_matrix(
            (np.concatenate(data), (np.concatenate(rows_), np.concatenate(cols_))),
            shape=(distance.size, ny * nx),
        )
        weights.append(matrix)
    return distance, weights


def profile_from_weights(
    weights: sparse.csr_matrix, values: NDArray, variance: NDArray | None = None
) -> tuple[NDArray, NDArray | None]:
    """Profile ``W v`` of map(s) ``values`` (..., rows, columns) and its variance."""
    v = np.asarray(values, dtype=float)
    flat = v.reshape(*v.shape[:-2], -1)
    profile = (weights @ flat.reshape(-1, flat.shape[-1]).T).T.reshape(*flat.shape[:-1], -1)
    if variance is None:
        return profile, None
    var = np.asarray(variance, dtype=float).reshape(*v.shape[:-2], -1)
    squared = weights.multiply(weights)
    prof_var = (squared @ var.reshape(-1, var.shape[-1]).T).T.reshape(*var.shape[:-1], -1)
    return profile, prof_var


def auto_direction(values: NDArray) -> NDArray:
    """Unit vector (column, row) across the interface: the dominant direction of the gradient.

    The principal axis of the structure tensor of the smoothed map (all maps summed when a
    stack is given, each normalised to its range).
    """
    v = np.asarray(values, dtype=float)
    stack = v.reshape(-1, *v.shape[-2:])
    tensor = np.zeros((2, 2))
    for m in stack:
        span = np.nanmax(m) - np.nanmin(m)
        if not span > 0:
            continue
        filled = np.where(np.isfinite(m), m, np.nanmean(m))  # a left-out pixel: the mean
        smooth = ndimage.gaussian_filter((filled - np.nanmin(m)) / span, 1.0)
        gr, gc = np.gradient(smooth)
        tensor += np.array([[np.sum(gc * gc), np.sum(gc * gr)], [np.sum(gc * gr), np.sum(gr * gr)]])
    if not np.any(tensor):
        raise ValueError("the map has no gradient to find an interface direction from")
    _, eigenvectors = np.linalg.eigh(tensor)
    direction = eigenvectors[:, -1]
    # Point from low to high values of the (first) map.
    first = stack[0]
    rows, cols = np.indices(first.shape)
    proj = cols * direction[0] + rows * direction[1]
    if np.corrcoef(proj.ravel(), np.nan_to_num(first).ravel())[0, 1] < 0:
        direction = -direction
    return direction


def stripe_weights(
    shape: tuple[int, int], direction: NDArray, n_stripes: int = 1, bin_px: float = 1.0
) -> tuple[NDArray, list[sparse.csr_matrix]]:
    """Collapse a map along the interface: pixels binned by their coordinate across it.

    ``direction`` (column, row) points across the interface; the pixels are split into
    ``n_stripes`` groups by their coordinate along it. Each point of a profile is the mean of
    the pixels of its bin (width ``bin_px``) in its stripe.
    """
    ny, nx = shape
    rows, cols = np.indices(shape)
    d = np.asarray(direction, dtype=float)
    d = d / np.hypot(*d)
    across = cols * d[0] + rows * d[1]
    along = -cols * d[1] + rows * d[0]
    bins = np.floor((across - across.min()) / bin_px).astype(int)
    n_bins = bins.max() + 1
    distance = (np.arange(n_bins) + 0.5) * bin_px
    edges = np.quantile(along, np.linspace(0, 1, n_stripes + 1))
    stripe = np.clip(np.searchsorted(edges, along, side="right") - 1, 0, n_stripes - 1)
    flat_bins, flat_stripe = bins.ravel(), stripe.ravel()
    counts = np.array(
        [np.bincount(flat_bins[flat_stripe == s], minlength=n_bins) for s in range(n_stripes)]
    )
    # A tilted interface leaves the corner bins of some stripes empty: keep the common range.
    common = np.flatnonzero(np.all(counts > 0, axis=0))
    if common.size < 3:
        raise ValueError("the stripes share fewer than 3 bins: use fewer stripes")
    keep = np.arange(common[0], common[-1] + 1)
    if np.any(counts[:, keep] == 0):
        raise ValueError("a stripe has empty bins inside the map: use fewer stripes")
    index = np.full(n_bins, -1)
    index[keep] = np.arange(keep.size)
    weights = []
    for s in range(n_stripes):
        member = (flat_stripe == s) & (index[flat_bins] >= 0)
        b = flat_bins[member]
        matrix = sparse.csr_matrix(
            (1.0 / counts[s, b], (index[b], np.flatnonzero(member))), shape=(keep.size, ny * nx)
        )
        weights.append(matrix)
    return distance[keep], weights
