"""Background subtraction of a cryo EELS signal (:meth:`BackgroundMethods.subtract_background`).

The fits are in :mod:`cryospec.core.background`, :mod:`cryospec.core.pooling` (dose-aware
neighbourhoods) and :mod:`cryospec.core.poisson_fit` (power law plus the tails of preceding
edges); the subtraction kernels in :mod:`cryospec.core.subtraction`. This module validates the
signal, reads the windows and the noise model, maps the kernels and wraps the result.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from hyperspy.signal import BaseSignal

from cryospec._chunks import compute_with_progress, is_lazy_array, map_spectra
from cryospec.core.background import (
    DEFAULT_LCPL_EXPONENTS,
    MODELS,
    BackgroundFit,
    default_reference_eV,
    fit_background,
)
from cryospec.core.edge_shapes import CROSS_SECTIONS, DEFAULT_CROSS_SECTION, edge_shapes
from cryospec.core.poisson_fit import (
    PowerLawEdgesFit,
    fit_power_law_read_noise,
    fit_power_law_with_edges,
)
from cryospec.core.pooling import (
    fit_background_dose_aware,
    fit_power_law_with_edges_pooled,
    neighbourhood_radius,
)
from cryospec.core.subtraction import (
    EdgeTailBackground,
    SimpleBackground,
    fit_window_block,
    subtract_block,
    variance_block,
    window_electrons,
    window_mask,
)
from cryospec.edges import get_edge
from cryospec.signals.axis_checks import energy_axis
from cryospec.signals.background_tails import auto_tails, resolve_windows
from cryospec.signals.count_validation import check_counts_in_memory
from cryospec.signals.io import names_read_errors
from cryospec.signals.low_loss import check_low_loss, low_loss_array
from cryospec.signals.maps import navigation_map
from cryospec.signals.metadata import microscope_parameters
from cryospec.signals.quantify_noise import (
    ESTIMATED,
    NEGATIVE_CHOICES,
    estimated_read_noise,
    known_read_noise,
    negative_count_sums,
)
from cryospec.signals.results import BackgroundResult

__all__ = ["BackgroundMethods", "background_subtracted_sum", "resolve_windows"]

_MIN_CHANNELS = 5


class BackgroundMethods:
    """The ``subtract_background`` method of :class:`~cryospec.signals.CryoEELSSpectrum`."""

    @names_read_errors
    def subtract_background(
        self,
        edge: str | None = None,
        windows=None,
        model: str = "power_law",
        estimator: str = "ml",
        count_target: float | None = None,
        detector_gain: float | None = None,
        read_noise: float = 0.0,
        negative: str = "shift",
        exponents: tuple[float, ...] = DEFAULT_LCPL_EXPONENTS,
        max_radius: int | None = None,
        preceding_edges=None,
        low_loss=None,
        return_fit: bool = False,
        inplace: bool = False,
        show_progressbar: bool | None = None,
        cross_section: str = DEFAULT_CROSS_SECTION,
    ):
        """Fit the pre-edge background by Poisson maximum likelihood and subtract it.

        All pixels are fitted at once. Recorded counts are converted to electrons with the
        detector gain; the fit is Poisson maximum likelihood (unbiased at low counts) or, for
        comparison, 1/n-weighted least squares. With ``count_target`` the fit is dose-aware:
        where a pixel's windows hold fewer counts than the target, the background shape comes
        from a neighbourhood grown until it holds them, while the amplitude stays per pixel.

        Channels below the first window are set to zero. The result carries its variance in
        ``metadata.Signal.Noise_properties.variance``: the counts' variance (the input's own
        variance if it has one, else Poisson ``gain * counts + read_noise**2``) plus the
        variance of the extrapolated background from the fit's covariance. The channels'
        background errors are fully correlated: to integrate an edge use
        :func:`cryospec.background.window_sum_variance` on the returned fit.

        For a lazy signal nothing is computed here: the pixel-by-pixel fit runs block by block
        beside the subtraction when the result is computed or saved (each block read once), and
        bad counts in the windows raise then. The dose-aware fit (``count_target``), a fit with
        ``preceding_edges`` and ``return_fit=True`` read the window channels into memory first
        (a small part of the cube); the subtraction and the variance stay lazy.

        Parameters
        ----------
        edge : str, optional
            Edge name (``"Li_K"``, ``"P_L2,3"``...): its database windows, and windows may not
            reach above its onset.
        windows : sequence of (float, float), optional
            Explicit windows in eV (override the edge's).
        model : {"power_law", "exponential", "lcpl"}
            Background model.
        estimator : {"ml", "ls"}
            Poisson maximum likelihood or 1/max(n, 1)-weighted least squares.
        count_target : float, optional
            Dose-aware mode: counts the background windows must hold to estimate the shape.
        detector_gain : float, optional
            Counts per electron; default ``metadata.CryoSpec.Acquisition.detector_gain``.
        read_noise : float
            Read-noise standard deviation in counts per channel (0: the one recorded by
            :meth:`set_noise_model`, if any). It enters the variance of the result and, with
            ``negative="shift"``, the fit.
        negative : {"shift", "clip", "raise"}
            Negative counts in the windows (dark-subtracted detectors): fitted with the read
            noise as shifted Poisson (``"shift"``, power law by maximum likelihood; without a
            read noise it is estimated from the negative counts, with a warning, see
            :mod:`cryospec.signals.quantify_noise`), clipped to zero for the fit
            (``"clip"``; the data themselves are not changed), or an error. A lazy signal is
            read once, block by block, so its negative counts cannot be looked at first: with
            them, give its read noise (or ``"clip"``).
        exponents : tuple of float
            LCPL exponents.
        max_radius : int, optional
            Largest neighbourhood half-width of the dose-aware mode.
        preceding_edges : "auto", str or sequence of str
            Edges whose tails lie under this one (``"Li_K"`` under ``"P_L23"``): the background
            becomes a power law plus their cross-sections (non-negative), fitted over
            their own pre-edge windows and this edge's (see :mod:`cryospec.background_edges`).
            ``"auto"`` (with an edge name, the power law, ML and no explicit windows): the K,
            L2,3, M2,3 and M4,5 edges of the declared elements (``metadata.Sample.elements``)
            within 100 eV below (:func:`cryospec.signals.background_tails.declared_tails`),
            named in ``metadata.CryoSpec.Background.note``. None (the default) or ``[]``: a
            plain power law. Not the default: on exspy-made data (hydrogenic Li K with fine
            structure, Drude plasmons) the tail model biases P L2,3 more than a plain power
            law does (-21 % against -8 % at 2e6 electrons per pixel), its Li K shape not being
            the data's.
        low_loss : CryoEELSSpectrum, optional
            With ``preceding_edges``: the matching low-loss spectrum image (same dispersion,
            same pixels); the tails are convolved with it (plural scattering).
        cross_section : {"hydrogenic", "hartree-slater"}
            With ``preceding_edges``: the cross-sections of their tails.
        return_fit : bool
            Also return a :class:`~cryospec.signals.BackgroundResult` with
            the parameter maps as signals.
        inplace : bool
            Replace this signal's data instead of returning a new signal.
        show_progressbar : bool, optional
            Dask's progress bar while a lazy signal's windows are read (default: HyperSpy's
            preference); the subtraction itself stays lazy.

        Returns
        -------
        CryoEELSSpectrum or None, and BackgroundResult if ``return_fit``

        Raises
        ------
        ValueError
            NaN/inf or negative counts in the windows, a window outside the axis, above the
            edge onset or with too few channels, a non-uniform axis, a bad argument.
        cryospec.dose.MissingMetadataError
            If the detector gain is neither given nor in the metadata.
        """
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {model!r}")
        note = ""
        if isinstance(preceding_edges, str) and preceding_edges == "auto":
            preceding_edges, note = auto_tails(self, edge, windows, model, estimator)
        plan = _plan(
            self, edge, windows, model, estimator, preceding_edges, low_loss, detector_gain
        )
        _set_noise(plan, self, negative, read_noise, model, estimator)
        plan.cross_section = _checked_cross_section(cross_section)
        if count_target is not None and len(plan.nav_shape) not in (1, 2):
            raise ValueError("the dose-aware fit (count_target) needs a line scan or a map")
        fit, radius, evaluator, extra, lazy_fit = _fit(
            self, plan, model, estimator, exponents, count_target, max_radius, low_loss,
            return_fit, show_progressbar,
        )  # fmt: skip
        data, variance = _subtract(self, plan, fit, evaluator, extra, lazy_fit)
        record = _record(edge, plan, model, estimator, count_target, extra)
        if note:
            record["note"] = note
        out = _wrap(self, data, variance, record, inplace)
        if not return_fit:
            return None if inplace else out
        result = _result_signals(self, fit, radius, plan, evaluator, extra)
        return result if inplace else (out, result)


@dataclass
class _Plan:
    """What a background subtraction works on: axis, windows, preceding edges, noise model."""

    energy: np.ndarray
    windows: list[tuple[float, float]]
    mask: np.ndarray
    start: int
    tails: tuple[str, ...]
    nav_shape: tuple[int, ...]
    gain: float = 1.0
    check: dict | None = None
    cross_section: str = DEFAULT_CROSS_SECTION
    read_noise: float = 0.0
    read_noise_source: str = "none"
    shifted_fit: bool = False

    @property
    def fit_read_noise(self) -> float:
        """The read noise of the shifted-Poisson fit, in electrons (0: a plain Poisson fit)."""
        return self.read_noise / self.gain if self.shifted_fit else 0.0


def _set_noise(plan, signal, negative, read_noise, model, estimator) -> None:
    """The ``negative`` choice and the read noise (given, else recorded) of a subtraction;
    with ``negative="shift"`` and none known, the window fit estimates it from the negative
    counts (:func:`_estimate_read_noise`)."""
    if negative not in NEGATIVE_CHOICES:
        raise ValueError(f"negative must be one of {NEGATIVE_CHOICES}, got {negative!r}")
    # 0 is "not given" here: the recorded read noise, if any
    plan.read_noise, plan.read_noise_source = known_read_noise(signal, read_noise or None)
    # the shifted-Poisson window fit is a power law by maximum likelihood (alone or with the
    # tails of preceding edges)
    plan.shifted_fit = negative == "shift" and model == "power_law" and estimator == "ml"
    plan.check = {
        "windows": plan.windows,
        "negative": negative,
        "read_noise": plan.read_noise if plan.shifted_fit else 0.0,
    }


def _estimate_read_noise(plan, window: np.ndarray) -> None:
    """With ``negative="shift"`` and no read noise known: the root mean square of the
    negative window counts (a lower bound of the read noise), with a warning."""
    if not (plan.shifted_fit and plan.read_noise == 0):
        return
    n_negative, square_sum, _ = negative_count_sums(window)
    if not n_negative:
        return
    where = " in the background windows"
    plan.read_noise, message = estimated_read_noise(int(n_negative), float(square_sum), where)
    plan.read_noise_source = ESTIMATED
    plan.check["read_noise"] = plan.read_noise
    warnings.warn(message, UserWarning, stacklevel=4)


def _checked_cross_section(cross_section: str) -> str:
    if cross_section not in CROSS_SECTIONS:
        raise ValueError(f"cross_section must be one of {CROSS_SECTIONS}, got {cross_section!r}")
    return cross_section


def _record(edge, plan, model, estimator, count_target, extra) -> dict:
    """What ``metadata.CryoSpec.Background`` and the history say of a subtraction."""
    return {
        "edge": edge or "",
        "windows_eV": [list(w) for w in plan.windows],
        "model": model if not plan.tails else f"power_law + tails of {', '.join(plan.tails)}",
        "estimator": estimator,
        "count_target": float(count_target) if count_target is not None else 0.0,
        "detector_gain": plan.gain,
        "read_noise": plan.read_noise,
        "read_noise_source": plan.read_noise_source,
        "negative": plan.check["negative"],
        "zero_below_eV": float(plan.energy[plan.start]),
        "plural_scattering": "low loss given" if extra else "none",
        "tail_cross_section": plan.cross_section if plan.tails else "",
    }


def _plan(
    signal, edge, windows, model, estimator, preceding_edges, low_loss, detector_gain
) -> _Plan:
    axis = signal.axes_manager.signal_axes[0]
    energy = energy_axis(signal)
    gain = signal.detector_gain(detector_gain)
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
    mask = window_mask(energy, resolved)
    if mask.sum() < _MIN_CHANNELS:
        raise ValueError(
            f"the background windows {resolved} hold {int(mask.sum())} channels; "
            f"at least {_MIN_CHANNELS} are needed"
        )
    start = int(np.argmax(mask))
    return _Plan(energy, resolved, mask, start, tails, tuple(signal.data.shape[:-1]), gain)


def _fit(
    signal, plan, model, estimator, exponents, count_target, max_radius, low_loss, return_fit,
    show_progressbar,
):  # fmt: skip
    """The background fit: parameters per pixel, neighbourhood radii and the evaluator."""
    energy, mask, gain = plan.energy, plan.mask, plan.gain
    # A lazy cube with a pixel-by-pixel fit: the fit runs inside the blocks, beside the
    # subtraction, so that writing the result reads the cube once. Otherwise only the window
    # channels are brought into memory (a small fraction of a lazy cube) and fitted here.
    lazy_fit = is_lazy_array(signal.data) and count_target is None and not plan.tails
    if lazy_fit and not return_fit:
        # read once, in the blocks: negative counts there need a read noise given or recorded
        electrons = None
    else:
        window = np.asarray(
            compute_with_progress(signal.data[..., mask], show_progressbar=show_progressbar),
            dtype=float,
        )
        empty = check_counts_in_memory(
            window, energy[mask], gain, "the background windows of the spectra"
        )
        for message in empty.warnings:
            warnings.warn(message, UserWarning, stacklevel=3)
        _estimate_read_noise(plan, window)
        electrons = window_electrons(window, gain, **plan.check)
        if count_target is not None and np.any(window < 0) and plan.check["negative"] != "clip":
            raise ValueError(
                "the dose-aware fit (count_target) takes counts >= 0: pass negative='clip' "
                "for a dark-subtracted detector, or fit without count_target"
            )
        lazy_fit = False
    extra: list[np.ndarray] = []
    if plan.tails:
        microscope = microscope_parameters(signal)
        ll_energy = None
        if low_loss is not None:
            ll_data, ll_energy = low_loss_array(signal, low_loss)
            for message in check_low_loss(ll_data, ll_energy):
                warnings.warn(message, UserWarning, stacklevel=3)
            extra = [ll_data]
        shapes = edge_shapes(
            energy,
            plan.tails,
            *microscope,
            low_loss=extra[0] if extra else None,
            low_loss_energy=ll_energy,
            cross_section=plan.cross_section,
        )[..., mask, :]
        anchor = energy[mask] < min(get_edge(e).onset_eV for e in plan.tails)
        if count_target is not None:
            radius = neighbourhood_radius(
                electrons.sum(-1), count_target / gain, max_radius or max(plan.nav_shape)
            )
            fit = fit_power_law_with_edges_pooled(electrons, energy[mask], shapes, anchor, radius)
        else:
            fit = fit_power_law_with_edges(
                electrons, energy[mask], shapes, anchor, read_noise=plan.fit_read_noise
            )
            radius = np.zeros(plan.nav_shape, dtype=int)
        evaluator = EdgeTailBackground(
            fit.reference_eV, plan.tails, microscope, energy, plan.start, ll_energy,
            plan.cross_section,
        )  # fmt: skip
        return fit, radius, evaluator, extra, lazy_fit
    if lazy_fit:
        fit = _lazy_window_fit(signal.data, plan, model, estimator, exponents)
        radius = None
    elif count_target is not None:
        fit, radius = fit_background_dose_aware(
            electrons, energy[mask], count_target / gain, model, estimator, exponents, max_radius
        )
    elif plan.fit_read_noise > 0:
        fit = fit_power_law_read_noise(electrons, energy[mask], plan.fit_read_noise)
        radius = np.zeros(plan.nav_shape, dtype=int)
    else:
        fit = fit_background(electrons, energy[mask], model, estimator, exponents=exponents)
        radius = np.zeros(plan.nav_shape, dtype=int)
    return fit, radius, SimpleBackground(model, fit.reference_eV, fit.exponents), extra, lazy_fit


def _lazy_window_fit(data, plan, model, estimator, exponents):
    """The background fit of every pixel as Dask arrays: ``params`` (nav, k) and the
    flattened ``covariance`` (nav, k*k), computed block by block with whatever reads them."""
    e = plan.energy[plan.mask]
    ref = default_reference_eV(e, model)
    exps = tuple(float(r) for r in exponents) if model == "lcpl" else ()
    k = len(exps) if model == "lcpl" else 2
    packed = map_spectra(
        _checked_window_block,
        data,
        n_out=k + k * k,
        dtype=float,
        mask=plan.mask,
        energy=e,
        gain=plan.gain,
        model=model,
        estimator=estimator,
        exponents=exps,
        ref=ref,
        check=plan.check,
    )
    return BackgroundFit(model, ref, exps, packed[..., :k], packed[..., k:], None, 0, None)


def _checked_window_block(block, *, mask, energy, gain, **kwargs):
    """:func:`fit_window_block` after the count checks of the block's window channels (pixel
    indices in the message count from the block's first pixel)."""
    check_counts_in_memory(
        np.asarray(block)[..., mask], energy, gain, "a block of the background windows",
        whole=False, name_empty=False,
    )  # fmt: skip
    return fit_window_block(block, mask=mask, energy=energy, gain=gain, **kwargs)


def _subtract(signal, plan, fit, evaluator, extra, lazy_fit):
    """The subtracted data and its variance (lazy for a lazy signal)."""
    energy = plan.energy
    kwargs = {"energy": energy, "start": plan.start, "gain": plan.gain, "evaluator": evaluator}
    dtype = np.result_type(signal.data.dtype, np.float32)
    data = map_spectra(
        subtract_block, signal.data, fit.params, *extra, n_out=energy.size, dtype=dtype, **kwargs
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
        variance_block,
        var_source,
        fit.params,
        fit.covariance.reshape(*plan.nav_shape, k * k) if not lazy_fit else fit.covariance,
        *extra,
        n_out=energy.size,
        dtype=dtype,
        read_noise=plan.read_noise,
        counts_are_variance=is_var,
        **kwargs,
    )
    return data, variance


def _wrap(signal, data, variance, record, inplace):
    """The subtracted signal with its variance and its history in the metadata."""
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
    return out


def _result_signals(signal, fit, radius, plan, evaluator, extra):
    gain, windows, energy = plan.gain, plan.windows, plan.energy

    def nav_map(values, title, quantity=""):
        return navigation_map(signal, values, title, quantity)

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
        amplitude_se=nav_map(amp_std, "standard error of the background amplitude"),
        shape=shape,
        shape_se=shape_std,
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


def background_subtracted_sum(
    signal,
    edge: str,
    lo: float,
    hi: float,
    model: str = "power_law",
    count_target: float | None = None,
    preceding_edges=None,
    low_loss=None,
    show_progressbar: bool | None = None,
    cross_section: str = DEFAULT_CROSS_SECTION,
    negative: str = "shift",
    read_noise: float = 0.0,
    detector_gain: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts above the background of ``edge`` summed over ``[lo, hi]`` eV, and their variance
    (the Poisson counts and the read noise, plus the fully correlated error of the summed
    background), in counts.

    What the integration method and the dose series take from a background subtraction,
    with the defaults of :meth:`BackgroundMethods.subtract_background` (``negative``,
    ``read_noise`` and ``detector_gain`` as there).
    """
    check_model = "power_law" if preceding_edges else model
    plan = _plan(signal, edge, None, check_model, "ml", preceding_edges, low_loss, detector_gain)
    _set_noise(plan, signal, negative, read_noise, check_model, "ml")
    plan.cross_section = _checked_cross_section(cross_section)
    if count_target is not None and len(plan.nav_shape) not in (1, 2):
        raise ValueError("the dose-aware fit (count_target) needs a line scan or a map")
    fit, _, evaluator, extra, _ = _fit(
        signal, plan, check_model, "ml", DEFAULT_LCPL_EXPONENTS, count_target, None, low_loss,
        True, show_progressbar,
    )  # fmt: skip
    dtype = np.result_type(signal.data.dtype, np.float32)
    kwargs = {"energy": plan.energy, "start": plan.start, "gain": plan.gain}
    data = map_spectra(
        subtract_block, signal.data, fit.params, *extra, n_out=plan.energy.size, dtype=dtype,
        evaluator=evaluator, **kwargs,
    )  # fmt: skip
    window = (plan.energy >= lo) & (plan.energy <= hi)
    # summed in float64: a float32 map's window sums can pass float32's range
    net = data[..., window].sum(-1, dtype=float)
    counts = np.clip(signal.data[..., window], 0, None).sum(-1, dtype=float)
    net, counts = compute_with_progress(net, counts, show_progressbar=show_progressbar)
    background = evaluator.window_sum_variance(fit, extra, plan.energy, window)
    read = int(window.sum()) * plan.read_noise**2
    return np.asarray(net), plan.gain * counts + read + plan.gain**2 * background
