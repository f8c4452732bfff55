"""``CryoEELSSpectrum.fit_dose_series``: per-frame edge signals, decay fit, zero-dose maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hyperspy.signal import BaseSignal

from ..dose_series import fit_dose_decay
from ..edges import get_edge

__all__ = ["DoseSeriesResult", "fit_dose_series"]


@dataclass
class DoseSeriesResult:
    """Decay of one edge's signal with dose, and its zero-dose extrapolation.

    Attributes
    ----------
    edge : str
        Canonical edge name.
    critical_dose, critical_dose_ci95 : float, (float, float)
        D_c (e/Å²) with its profile-likelihood 95 % interval.
    floor : float
        Residual fraction at infinite dose.
    frame_dose : float
        Dose of one frame; frame k covers ``[k, k + 1]`` frame doses.
    frame_signals : BaseSignal
        Background-subtracted integrated edge signal of every frame and pixel.
    mean_signal : ndarray (n_frames,)
        Frame signals averaged over the pixels, against ``mean_dose`` (dose at mid-frame).
    zero_dose, zero_dose_std : BaseSignal
        Maps of the signal extrapolated to zero dose and its standard error.
    reduced_chi2 : float
        Quality of the decay fit.
    """

    edge: str
    critical_dose: float
    critical_dose_ci95: tuple[float, float]
    floor: float
    frame_dose: float
    frame_signals: BaseSignal
    mean_signal: np.ndarray
    mean_dose: np.ndarray
    zero_dose: BaseSignal
    zero_dose_std: BaseSignal
    reduced_chi2: float


def _frame(signal, axis, k):
    index = [slice(None)] * signal.axes_manager.navigation_dimension
    index[axis.index_in_axes_manager] = k
    return signal.inav[tuple(index)]


def fit_dose_series(
    signal,
    edges,
    count_target: float | None = None,
    fit_floor: bool = True,
    model: str = "power_law",
) -> dict[str, DoseSeriesResult]:
    """Implementation of :meth:`CryoEELSSpectrum.fit_dose_series` (see there)."""
    axis = signal.frame_axis()
    if axis is None:
        raise ValueError(
            "fit_dose_series needs a dose-fractionated acquisition: a navigation axis named "
            "'frame' (rename yours with s.axes_manager[i].name = 'frame')"
        )
    if signal._lazy:
        raise NotImplementedError("fit_dose_series works on in-memory signals; call compute()")
    names = [edges] if isinstance(edges, str) else list(edges)
    frame_dose = signal.frame_dose()
    gain = signal.detector_gain()
    n_frames = axis.size
    energy = signal.axes_manager.signal_axes[0].axis
    results = {}
    for name in names:
        edge = get_edge(name)
        lo, hi = edge.integration_window_eV
        window = (energy >= lo) & (energy <= hi)
        if not window.any():
            raise ValueError(f"the {edge.name} integration window lies outside the energy axis")
        values, variances = [], []
        for k in range(n_frames):
            frame = _frame(signal, axis, k)
            sub, fit = frame.subtract_background(
                edge.name, model=model, count_target=count_target, return_fit=True
            )
            counts = np.clip(frame.data[..., window], 0, None)
            values.append(sub.data[..., window].sum(-1))
            variances.append(gain * counts.sum(-1) + fit.window_sum_variance(lo, hi))
        values, variances = np.array(values), np.array(variances)
        nav_shape = values.shape[1:]
        decay = fit_dose_decay(
            values.reshape(n_frames, -1), variances.reshape(n_frames, -1), frame_dose, fit_floor
        )
        frame_signals = signal._get_navigation_signal(
            data=np.moveaxis(values, 0, axis.index_in_array)
        )
        frame_signals.metadata.General.title = f"{edge.name} signal per frame"
        template = _frame(signal, axis, 0)

        def nav_map(data, title, template=template, nav_shape=nav_shape):
            out = template._get_navigation_signal(data=data.reshape(nav_shape))
            out.metadata.General.title = title
            return out

        results[edge.name] = DoseSeriesResult(
            edge=edge.name,
            critical_dose=decay.critical_dose,
            critical_dose_ci95=decay.critical_dose_ci95,
            floor=decay.floor,
            frame_dose=frame_dose,
            frame_signals=frame_signals,
            mean_signal=values.reshape(n_frames, -1).mean(axis=1),
            mean_dose=(np.arange(n_frames) + 0.5) * frame_dose,
            zero_dose=nav_map(decay.zero_dose, f"{edge.name} signal extrapolated to zero dose"),
            zero_dose_std=nav_map(
                decay.zero_dose_std, f"standard error of the zero-dose {edge.name}"
            ),
            reduced_chi2=decay.reduced_chi2,
        )
    return results
