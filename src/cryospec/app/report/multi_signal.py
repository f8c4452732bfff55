"""Files that hold several signals: a Dual EELS pair, or an EDX spectrum among images and
per-detector spectra."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LOW_LOSS_BELOW_EV", "dual_eels", "edx_spectrum"]

# A spectrum whose energy axis starts below this is a low loss, even one cut above its zero-loss
# peak (its reading then refuses it, with the reason): the edges below 20 eV lie in the plasmon
# region, where no power-law background holds, and are not quantified from a core loss.
LOW_LOSS_BELOW_EV = 20.0


def edx_spectrum(signals: list) -> tuple[Any, str] | None:
    """The EDX spectrum (image) of a file that holds several signals, and a note saying which,
    or None: Bruker files add a survey image, Velox files the spectrum of every detector beside
    their sum. One EDX spectrum among images is taken; of several of one shape, the one that is
    the sum of the others (within 0.5 %)."""
    edx = [
        (i, s)
        for i, s in enumerate(signals)
        if s.axes_manager.signal_dimension == 1
        and "EDS" in str(s.metadata.get_item("Signal.signal_type", ""))
    ]
    if len(edx) == 1:
        i, s = edx[0]
        return s, f"the EDX spectrum of the file's {len(signals)} signals (signal {i})"
    shapes = {s.data.shape for _, s in edx}
    if len(edx) < 3 or len(shapes) != 1:
        return None
    totals = [float(np.asarray(s.data.sum())) for _, s in edx]
    for (i, s), total in zip(edx, totals, strict=True):
        rest = sum(totals) - total
        if rest > 0 and abs(total - rest) <= 0.005 * rest:
            return s, (
                f"signal {i} of the file, the sum of its {len(edx) - 1} detectors' EDX spectra"
            )
    return None


def dual_eels(signals: list) -> tuple[Any, Any] | None:
    """(core loss, low loss) of a Dual EELS file (RosettaSciIO reads a DigitalMicrograph Dual
    EELS acquisition as a list of the two spectrum images), or None if ``signals`` is not one:
    two 1-D signals of the same pixels, one axis starting below :data:`LOW_LOSS_BELOW_EV` (the
    low loss) and one above."""
    if len(signals) != 2 or any(s.axes_manager.signal_dimension != 1 for s in signals):
        return None
    if signals[0].axes_manager.navigation_shape != signals[1].axes_manager.navigation_shape:
        return None
    starts = [float(s.axes_manager.signal_axes[0].axis[0]) for s in signals]
    low = [start < LOW_LOSS_BELOW_EV for start in starts]
    if low.count(True) != 1:
        return None
    return (signals[1], signals[0]) if low[0] else (signals[0], signals[1])
