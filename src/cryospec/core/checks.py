"""Checks shared by the kernels: one place that decides what counts a Poisson fit accepts."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["check_counts"]


def check_counts(
    values: ArrayLike, invalid: str, negative: str | None = None, allow_negative: bool = False
) -> None:
    """Raise ``ValueError`` unless ``values`` are finite and non-negative (finite only, with
    ``allow_negative``: counts of a dark-subtracted detector fitted with its read noise).

    Parameters
    ----------
    values : array_like
        Counts (any shape).
    invalid : str
        The message for NaN or inf values (and for negative ones when ``negative`` is None).
    negative : str, optional
        The message for negative values.
    allow_negative : bool
        Accept negative values.
    """
    a = np.asarray(values)
    if not np.all(np.isfinite(a)):
        raise ValueError(invalid)
    if not allow_negative and a.size and a.min() < 0:
        raise ValueError(negative or invalid)
