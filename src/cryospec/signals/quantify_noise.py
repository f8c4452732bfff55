"""Negative counts in the quantification: the read-noise model of a dark-subtracted detector.

A CCD or CMOS spectrum with its dark reference subtracted holds Poisson counts plus Gaussian
read noise, so some channels of weak signal are negative. Three choices, the same ``negative=``
on every method:

- ``"shift"`` (the default): the shifted-Poisson model. ``counts/gain + s**2`` is fitted as
  Poisson with mean ``model + s**2``, where ``s`` is the read noise in electrons: same mean and
  variance as the data. The amounts are unbiased for any ``s >= 0`` (the shift cancels in the
  expected score); ``s`` sets the weights, the standard errors and the deviance. ``s`` is the
  caller's ``read_noise``, else the one recorded by ``set_noise_model``, else, when the data
  hold negative counts, their root mean square (exact where the mean signal is zero, a lower
  bound where it is not), with a warning that gives the value.
- ``"clip"``: ``max(counts, 0)``, with a warning: it biases weak signal upwards.
- ``"raise"``: negative counts are an error.

HyperSpy's ``Signal.Noise_properties.Variance_linear_model`` is not read here: from a
DigitalMicrograph file it holds the intensity calibration (the brightness scale and origin), not
a measured noise model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ESTIMATED",
    "NEGATIVE_CHOICES",
    "CountNoise",
    "estimated_read_noise",
    "known_read_noise",
    "negative_count_sums",
    "resolve_count_noise",
]

NEGATIVE_CHOICES = ("shift", "clip", "raise")
ESTIMATED = "estimated: root mean square of the negative counts"
_RECORDED = "CryoSpec.Noise.read_noise"


@dataclass
class CountNoise:
    """How the counts of one quantification were treated.

    ``read_noise`` is the read-noise standard deviation in recorded counts (0: pure Poisson) and
    ``source`` where it came from; ``n_negative`` counts the negative values of the core loss.
    """

    negative: str
    n_negative: int
    n_values: int
    read_noise: float
    source: str
    gain: float
    warnings: list[str] = field(default_factory=list)

    @property
    def read_noise_electrons(self) -> float:
        """The read noise in electrons, the ``read_noise`` of the Poisson fit."""
        return self.read_noise / self.gain if self.negative == "shift" else 0.0

    def electrons(self, data):
        """The recorded counts in electrons (clipped at zero with ``negative="clip"``)."""
        if self.negative == "clip" and self.n_negative:
            return np.maximum(data, 0) / self.gain
        return data / self.gain

    def record(self) -> dict:
        """The ``noise`` entry of the result's summary."""
        return {
            "negative": self.negative,
            "negative_counts": self.n_negative,
            "negative_share": self.n_negative / max(self.n_values, 1),
            "read_noise_counts": self.read_noise,
            "read_noise_source": self.source,
        }

    def notes(self) -> list[str]:
        """What was done with the counts, for ``result.notes`` (none for plain Poisson data)."""
        if not self.n_negative and not self.read_noise:
            return []
        share = 100.0 * self.n_negative / max(self.n_values, 1)
        what = f"{self.n_negative} negative counts ({share:.2g} % of the values)"
        if self.negative == "clip":
            return [f"{what} set to 0 (negative='clip')"]
        return [
            f"{what}; fitted as shifted Poisson with a read noise of {self.read_noise:.3g} counts "
            f"per channel ({self.source})"
        ]


def negative_count_sums(data):
    """The number of negative values of ``data``, the sum of their squares, and their sum over
    the pixels per channel (lazy-friendly: Dask expressions for a Dask array, computed with the
    map's other sums)."""
    below = np.minimum(data, 0)
    axes = tuple(range(data.ndim - 1))
    return (data < 0).sum(), (below * below).sum(dtype=float), below.sum(axis=axes, dtype=float)


def known_read_noise(signal, read_noise: float | None) -> tuple[float, str]:
    """The read noise in counts and its source: ``read_noise`` if given (not None), else the
    one :meth:`set_noise_model` recorded, else ``(0.0, "none")``.

    Raises
    ------
    ValueError
        A given read noise that is negative or not finite.
    """
    if read_noise is not None:
        if not (np.isfinite(read_noise) and read_noise >= 0):
            raise ValueError(f"read_noise must be finite and >= 0 counts, got {read_noise!r}")
        return float(read_noise), "given"
    if signal.metadata.has_item(_RECORDED):
        return float(signal.metadata.get_item(_RECORDED)), f"metadata.{_RECORDED}"
    return 0.0, "none"


def estimated_read_noise(n_negative: int, square_sum: float, where: str = "") -> tuple[float, str]:
    """The read noise estimated from ``n_negative`` negative counts whose squares sum to
    ``square_sum`` (their root mean square: exact where the mean signal is zero, a lower bound
    where it is not), and the warning that says so (``where``: e.g. " in the background
    windows")."""
    value = float(np.sqrt(square_sum / n_negative))
    message = (
        f"{n_negative} negative counts{where} and no read noise given: fitted as shifted "
        f"Poisson with a read noise of {value:.3g} counts, the root mean square of the negative "
        "counts (a lower bound; the amounts do not depend on it, their standard errors do). "
        "Give the detector's value with read_noise= or set_noise_model()"
    )
    return value, message


def resolve_count_noise(
    signal,
    negative: str,
    read_noise: float | None,
    gain: float,
    n_negative: int,
    negative_square_sum: float,
) -> CountNoise:
    """The noise treatment of ``signal``'s counts for ``negative`` (see the module).

    Raises
    ------
    ValueError
        An unknown choice, a read noise that is negative or not finite, or negative counts
        with ``negative="raise"``.
    """
    if negative not in NEGATIVE_CHOICES:
        raise ValueError(f"negative must be one of {NEGATIVE_CHOICES}, got {negative!r}")
    n_values = int(np.prod(signal.data.shape))
    n_negative = int(n_negative)
    if negative == "raise" and n_negative:
        raise ValueError(
            f"{n_negative} negative counts (a dark-subtracted detector?): pass "
            "negative='shift' to fit them with the detector's read noise (shifted Poisson, the "
            "default), or negative='clip' to fit max(counts, 0)"
        )
    noise = CountNoise(negative, n_negative, n_values, 0.0, "none", float(gain))
    if negative != "shift":
        if n_negative:
            noise.warnings.append(
                f"{n_negative} negative counts set to 0 (negative='clip'): this biases weak "
                "signal upwards; negative='shift' fits them with the read noise instead"
            )
        return noise
    noise.read_noise, noise.source = known_read_noise(signal, read_noise)
    if n_negative and noise.read_noise == 0:
        noise.read_noise, message = estimated_read_noise(n_negative, negative_square_sum)
        noise.source = ESTIMATED
        noise.warnings.append(message)
    return noise
