"""Checks shared by the kernels: one place that decides what counts a Poisson fit accepts."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["check_counts"]


def check_counts(values: ArrayLike, invalid: str, negative: str | None = None) -> None:
    """Raise ``ValueError`` unless ``values`` are finite and non-negative.

    Parameters
    ----------
    values : array_like
        Counts (any shape).
    invalid : str
        The message for NaN or inf values (and for negative ones when ``negative`` is None).
    negative : str, optional
        The message for negative values.
    """
    a = np.asarray(values)
    if not np.all(np.isfinite(a)):
        raise ValueError(invalid)
    if a.size and a.min() < 0:
        raise ValueError(negative or invalid)
