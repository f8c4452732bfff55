"""``CryoEELSSpectrum.subtract_background``: validation, noise model, kernels, result signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
from hyperspy.signal import BaseSignal

from .._chunks import (
    compute_with_progress,
    is_lazy_array,
    map_spectra,
    signal_axis_in_one_chunk,
)
from ..background import (
    DEFAULT_LCPL_EXPONENTS,
    MODELS,
    BackgroundFit,
    _box_sum,
    background_variance,
    default_reference_eV,
    evaluate_background,
    fit_background,
    fit_background_dose_aware,
    neighbourhood_radius,
    window_sum_variance,
)
from ..background_edges import (
    PowerLawEdgesFit,
    edge_shapes,
    fit_power_law_with_edges,
    fit_power_law_with_edges_pooled,
)
from ..dose import MissingMetadataError
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
    fit : BackgroundFit or PowerLawEdgesFit
        The kernel's result (electron units), for further computation.
    windows_eV : list of (float, float)
        The windows used.
    edge_coefficients : dict of BaseSignal or None
        With ``preceding_edges``: the coefficient of each preceding edge's tail.
    """

    amplitude: BaseSignal
    amplitude_std: BaseSignal
    shape: BaseSignal
    shape_std: BaseSignal
    reduced_deviance: BaseSignal
    neighbourhood_radius: BaseSignal
    converged: BaseSignal
    fit: BackgroundFit | PowerLawEdgesFit
    windows_eV: list[tuple[float, float]]
    edge_coefficients: dict[str, BaseSignal] | None = None
    _evaluator: Any = None
    _extra: Any = None
    _energy: Any = None
    _gain: float = 1.0

    def window_sum_variance(self, lo: float, hi: float) -> np.ndarray:
        """Variance (counts²) of the subtracted background summed over ``[lo, hi]`` eV.

        The channels' background errors are fully correlated through the fit parameters, so
        this is not the sum of the per-channel variances.
        """
        window = (self._energy >= lo) & (self._energy <= hi)
        energy = self._energy[window]
        if isinstance(self.fit, PowerLawEdgesFit):
            start = self._evaluator.start
            shapes = self._evaluator.shapes(self._extra)[..., window[start:], :]
            value = self.fit.window_sum_variance(energy, shapes)
        else:
            value = window_sum_variance(self.fit, energy)
        return self._gain**2 * value


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


class _SimpleModel:
    """Evaluates the power-law / exponential / LCPL background of per-pixel parameters."""

    def __init__(self, model: str, reference_eV: float, exponents: tuple[float, ...]):
        self.model, self.reference_eV, self.exponents = model, reference_eV, exponents

    def background(self, params, extra, energy, dtype):
        return evaluate_background(
            params, energy, self.model, self.reference_eV, self.exponents, dtype
        )

    def variance(self, params, covariance, extra, energy, dtype):
        return background_variance(
            params, covariance, energy, self.model, self.reference_eV, self.exponents, dtype
        )


class _EdgeTailModel:
    """Evaluates power law + preceding-edge tails (:mod:`cryospec.background_edges`)."""

    def __init__(self, reference_eV, edges, microscope, full_energy, start, ll_energy=None):
        self.reference_eV, self.edges, self.microscope = reference_eV, edges, microscope
        self.full_energy, self.start, self.ll_energy = full_energy, start, ll_energy

    def shapes(self, extra):
        if self.ll_energy is None:
            return edge_shapes(self.full_energy, self.edges, *self.microscope)[self.start :]
        shapes = edge_shapes(
            self.full_energy,
            self.edges,
            *self.microscope,
            low_loss=extra[0],
            low_loss_energy=self.ll_energy,
        )
        return shapes[..., self.start :, :]

    def _fit(self, params, covariance=None):
        cov = np.zeros(()) if covariance is None else covariance
        return PowerLawEdgesFit(self.reference_eV, params, cov, np.zeros(()), 0, np.ones(()))

    def background(self, params, extra, energy, dtype):
        return self._fit(params).evaluate(energy, self.shapes(extra)).astype(dtype)

    def variance(self, params, covariance, extra, energy, dtype):
        return self._fit(params, covariance).variance(energy, self.shapes(extra)).astype(dtype)


def _subtract_block(block, params, *extra, energy, start, gain, evaluator):
    dtype = np.result_type(block.dtype, np.float32)
    background = evaluator.background(params, extra, energy[start:], dtype)
    out = np.zeros(block.shape, dtype=dtype)
    out[..., start:] = block[..., start:] - gain * background
    return out


def _variance_block(
    block,
    params,
    covariance,
    *extra,
    energy,
    start,
    gain,
    read_noise,
    evaluator,
    counts_are_variance,
):
    dtype = np.result_type(block.dtype, np.float32)
    k = params.shape[-1]
    cov = covariance.reshape(*covariance.shape[:-1], k, k)
    bg_var = evaluator.variance(params, cov, extra, energy[start:], dtype)
    if counts_are_variance:
        counts_var = block[..., start:]
    else:
        counts_var = gain * np.clip(block[..., start:], 0, None) + read_noise**2
    out = np.zeros(block.shape, dtype=dtype)
    out[..., start:] = counts_var + gain**2 * bg_var
    return out


def _microscope(signal) -> tuple[float, float, float]:
    tem = "Acquisition_instrument.TEM"
    values = []
    for path, what in (
        (f"{tem}.beam_energy", "beam energy (keV)"),
        (f"{tem}.Detector.EELS.collection_angle", "collection angle (mrad)"),
        (f"{tem}.convergence_angle", "convergence angle (mrad)"),
    ):
        value = signal.metadata.get_item(path, None)
        if value is None or not np.isfinite(value) or (value <= 0 and "convergence" not in path):
            raise MissingMetadataError(
                f"metadata.{path} ({what}) is needed for the edge cross-sections; set it with "
                "s.set_microscope_parameters(beam_energy=..., convergence_angle=..., "
                "collection_angle=...)"
            )
        values.append(float(value))
    return values[0], values[1], values[2]


def _low_loss_array(signal, low_loss) -> tuple[Any, np.ndarray]:
    ll_axis = low_loss.axes_manager.signal_axes[0]
    if not ll_axis.is_uniform:
        raise ValueError("the low loss needs a uniform energy axis")
    energy = np.asarray(ll_axis.axis, dtype=float)
    if is_separate_low_loss(signal, low_loss):
        # One spectrum (a low loss acquired apart from the core loss, averaged): the same for
        # every pixel, broadcast without copying.
        spectrum = np.asarray(low_loss.data, dtype=float)
        if is_lazy_array(signal.data):
            shape = (*signal.data.shape[:-1], spectrum.size)
            chunks = (*signal.data.chunks[:-1], (spectrum.size,))
            return da.broadcast_to(da.from_array(spectrum), shape, chunks=chunks), energy
        return np.broadcast_to(spectrum, (*signal.data.shape[:-1], spectrum.size)), energy
    if low_loss.axes_manager.navigation_shape != signal.axes_manager.navigation_shape:
        raise ValueError(
            f"the low loss has navigation shape {low_loss.axes_manager.navigation_shape}, the "
            f"core loss {signal.axes_manager.navigation_shape}: they must match pixel by pixel. "
            "A low loss acquired separately can be given as one spectrum for every pixel: "
            "low_loss.mean(low_loss.axes_manager.navigation_axes) (its zero-loss peak at 0 eV)"
        )
    if low_loss._lazy:  # stays lazy: read block by block beside the core loss
        data = signal_axis_in_one_chunk(low_loss.data)
        return data.astype(float), energy
    return np.asarray(low_loss.data, dtype=float), energy


def is_separate_low_loss(signal, low_loss) -> bool:
    """True for one low-loss spectrum given for a core-loss map (used for every pixel)."""
    return (
        low_loss.axes_manager.navigation_dimension == 0
        and signal.axes_manager.navigation_dimension > 0
    )


def _window_electrons(window: np.ndarray, gain: float, windows, negative: str) -> np.ndarray:
    """Checked window counts, in electrons (NaN/inf refused; negatives refused or clipped)."""
    if not np.all(np.isfinite(window)):
        bad = int((~np.isfinite(window)).sum())
        raise ValueError(f"{bad} NaN or inf values in the background windows {windows}")
    if np.any(window < 0):
        if negative == "raise":
            raise ValueError(
                f"{int((window < 0).sum())} negative counts in the background windows (a "
                "dark-subtracted detector?). Poisson fitting needs counts >= 0: pass "
                "negative='clip' to fit max(counts, 0), or correct the dark offset first"
            )
        window = np.clip(window, 0, None)
    return window / gain


def _fit_window_block(block, *, mask, energy, gain, model, estimator, exponents, ref, check):
    electrons = _window_electrons(np.asarray(block[..., mask], dtype=float), gain, **check)
    fit = fit_background(electrons, energy, model, estimator, exponents=exponents, reference_eV=ref)
    k = fit.params.shape[-1]
    return np.concatenate([fit.params, fit.covariance.reshape(*fit.params.shape[:-1], k * k)], -1)


def _lazy_window_fit(data, energy, mask, gain, model, estimator, exponents, check):
    """The background fit of every pixel as Dask arrays: ``params`` (nav, k) and the
    flattened ``covariance`` (nav, k*k), computed block by block with whatever reads them."""
    e = energy[mask]
    ref = default_reference_eV(e, model)
    exps = tuple(float(r) for r in exponents) if model == "lcpl" else ()
    k = len(exps) if model == "lcpl" else 2
    packed = map_spectra(
        _fit_window_block,
        data,
        n_out=k + k * k,
        dtype=float,
        mask=mask,
        energy=e,
        gain=gain,
        model=model,
        estimator=estimator,
        exponents=exps,
        ref=ref,
        check=check,
    )
    return BackgroundFit(model, ref, exps, packed[..., :k], packed[..., k:], None, 0, None)


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
    preceding_edges: Any = None,
    low_loss=None,
    return_fit: bool = False,
    inplace: bool = False,
    show_progressbar: bool | None = None,
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
    if isinstance(preceding_edges, str):
        preceding_edges = [preceding_edges]
    tails = tuple(get_edge(e).name for e in (preceding_edges or []))
    if tails:
        if model != "power_law" or estimator != "ml":
            raise ValueError("preceding_edges works with model='power_law', estimator='ml'")
        if edge is None:
            raise ValueError("preceding_edges needs the target edge name")
        if windows is None:
            windows = [w for e in tails for w in get_edge(e).background_windows_eV]
            windows += list(get_edge(edge).background_windows_eV)
    elif low_loss is not None:
        raise ValueError("low_loss is used with preceding_edges (their plural scattering)")
    resolved, _ = resolve_windows(axis, edge, windows)
    mask = _window_mask(energy, resolved)
    if mask.sum() < _MIN_CHANNELS:
        raise ValueError(
            f"the background windows {resolved} hold {int(mask.sum())} channels; "
            f"at least {_MIN_CHANNELS} are needed"
        )
    start = int(np.argmax(mask))

    nav_shape = tuple(signal.data.shape[:-1])
    if count_target is not None and len(nav_shape) not in (1, 2):
        raise ValueError("the dose-aware fit (count_target) needs a line scan or a map")
    check = {"windows": resolved, "negative": negative}
    # A lazy cube with a pixel-by-pixel fit: the fit runs inside the blocks, beside the
    # subtraction, so that writing the result reads the cube once. Otherwise only the window
    # channels are brought into memory (a small fraction of a lazy cube) and fitted here.
    lazy_fit = is_lazy_array(signal.data) and count_target is None and not tails
    if lazy_fit and not return_fit:
        electrons = None
    else:
        window = compute_with_progress(signal.data[..., mask], show_progressbar=show_progressbar)
        electrons = _window_electrons(np.asarray(window, dtype=float), gain, **check)
        lazy_fit = False

    extra: list[np.ndarray] = []
    if tails:
        microscope = _microscope(signal)
        ll_energy = None
        if low_loss is not None:
            ll_data, ll_energy = _low_loss_array(signal, low_loss)
            extra = [ll_data]
        shapes = edge_shapes(
            energy,
            tails,
            *microscope,
            low_loss=extra[0] if extra else None,
            low_loss_energy=ll_energy,
        )[..., mask, :]
        anchor = energy[mask] < min(get_edge(e).onset_eV for e in tails)
        if count_target is not None:
            radius = neighbourhood_radius(
                electrons.sum(-1), count_target / gain, max_radius or max(nav_shape)
            )
            fit = fit_power_law_with_edges_pooled(
                electrons, energy[mask], shapes, anchor, radius, _box_sum
            )
        else:
            fit = fit_power_law_with_edges(electrons, energy[mask], shapes, anchor)
            radius = np.zeros(nav_shape, dtype=int)
        evaluator = _EdgeTailModel(fit.reference_eV, tails, microscope, energy, start, ll_energy)
    elif lazy_fit:
        fit = _lazy_window_fit(signal.data, energy, mask, gain, model, estimator, exponents, check)
        radius = None
        evaluator = _SimpleModel(model, fit.reference_eV, fit.exponents)
    else:
        if count_target is not None:
            fit, radius = fit_background_dose_aware(
                electrons,
                energy[mask],
                count_target / gain,
                model,
                estimator,
                exponents,
                max_radius,
            )
        else:
            fit = fit_background(electrons, energy[mask], model, estimator, exponents=exponents)
            radius = np.zeros(nav_shape, dtype=int)
        evaluator = _SimpleModel(model, fit.reference_eV, fit.exponents)

    kwargs = {"energy": energy, "start": start, "gain": gain, "evaluator": evaluator}
    dtype = np.result_type(signal.data.dtype, np.float32)
    data = map_spectra(
        _subtract_block, signal.data, fit.params, *extra, n_out=energy.size, dtype=dtype, **kwargs
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
        fit.covariance.reshape(*nav_shape, k * k) if not lazy_fit else fit.covariance,
        *extra,
        n_out=energy.size,
        dtype=dtype,
        read_noise=float(read_noise),
        counts_are_variance=is_var,
        **kwargs,
    )

    record = {
        "edge": edge or "",
        "windows_eV": [list(w) for w in resolved],
        "model": model if not tails else f"power_law + tails of {', '.join(tails)}",
        "estimator": estimator,
        "count_target": float(count_target) if count_target is not None else 0.0,
        "detector_gain": gain,
        "read_noise": float(read_noise),
        "negative": negative,
        "zero_below_eV": float(energy[start]),
        "plural_scattering": "low loss given" if extra else "none",
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
    result = _result_signals(signal, fit, radius, gain, resolved, evaluator, extra, energy)
    return result if inplace else (out, result)


def _result_signals(signal, fit, radius, gain, windows, evaluator, extra, energy):
    def nav_map(values, title, quantity=""):
        values = np.asarray(values)
        if signal.axes_manager.navigation_dimension == 0:
            values = values.reshape(1)
        s = signal._get_navigation_signal(data=values)
        s.metadata.General.title = title
        if quantity:
            s.metadata.set_item("Signal.quantity", quantity)
        return s

    edges = None
    with np.errstate(invalid="ignore"):
        if isinstance(fit, PowerLawEdgesFit):
            amp = fit.params[..., 0] * gain
            amp_std = np.sqrt(fit.covariance[..., 0, 0]) * gain
            shape = nav_map(fit.params[..., 1], "background exponent r")
            shape_std = nav_map(np.sqrt(fit.covariance[..., 1, 1]), "standard error of r")
            edges = {
                name: nav_map(fit.params[..., 2 + j] * gain, f"{name} tail coefficient")
                for j, name in enumerate(evaluator.edges)
            }
        elif fit.model == "lcpl":
            from hyperspy.signals import BaseSignal as _Base

            amp, amp_std = fit.amplitude * gain, np.full(radius.shape, np.nan)
            shape = _Base(fit.shape_parameter).transpose(signal_axes=1)
            shape.metadata.General.title = f"LCPL weights of exponents {list(fit.exponents)}"
            shape_std = nav_map(np.full(radius.shape, np.nan), "LCPL weight error (not computed)")
        else:
            amp = fit.amplitude * gain
            amp_std = amp * np.sqrt(fit.covariance[..., 0, 0])
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
        edge_coefficients=edges,
        _evaluator=evaluator,
        _extra=extra,
        _energy=energy,
        _gain=gain,
    )
