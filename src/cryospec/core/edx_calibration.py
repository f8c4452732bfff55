"""The energy scale and resolution an EDX spectrum really has, measured on its own strong lines.

An energy offset of a few tens of eV, or a resolution broader than the recorded one (both seen
on real files), moves a line partly out of a window placed at its tabulated energy with the
recorded width, and the line is under-counted by an amount that differs from line to line.
Every isolated line with enough counts in the summed spectrum is fitted (a Gaussian on a
straight background, least squares weighted by the Poisson variance); the tabulated energies are
mapped onto the measured ones (an offset from one line, offset and gain from two or more) and
the resolution at Mn Ka is the median of the lines' (Fano-law: FWHM² - 2.5 eV (E - E_MnKa)).
The record is kept where the data agree with it: the energy map only when a line sits more
than 0.1 FWHM from its tabulated energy, the resolution only when it differs by more than 3 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cryospec.core.edx import MN_KA_KEV, fwhm_keV

__all__ = ["LineCalibration", "calibrate_lines", "strong_peaks"]

_MIN_NET_COUNTS = 400.0
_MAX_SHIFT_FWHM = 1.0
# Above 10 keV a K family's Ka1-Ka2 splitting is a sizeable part of the FWHM (67 eV for Sr):
# one Gaussian would read it as a shift and a broadening.
_MAX_LINE_KEV = 10.0
# A record is kept unless the data disagree with it by more than these.
_SHIFT_FWHM = 0.1
_RESOLUTION_RATIO = 0.03


@dataclass(frozen=True)
class LineCalibration:
    """Measured energy map and resolution.

    ``measured = offset_keV + gain * tabulated``; ``fitted`` holds, per line used, the
    tabulated energy, the fitted centre and FWHM (keV).
    """

    offset_keV: float
    gain: float
    resolution_eV: float
    fitted: dict[str, tuple[float, float, float]]

    def energy(self, tabulated_keV: float) -> float:
        """The measured position of a line tabulated at ``tabulated_keV``."""
        return self.offset_keV + self.gain * tabulated_keV


def _fit_peak(
    spectrum: NDArray, energy: NDArray, centre: float, fwhm: float
) -> tuple[float, float, float] | None:
    """(centre, FWHM, net counts) of one Gaussian line on a straight background, or None."""
    from scipy.optimize import least_squares

    window = np.abs(energy - centre) <= 2.5 * fwhm
    if window.sum() < 8:
        return None
    e, y = energy[window], spectrum[window]
    weight = 1.0 / np.sqrt(np.maximum(y, 1.0))
    sigma0 = fwhm / 2.3548
    edge = np.r_[y[:2], y[-2:]].mean()
    step = float(energy[1] - energy[0])

    def model(p):
        height, mu, sigma, b0, b1 = p
        return height * np.exp(-0.5 * ((e - mu) / sigma) ** 2) + b0 + b1 * (e - centre)

    start = [max(y.max() - edge, 1.0), centre, sigma0, edge, 0.0]
    bounds = (
        [0.0, centre - _MAX_SHIFT_FWHM * fwhm, 0.4 * sigma0, -np.inf, -np.inf],
        [np.inf, centre + _MAX_SHIFT_FWHM * fwhm, 2.5 * sigma0, np.inf, np.inf],
    )
    try:
        fit = least_squares(lambda p: (model(p) - y) * weight, start, bounds=bounds)
    except ValueError:
        return None
    height, mu, sigma = fit.x[:3]
    net = height * sigma * np.sqrt(2 * np.pi) / step
    at_bound = np.isclose(fit.x[1:3], np.array(bounds)[:, 1:3], rtol=1e-3).any()
    if not fit.success or at_bound or net < _MIN_NET_COUNTS:
        return None
    return float(mu), float(2.3548 * sigma), float(net)


def calibrate_lines(
    spectrum: NDArray,
    energy: NDArray,
    lines: dict[str, float],
    sample_lines: dict[str, float],
    resolution_eV: float,
) -> LineCalibration | None:
    """Measure the energy map and resolution on the isolated strong ``lines`` of ``spectrum``.

    Parameters
    ----------
    spectrum : ndarray
        The spectrum summed over the map (n_channels,).
    energy : ndarray
        Channel energies (keV).
    lines : dict
        The requested lines and their tabulated energies (keV).
    sample_lines : dict
        Every line of the sample's elements: a requested line with another element's line
        within 2.5 FWHM is not used (its single-Gaussian fit would be biased; the element's own
        weaker lines are left in).
    resolution_eV : float
        The recorded resolution at Mn Ka.

    Returns
    -------
    LineCalibration or None
        None when no line could be fitted (the recorded values are then used as they are).
    """
    fitted = {}
    for line, centre in lines.items():
        fwhm = fwhm_keV(centre, resolution_eV)
        crowded = any(
            name.split("_")[0] != line.split("_")[0] and abs(other - centre) < 2.5 * fwhm
            for name, other in sample_lines.items()
        )
        inside = energy[0] + 2.5 * fwhm < centre < energy[-1] - 2.5 * fwhm
        if crowded or not inside or centre > _MAX_LINE_KEV:
            continue
        peak = _fit_peak(np.asarray(spectrum, dtype=float), energy, centre, fwhm)
        if peak is not None:
            fitted[line] = (centre, peak[0], peak[1])
    if not fitted:
        return None
    tab = np.array([v[0] for v in fitted.values()])
    meas = np.array([v[1] for v in fitted.values()])
    widths = np.array([v[2] for v in fitted.values()])
    gain, offset = 1.0, 0.0
    if np.any(np.abs(meas - tab) > _SHIFT_FWHM * widths):
        if tab.size >= 2 and np.ptp(tab) > 0.5:
            gain, offset = np.polyfit(tab, meas, 1)
        else:
            offset = float(np.mean(meas - tab))
    implied = float(
        np.median(
            [
                np.sqrt(max((w * 1e3) ** 2 - 2.5 * (e - MN_KA_KEV) * 1e3, 1.0))
                for e, _, w in fitted.values()
            ]
        )
    )
    resolution = implied if abs(implied / resolution_eV - 1) > _RESOLUTION_RATIO else resolution_eV
    return LineCalibration(float(offset), float(gain), resolution, fitted)


def strong_peaks(
    spectrum: NDArray, energy: NDArray, resolution_eV: float, n: int = 6, min_keV: float = 0.2
) -> list[float]:
    """Energies (keV) of the ``n`` most significant peaks of a summed spectrum, strongest first.

    A peak counts when its prominence over the surrounding continuum exceeds 5 Poisson
    standard errors of the counts at its top; peaks closer than one detector FWHM are one.
    """
    from scipy.signal import find_peaks

    y = np.asarray(spectrum, dtype=float)
    e = np.asarray(energy, dtype=float)
    step = float(e[1] - e[0])
    width = max(1, round(fwhm_keV(1.0, resolution_eV) / step))
    kernel = np.ones(max(1, width // 2)) / max(1, width // 2)
    smooth = np.convolve(y, kernel, mode="same")
    peaks, props = find_peaks(smooth, prominence=0.0, distance=width)
    if peaks.size == 0:
        return []
    significance = props["prominences"] / np.sqrt(np.maximum(smooth[peaks], 1.0) / kernel.size)
    keep = (significance > 5.0) & (e[peaks] >= min_keV)
    order = np.argsort(-props["prominences"][keep])
    return [float(e[peaks][keep][i]) for i in order[:n]]
