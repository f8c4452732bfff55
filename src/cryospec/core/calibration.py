"""Energy calibration: edge onsets from spectra, and zero-loss alignment.

Real spectra are often several eV off: the zero-loss peak is not at 0 eV, or the core loss was
recorded without a simultaneous low loss. :func:`find_edge_onset` locates an edge in a summed
spectrum so that the axis can be corrected by ``tabulated - found``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from cryospec.core.background import fit_background, window_sum_variance
from cryospec.edges import get_edge

__all__ = ["find_edge_onset"]


def find_edge_onset(
    spectrum: NDArray,
    energy: NDArray,
    edge: str,
    search_eV: tuple[float, float] = (-25.0, 10.0),
    level: float = 0.5,
) -> float:
    """Energy where an edge rises in one spectrum (sum the pixels first for low counts).

    The search runs from ``onset + search_eV[0]`` to ``onset + search_eV[1]`` around the
    tabulated onset. A power law fitted below the search range (Poisson ML) is subtracted; the
    onset is where the smoothed remainder first reaches ``level`` of its mean over the 20 eV
    above the search range and stays there for 2 eV.

    Raises
    ------
    ValueError
        If the search range or its background window lies outside the axis, or no rise is found.
    """
    entry = get_edge(edge)
    e = np.asarray(energy, dtype=float)
    s = np.asarray(spectrum, dtype=float)
    step = float(e[1] - e[0])
    lo, hi = entry.onset_eV + search_eV[0], entry.onset_eV + search_eV[1]
    bg_window = (e >= lo - 30.0) & (e <= lo - 2.0)
    post = (e > hi) & (e <= hi + 20.0)
    if bg_window.sum() < 10 or post.sum() < 5 or lo < e[0] or hi + 20.0 > e[-1]:
        raise ValueError(
            f"{entry.name}: the search range [{lo:g}, {hi:g}] eV with 30 eV below and 20 eV "
            f"above does not fit in the energy axis [{e[0]:g}, {e[-1]:g}] eV"
        )
    fit = fit_background(np.clip(s[bg_window], 0, None), e[bg_window])
    excess = s - fit.evaluate(e)
    # The rise must be significant: the post-edge excess above 5 standard deviations of the
    # counts and of the extrapolated background together.
    variance = np.clip(s[post], 0, None).sum() + window_sum_variance(fit, e[post])
    if not excess[post].sum() > 5.0 * np.sqrt(max(float(variance), 1.0)):
        raise ValueError(f"{entry.name}: no edge rise found above the background")
    signal = gaussian_filter1d(excess, sigma=1.0 / step)
    target = level * signal[post].mean()
    inside = (e >= lo) & (e <= hi)
    above = signal >= target
    hold = max(round(2.0 / step), 1)
    for i in np.flatnonzero(inside):
        if above[i : i + hold].all():
            # interpolate the crossing between channels i - 1 and i
            s0, s1 = signal[i - 1], signal[i]
            return float(e[i - 1] + (target - s0) / (s1 - s0) * step) if s1 != s0 else float(e[i])
    raise ValueError(f"{entry.name}: no edge rise found in [{lo:g}, {hi:g}] eV")
