"""Non-interactive spike (X-ray hit) removal for batch processing.

A channel is a spike when it stands far above *both* references: the same channel in every
neighbouring pixel (scaled to this pixel's total counts; the largest of them is the reference,
so a real feature at a phase boundary, which lies between its neighbours, is safe) and the
median of the neighbouring channels of the same spectrum. Real features pass: an edge or a
near-edge peak is present in the neighbouring pixels too, and an edge onset is a step, which
the spectral median follows. Spikes are replaced by the median of the neighbouring pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["find_spikes", "remove_spikes"]


def _spatial_references(data: NDArray) -> tuple[NDArray, NDArray]:
    """Median and maximum of the neighbouring pixels' channel, scaled to this pixel's total."""
    n_nav = data.ndim - 1
    totals = data.sum(axis=-1, keepdims=True)
    safe = np.where(totals > 0, totals, 1.0)
    normalised = data / safe
    footprint = np.ones((3,) * n_nav + (1,), dtype=bool)
    footprint[(1,) * n_nav + (0,)] = False
    # "mirror" (d c b | a b c d) keeps the pixel itself out of its own neighbourhood.
    median = ndimage.median_filter(normalised, footprint=footprint, mode="mirror")
    maximum = ndimage.maximum_filter(normalised, footprint=footprint, mode="mirror")
    return median * totals, maximum * totals


def find_spikes(
    data: NDArray,
    threshold: float = 6.0,
    min_excess: float = 5.0,
    gain: float = 1.0,
    spectral_width: int = 7,
) -> tuple[NDArray, NDArray]:
    """Locate spikes in spectra of shape (..., n_channels).

    Parameters
    ----------
    data : ndarray
        Recorded counts; a map (ny, nx, n), a line (n_px, n) or one spectrum (n,).
    threshold : float
        Standard deviations (Poisson, from the reference) a channel must exceed both
        references by.
    min_excess : float
        Counts it must exceed them by in addition (guards the lowest counts).
    gain : float
        Counts per electron (the Poisson variance of a count c is gain * c).
    spectral_width : int
        Channels of the running spectral median (odd).

    Returns
    -------
    mask : ndarray of bool
        True at spike channels.
    replacement : ndarray
        The value to put there (the spatial reference; the spectral one for a single spectrum).
    """
    x = np.asarray(data, dtype=float)
    if spectral_width < 3 or spectral_width % 2 == 0:
        raise ValueError(f"spectral_width must be an odd number >= 3, got {spectral_width}")
    if threshold <= 0 or min_excess < 0:
        raise ValueError("threshold must be positive and min_excess >= 0")
    spectral = ndimage.median_filter(
        x, size=(1,) * (x.ndim - 1) + (spectral_width,), mode="nearest"
    )

    def above(reference: NDArray) -> NDArray:
        sigma = np.sqrt(gain * np.maximum(reference, gain))
        return x - reference > threshold * sigma + min_excess

    if x.ndim == 1:
        # One spectrum: only the spectral test, made stricter.
        mask = above(spectral) & (
            x - spectral > 2 * threshold * np.sqrt(gain * np.maximum(spectral, gain))
        )
        return mask, spectral
    # A real feature at a phase boundary lies between its neighbours; a hit exceeds them all.
    spatial, highest = _spatial_references(x)
    mask = above(highest) & above(spectral)
    # A hit often spreads into the next channel: accept neighbours at half the threshold.
    grown = np.zeros_like(mask)
    grown[..., 1:] |= mask[..., :-1]
    grown[..., :-1] |= mask[..., 1:]
    sigma = np.sqrt(gain * np.maximum(highest, gain))
    mask |= grown & (x - highest > 0.5 * threshold * sigma + min_excess)
    return mask, spatial


def remove_spikes(
    data: NDArray, threshold: float = 6.0, min_excess: float = 5.0, gain: float = 1.0
) -> tuple[NDArray, NDArray]:
    """Return the data with spikes replaced, and the number of channels replaced per pixel."""
    mask, replacement = find_spikes(data, threshold, min_excess, gain)
    cleaned = np.where(mask, replacement, data).astype(np.result_type(data, np.float32))
    return cleaned, mask.sum(axis=-1)
