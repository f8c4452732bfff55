"""Per-pixel checks of recorded counts before they are quantified: empty spectra and channels no
detector can record (a corrupt or overflowed value), in one pass over the data.

A channel is impossible when it holds more than :data:`MAX_CHANNEL_JUMP` times the electrons of
its largest neighbour within two channels, plus one electron and a thousandth of the spectrum's
median: a real spectrum (edges, near-edge peaks, X-ray hits of 1e4 electrons) is smooth on that
scale. The test is relative, so it does not depend on a common count scale.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["COUNT_CHECKS", "MAX_CHANNEL_JUMP", "count_checks"]

MAX_CHANNEL_JUMP = 1e6
# The quantities of :func:`count_checks`, in the order of its last axis.
COUNT_CHECKS = ("abs_sum", "max_jump", "jump_channel")


def count_checks(spectra: NDArray, gain: float = 1.0) -> NDArray:
    """Per spectrum: the sum of the absolute counts (0 for an empty spectrum), the largest
    channel jump (a channel's counts over its largest neighbour within two channels, plus
    ``gain`` and a thousandth of the median absolute count) and the channel where it is.
    Non-finite values count as 0 here (they are refused where they are used).

    Parameters
    ----------
    spectra : ndarray (..., n)
        Recorded counts.
    gain : float
        Counts per electron: one electron is the smallest count that means anything.

    Returns
    -------
    ndarray (..., 3)
        In the order of :data:`COUNT_CHECKS`.
    """
    a = np.abs(np.nan_to_num(np.asarray(spectra, dtype=float), nan=0.0, posinf=0.0, neginf=0.0))
    abs_sum = a.sum(axis=-1)
    n = a.shape[-1]
    padded = np.pad(a, [(0, 0)] * (a.ndim - 1) + [(2, 2)])
    neighbours = np.max(np.stack([padded[..., k : k + n] for k in (0, 1, 3, 4)], axis=0), axis=0)
    floor = float(gain) + 1e-3 * np.median(a, axis=-1, keepdims=True)
    jump = a / (neighbours + floor)
    where = np.argmax(jump, axis=-1)
    largest = np.take_along_axis(jump, where[..., None], axis=-1)[..., 0]
    return np.stack([abs_sum, largest, where.astype(float)], axis=-1)
