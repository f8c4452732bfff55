"""``CryoEELSSpectrum.subtract_background``: validation, noise model, kernels, result signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hyperspy.signal import BaseSignal

from .._chunks import is_lazy_array, map_spectra
from ..background import (
    DEFAULT_LCPL_EXPONENTS,
    MODELS,
    BackgroundFit,
    background_variance,
    evaluate_background,
    fit_background,
    fit_background_dose_aware,
)
from ..edges import get_edge

__all__ = ["BackgroundResult", "resolve_windows", "subtract_background"]

_MIN_CHANNELS = 5


@dataclass
class BackgroundResult:
    """Fitted background parameters as signals over the navigation space.

    Attributes
    ----------
    amplitude, amplitude_std : BaseSignal
        Background at ``reference_eV`` in counts per channel, and its standard error.
    shape, shape_std : BaseSignal
        Exponent r (power law) or decay constant b (exponential) and its standard error; for
        LCPL the weights of the exponents (an extra signal axis) and NaN errors.
    reduced_deviance : BaseSignal
        Poisson deviance per degree of freedom in the windows (about 1 for a good fit).
    neighbourhood_radius : BaseSignal
        Half-width of the neighbourhood that gave the shape (0: the pixel alone).
    converged : BaseSignal
        False where the windows held no counts or the fit did not settle.
    fit : BackgroundFit
        The kernel's result (electron units), for further computation.
    windows_eV : list of (float, float)
        The windows used.
    """

    amplitude: BaseSignal
    amplitude_std: BaseSignal
    shape: BaseSignal
    shape_std: BaseSignal
    reduced_deviance: BaseSignal
    neighbourhood_radius: BaseSignal
    converged: BaseSignal
    fit: BackgroundFit
    windows_eV: list[tuple[float, float]]


def resolve_windows(
    axis, edge: str | None, windows: Any
) -> tuple[list[tuple[float, float]], float | None]:
    """Windows from the arguments or the edge database, checked against the energy axis."""
    onset = None
    if edge is not None:
        entry = get_edge(edge)
        onset = entry.onset_eV
        if windows is None:
            windows = entry.background_windows_eV
    if windows is None:
        raise ValueError("give an edge name (e.g. 'Li_K') or explicit windows [(lo, hi), ...]")
    windows = np.asarray(windows, dtype=float)
    if windows.ndim == 1:
        windows = windows[None, :]
    if windows.ndim != 2 or windows.shape[1] != 2:
        raise ValueError(f"windows must be (lo, hi) pairs in eV, got {windows.tolist()}")
    lo_axis, hi_axis = float(axis.axis[0]), float(axis.axis[-1])
    out = []
    for lo, hi in windows:
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"window [{lo}, {hi}] eV: need finite lo < hi")
        if lo < lo_axis - axis.scale / 2 or hi > hi_axis + axis.scale / 2:
            raise ValueError(
                f"window [{lo:g}, {hi:g}] eV lies outside the energy axis "
                f"[{lo_axis:g}, {hi_axis:g}] eV"
            )
        if onset is not None and hi > onset:
            raise ValueError(
                f"window [{lo:g}, {hi:g}] eV overlaps the {edge} onset at {onset:g} eV: "
                "background windows must end below the edge"
            )
        out.append((float(lo), float(hi)))
    return out, onset


def _window_mask(energy: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(energy.shape, dtype=bool)
    for lo, hi in windows:
        mask |= (energy >= lo) & (energy <= hi)
    return mask


def _subtract_block(
    block: np.ndarray,
    params: np.ndarray,
    *,
    energy: np.ndarray,
    start: int,
    gain: float,
    model: str,
    reference_eV: float,
    exponents: tuple[float, ...],
) -> np.ndarray:
    dtype = np.result_type(block.dtype, np.float32)
    background = evaluate_background(params, energy[start:], model, reference_eV, exponents, dtype)
    out = np.zeros(block.shape, dtype=dtype)
    out[..., start:] = block[..., start:] - gain * background
    return out


def _variance_block(
    block: np.ndarray,
    params: np.ndarray,
    covariance: np.ndarray,
    *,
    energy: np.ndarray,
    start: int,
    gain: float,
    read_noise: float,
    model: str,
    reference_eV: float,
    exponents: tuple[float, ...],
    counts_are_variance: bool,
) -> np.ndarray:
    k = params.shape[-1]
    cov = covariance.reshape(*covariance.shape[:-1], k, k)
    dtype = np.result_type(block.dtype, np.float32)
    bg_var = background_variance(params, cov, energy[start:], model, reference_eV, exponents, dtype)
    if counts_are_variance:
        counts_var = block[..., start:]
    else:
        counts_var = gain * np.clip(block[..., start:], 0, None) + read_noise**2
    out = np.zeros(block.shape, dtype=dtype)
    out[..., start:] = counts_var + gain**2 * bg_var
    return out


def subtract_background(
    signal,
    edge: str | None = None,
    windows: Any = None,
    model: str = "power_law",
    estimator: str = "ml",
    count_target: float | None = None,
    detector_gain: float | None = None,
    read_noise: float = 0.0,
    negative: str = "raise",
    exponents: tuple[float, ...] = DEFAULT_LCPL_EXPONENTS,
    max_radius: int | None = None,
    return_fit: bool = False,
    inplace: bool = False,
):
    """Implementation of :meth:`CryoEELSSpectrum.subtract_background` (see there)."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if negative not in ("raise", "clip"):
        raise ValueError(f"negative must be 'raise' or 'clip', got {negative!r}")
    if read_noise < 0 or not np.isfinite(read_noise):
        raise ValueError(f"read_noise must be finite and >= 0, got {read_noise!r}")
    axis = signal.axes_manager.signal_axes[0]
    if not axis.is_uniform:
        raise ValueError(
            "the energy axis is not uniform: cryospec's background fit needs a uniform axis "
            "(see axes_manager[-1].convert_to_uniform_axis())"
        )
    gain = signal.detector_gain(detector_gain)
    energy = np.asarray(axis.axis, dtype=float)
    resolved, _ = resolve_windows(axis, edge, windows)
    mask = _window_mask(energy, resolved)
    if mask.sum() < _MIN_CHANNELS:
        raise ValueError(
            f"the background windows {resolved} hold {int(mask.sum())} channels; "
            f"at least {_MIN_CHANNELS} are needed"
        )
    start = int(np.argmax(mask))

    # Only the window channels are brought into memory (a small fraction of a lazy cube).
    window = signal.data[..., mask]
    if is_lazy_array(window):
        window = window.compute()
    window = np.asarray(window, dtype=float)
    if not np.all(np.isfinite(window)):
        bad = int((~np.isfinite(window)).sum())
        raise ValueError(f"{bad} NaN or inf values in the background windows {resolved}")
    if np.any(window < 0):
        if negative == "raise":
            raise ValueError(
                f"{int((window < 0).sum())} negative counts in the background windows (a "
                "dark-subtracted detector?). Poisson fitting needs counts >= 0: pass "
                "negative='clip' to fit max(counts, 0), or correct the dark offset first"
            )
        window = np.clip(window, 0, None)
    electrons = window / gain
    nav_shape = electrons.shape[:-1]

    if count_target is not None:
        if len(nav_shape) not in (1, 2):
            raise ValueError("the dose-aware fit (count_target) needs a line scan or a map")
        fit, radius = fit_background_dose_aware(
            electrons, energy[mask], count_target / gain, model, estimator, exponents, max_radius
        )
    else:
        fit = fit_background(electrons, energy[mask], model, estimator, exponents=exponents)
        radius = np.zeros(nav_shape, dtype=int)

    kwargs = {
        "energy": energy,
        "start": start,
        "gain": gain,
        "model": model,
        "reference_eV": fit.reference_eV,
        "exponents": fit.exponents,
    }
    data = map_spectra(
        _subtract_block,
        signal.data,
        fit.params,
        n_out=energy.size,
        dtype=np.result_type(signal.data.dtype, np.float32),
        **kwargs,
    )
    old_variance = signal.metadata.get_item("Signal.Noise_properties.variance", None)
    if isinstance(old_variance, BaseSignal):
        var_source, is_var = old_variance.data, True
    elif old_variance is not None:
        var_source, is_var = np.full(signal.data.shape, float(old_variance)), True
    else:
        var_source, is_var = signal.data, False
    k = fit.params.shape[-1]
    variance = map_spectra(
        _variance_block,
        var_source,
        fit.params,
        fit.covariance.reshape(*nav_shape, k * k),
        n_out=energy.size,
        dtype=np.result_type(signal.data.dtype, np.float32),
        read_noise=float(read_noise),
        counts_are_variance=is_var,
        **kwargs,
    )

    record = {
        "edge": edge or "",
        "windows_eV": [list(w) for w in resolved],
        "model": model,
        "estimator": estimator,
        "count_target": float(count_target) if count_target is not None else 0.0,
        "detector_gain": gain,
        "read_noise": float(read_noise),
        "negative": negative,
        "zero_below_eV": float(energy[start]),
    }
    if inplace:
        out = signal
        out.data = data
    else:
        out = signal._deepcopy_with_new_data(data)
    if out.metadata.has_item("Signal.Noise_properties.variance"):
        del out.metadata.Signal.Noise_properties.variance
    variance_signal = out._deepcopy_with_new_data(variance)
    variance_signal.metadata.General.title = "variance of the background-subtracted signal"
    out.metadata.set_item("Signal.Noise_properties.variance", variance_signal)
    history = list(signal.metadata.get_item("CryoSpec.History", []))
    out.metadata.set_item("CryoSpec.History", [*history, {"subtract_background": record}])
    out.metadata.set_item("CryoSpec.Background", record)
    out.metadata.General.title = f"{signal.metadata.General.title} (background subtracted)".strip()
    if not return_fit:
        return None if inplace else out
    result = _result_signals(signal, fit, radius, gain, resolved)
    return result if inplace else (out, result)


def _result_signals(signal, fit: BackgroundFit, radius, gain, windows) -> BackgroundResult:
    def nav_map(values, title, quantity=""):
        values = np.asarray(values)
        if signal.axes_manager.navigation_dimension == 0:
            values = values.reshape(1)
        s = signal._get_navigation_signal(data=values)
        s.metadata.General.title = title
        if quantity:
            s.metadata.set_item("Signal.quantity", quantity)
        return s

    with np.errstate(invalid="ignore"):
        var_a = fit.covariance[..., 0, 0] if fit.model != "lcpl" else np.full(radius.shape, np.nan)
        amp = fit.amplitude * gain
        amp_std = amp * np.sqrt(var_a) if fit.model != "lcpl" else var_a
    if fit.model == "lcpl":
        from hyperspy.signals import BaseSignal as _Base

        shape = _Base(fit.shape_parameter).transpose(signal_axes=1)
        shape.metadata.General.title = f"LCPL weights of exponents {list(fit.exponents)}"
        shape_std = nav_map(np.full(radius.shape, np.nan), "LCPL weight error (not computed)")
    else:
        label = "exponent r" if fit.model == "power_law" else "decay constant b (1/eV)"
        shape = nav_map(fit.shape_parameter, f"background {label}")
        shape_std = nav_map(np.sqrt(fit.covariance[..., 1, 1]), f"standard error of {label}")
    return BackgroundResult(
        amplitude=nav_map(amp, f"background at {fit.reference_eV:.1f} eV", "counts / channel"),
        amplitude_std=nav_map(amp_std, "standard error of the background amplitude"),
        shape=shape,
        shape_std=shape_std,
        reduced_deviance=nav_map(fit.deviance / fit.dof, "Poisson deviance / dof"),
        neighbourhood_radius=nav_map(radius, "neighbourhood half-width (pixels)"),
        converged=nav_map(fit.converged, "fit converged"),
        fit=fit,
        windows_eV=windows,
    )
