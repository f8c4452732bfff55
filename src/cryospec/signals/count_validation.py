"""The checks of a spectrum image's counts that every computation makes before it uses them:
not every spectrum empty, no channel that no detector records (:mod:`cryospec.core.count_checks`),
empty pixels named. One pass over the data, lazy or not (it can run with another pass's sums)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryospec._chunks import map_spectra
from cryospec.core.count_checks import COUNT_CHECKS, MAX_CHANNEL_JUMP, count_checks

__all__ = [
    "CountReport",
    "check_counts_in_memory",
    "check_real",
    "count_check_maps",
    "count_report",
    "pixel_name",
]


def count_check_maps(data, gain: float):
    """The per-pixel checks of :func:`cryospec.core.count_checks.count_checks`, (..., 3): a Dask
    array for a Dask array (compute it with the other sums of the same pass)."""
    check_real(data)
    return map_spectra(count_checks, data, n_out=len(COUNT_CHECKS), dtype=float, gain=float(gain))


@dataclass(frozen=True)
class CountReport:
    """What the checks found that still lets the computation go on: the empty pixels."""

    empty: np.ndarray
    message: str | None

    @property
    def warnings(self) -> list[str]:
        return [self.message] if self.message else []


def check_real(data, what: str = "the data") -> None:
    """Raise ``ValueError`` for complex or boolean data: counts are real numbers."""
    kind = np.dtype(getattr(data, "dtype", np.float64)).kind
    if kind in "cb":
        raise ValueError(
            f"{what} holds {np.dtype(data.dtype)} values: counts are real numbers "
            "(s.data = s.data.real, or load the file's intensity)"
        )


def pixel_name(index: tuple[int, ...]) -> str:
    """A pixel's place in messages: ``pixel (i, j)`` (NumPy index of the navigation)."""
    return f"pixel {tuple(int(i) for i in index)}" if index else "the spectrum"


def count_report(
    checks,
    data,
    energy: np.ndarray,
    what: str = "the core loss",
    whole: bool = True,
    unit: str = "eV",
    name_empty: bool = True,
) -> CountReport:
    """Raise on counts that cannot be quantified; name the empty pixels.

    Parameters
    ----------
    checks : ndarray (..., 3)
        :func:`count_check_maps`, computed.
    data : array
        The counts (to read the one offending value for the message).
    energy : ndarray
        The energy axis.
    what : str
        The data's name in the messages.
    whole : bool
        The data are the whole map (False: a block of it, which may be empty).
    unit : str
        The energy axis's unit.
    name_empty : bool
        Warn of empty spectra (not where few counts per spectrum are normal: EDX).

    Raises
    ------
    ValueError
        Every spectrum empty (all counts 0), or a channel more than
        :data:`cryospec.core.count_checks.MAX_CHANNEL_JUMP` times its neighbours.
    """
    checks = np.asarray(checks, dtype=float)
    abs_sum, jump, channel = np.moveaxis(checks, -1, 0)
    if whole and not np.any(abs_sum > 0):
        raise ValueError(
            f"every count of {what} is 0 ({abs_sum.size} spectra): there is nothing to "
            "quantify; check that the file holds the acquisition (not a blank frame or a mask)"
        )
    bad = jump > MAX_CHANNEL_JUMP
    if bad.any():
        index = np.unravel_index(int(np.argmax(np.where(bad, jump, -1.0))), jump.shape)
        k = int(channel[index])
        value = float(np.asarray(data[(*index, k)]))
        digits = 1 if unit == "eV" else 3
        raise ValueError(
            f"{pixel_name(index)} of {what} holds {value:.3g} counts at "
            f"{energy[k]:.{digits}f} {unit}, {jump[index]:.2g} times its neighbouring channels "
            f"(in {int(bad.sum())} spectra): no detector records that, it is a corrupt or "
            "overflowed value. Replace it (s.data[...] = ...) or crop it away first"
        )
    empty = abs_sum == 0
    message = None
    if empty.any() and name_empty:
        first = np.unravel_index(int(np.argmax(empty)), empty.shape)
        message = (
            f"{int(empty.sum())} of {empty.size} spectra of {what} are empty (every count 0; "
            f"the first is {pixel_name(first)}): their amounts and atomic fractions are NaN"
        )
    return CountReport(empty=empty, message=message)


def check_counts_in_memory(
    values: np.ndarray, energy: np.ndarray, gain: float = 1.0, what: str = "the core loss", **kw
) -> CountReport:
    """:func:`count_report` (its keywords ``whole``, ``unit``, ``name_empty``) of counts
    already in memory (a fit's channels, say)."""
    check_real(values, what)
    return count_report(count_checks(values, gain), values, energy, what, **kw)
