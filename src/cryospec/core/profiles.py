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
from scipy import sparse

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


TILT_Z = 3.0
"""A tilt away from the map axes is taken only when its projection explains the map better
than the axis by this many standard deviations of the noise of that comparison (the search
over all angles is a multiple comparison)."""


def _projection_signal(maps: NDArray, valid: NDArray, cols: NDArray, rows: NDArray, angle: float):
    """How much of the maps' variation the profile across ``angle`` explains: for each map,
    the between-bin sum of squares of the pixels binned (1 px) by their coordinate along the
    angle, less what noise alone gives it, over the within-bin mean square; summed over maps."""
    across = cols * np.cos(angle) + rows * np.sin(angle)
    bins = np.floor(across - across.min()).astype(int)
    n_bins = int(bins.max()) + 1
    score = 0.0
    for m, ok in zip(maps, valid, strict=True):
        b, v = bins[ok], m[ok]
        n = np.bincount(b, minlength=n_bins)
        used = n > 0
        k = int(np.count_nonzero(used))
        if v.size <= k + 1 or k < 2:
            continue
        sums = np.bincount(b, weights=v, minlength=n_bins)
        means = np.where(used, sums / np.maximum(n, 1), 0.0)
        between = float(np.sum(n[used] * (means[used] - v.mean()) ** 2))
        within = float(np.sum((v - means[b]) ** 2)) / (v.size - k)
        floor = 1e-12 * float(np.var(v)) + np.finfo(float).tiny
        score += (between - (k - 1) * within) / max(within, floor)
    return score


def auto_direction(values: NDArray) -> NDArray:
    """Unit vector (column, row) across the interface.

    The angle whose 1-pixel projection explains most of the map's variation above the noise
    (all maps together when a stack is given, each weighted by its signal-to-noise): a search
    over all angles, refined to 0.1 degree. A gradient estimate (e.g. a structure tensor)
    would instead follow the noise on a noisy or short map, where the pixel-to-pixel noise
    outweighs the one interface. A tilt that moves the interface by less than half a pixel
    over the map's extent along it is not resolved, and one that does not explain the map
    significantly better (:data:`TILT_Z`) is not shown by the data: the direction snaps to the
    map axis. A short or noisy map has little to tell the angle by.
    The vector points from low to high values of the (first) map. Pixels without a value
    (NaN) are left out.
    """
    v = np.asarray(values, dtype=float)
    stack = v.reshape(-1, *v.shape[-2:])
    ny, nx = stack.shape[-2:]
    valid = np.isfinite(stack)
    if not valid.any() or not np.any(np.nanmax(stack, axis=(1, 2)) > np.nanmin(stack, axis=(1, 2))):
        raise ValueError("the map has no gradient to find an interface direction from")
    if ny == 1 or nx == 1:  # a line scan: across is along it
        angle = 0.0 if ny == 1 else np.pi / 2
    else:
        rows, cols = np.indices((ny, nx), dtype=float)
        flat = stack.reshape(stack.shape[0], -1)
        ok, r, c = valid.reshape(stack.shape[0], -1), rows.ravel(), cols.ravel()

        def score(a):
            return _projection_signal(flat, ok, c, r, a)

        coarse = np.deg2rad(np.arange(0.0, 180.0, 2.0))
        best = coarse[int(np.argmax([score(a) for a in coarse]))]
        fine = best + np.deg2rad(np.arange(-2.0, 2.05, 0.1))
        scores = [score(a) for a in fine]
        angle = float(fine[int(np.argmax(scores))]) % np.pi
        axis_scores = {0.0: score(0.0), np.pi / 2: score(np.pi / 2)}
        axis = max(axis_scores, key=axis_scores.get)
        at_axis = axis_scores[axis]
        extent = nx - 1 if axis else ny - 1
        # The score's noise is mostly the signal-noise cross term, sd ~ 2 sqrt(score + bins).
        noise = 2.0 * np.sqrt(max(at_axis, 0.0) + max(nx, ny))
        if abs(np.tan(angle - axis)) * extent < 0.5 or max(scores) - at_axis < TILT_Z * noise:
            angle = axis
    direction = np.array([np.cos(angle), np.sin(angle)])
    direction[np.abs(direction) < 1e-12] = 0.0
    first, ok = stack[0], valid[0]
    rows, cols = np.indices(first.shape)
    proj = (cols * direction[0] + rows * direction[1])[ok]
    if proj.std() > 0 and np.corrcoef(proj, first[ok])[0, 1] < 0:
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
