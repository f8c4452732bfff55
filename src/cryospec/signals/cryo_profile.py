"""Profiles across an interphase as HyperSpy signals, and their gradient fits."""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from hyperspy.signals import Signal1D

from cryospec.core.gradients import GradientFit, fit_gradient
from cryospec.core.layer_count import select_layers
from cryospec.core.profiles import (
    auto_direction,
    line_weights,
    profile_from_weights,
    stripe_weights,
)
from cryospec.signals.axis_checks import length_to_nm
from cryospec.signals.results import ProfileFit

__all__ = ["CryoProfile", "ProfileFit", "auto_profile", "line_profile"]


def _statistics(fits: list[GradientFit]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    keys = {k for f in fits for k, v in f.derived.items() if np.isscalar(v)}
    for key in sorted(keys):
        values = [f.derived.get(key, np.nan) for f in fits]
        arr = np.asarray(values, dtype=float)
        out[key] = {
            "mean": float(np.nanmean(arr)),
            "std": float(np.nanstd(arr, ddof=1)) if arr.size > 1 else 0.0,
            "values": [float(v) for v in arr],
        }
    return out


class CryoProfile(Signal1D):
    """Profile(s) across an interphase: one per stripe along the navigation axis.

    The signal axis is the distance along the profile (nm); the variance propagated from the
    map is in ``metadata.Signal.Noise_properties.variance``; how the profile was taken is in
    ``metadata.CryoSpec.Profile``. The gradient components (``cryospec.components``) can be
    used on it in a plain HyperSpy ``Model1D``.
    """

    _signal_type = "CryoProfile"
    _alias_signal_types: ClassVar[list[str]] = ["cryo profile"]

    def _variance_array(self) -> np.ndarray:
        variance = self.metadata.get_item("Signal.Noise_properties.variance", None)
        if variance is None:
            raise ValueError(
                "the profile has no variance (metadata.Signal.Noise_properties.variance): "
                "extract it from a map that carries one, or pass variance= when extracting"
            )
        return np.broadcast_to(
            np.asarray(getattr(variance, "data", variance), float), self.data.shape
        )

    def fit_gradient(
        self,
        model: str = "erf",
        n_layers: int | None = 1,
        probe_sigma: float = 0.0,
        max_layers: int = 4,
    ) -> ProfileFit:
        """Fit a gradient model to every stripe (see :mod:`cryospec.gradients`).

        Parameters
        ----------
        model : {"erf", "multilayer", "diffusion", "exponential", "auto"}
            The model (``"auto"``: chosen among them by BIC and goodness of fit, see
            :func:`cryospec.core.gradient_choice.choose_model`); the step convention is
            ``c(x) = c0 + (c1 - c0) * (1 + erf((x - x0) / (sqrt(2) * sigma))) / 2``.
        n_layers : int or None
            Steps of the multilayer model; None chooses 1..``max_layers`` by BIC.
        probe_sigma : float
            Standard deviation of the probe (nm), convolved with the model.
        max_layers : int
            Largest number of layers tried when ``n_layers`` is None.

        Returns
        -------
        ProfileFit
            Per-stripe fits (parameters with 95 % profile-likelihood intervals, derived
            positions, widths and thickness with 95 % intervals) and their statistics.
        """
        if not (np.isfinite(probe_sigma) and probe_sigma >= 0):
            raise ValueError(f"probe_sigma must be a length >= 0 (nm), got {probe_sigma!r}")
        if n_layers is not None and (isinstance(n_layers, bool) or int(n_layers) != n_layers):
            raise ValueError(f"n_layers must be a whole number or None, got {n_layers!r}")
        if n_layers is not None and n_layers < 1:
            raise ValueError(
                f"n_layers must be at least 1 (None chooses 1..max_layers), got {n_layers!r}"
            )
        x = self.axes_manager.signal_axes[0].axis
        data = np.asarray(self.data, dtype=float).reshape(-1, x.size)
        variance = self._variance_array().reshape(-1, x.size)
        fits = []
        for y, var in zip(data, variance, strict=True):
            # Points where the map is undefined (an atomic fraction where no element is
            # present) carry no information: they are left out, not filled in.
            ok = np.isfinite(y) & np.isfinite(var) & (var > 0)
            if model == "multilayer" and n_layers is None:
                fit, _ = select_layers(x[ok], y[ok], var[ok], max_layers, probe_sigma)
            else:
                fit = fit_gradient(
                    x[ok],
                    y[ok],
                    var[ok],
                    model=model,
                    n_layers=n_layers or 1,
                    probe_sigma=probe_sigma,
                )
            fits.append(fit)
        _warn_about(fits, self.metadata.General.title)
        return ProfileFit(fits, _statistics(fits))


def _warn_about(fits: list[GradientFit], title: str) -> None:
    """One warning for the fits whose numbers must not be read as they stand."""
    flagged = [(k, f) for k, f in enumerate(fits) if f.notes()]
    if not flagged:
        return
    k, first = flagged[0]
    where = f"stripe {k}: " if len(fits) > 1 else ""
    more = f" (and {len(flagged) - 1} more stripes)" if len(flagged) > 1 else ""
    warnings.warn(
        f"{title or 'profile'}: {where}" + "; ".join(first.notes()) + more,
        UserWarning,
        stacklevel=3,
    )


def _map_arrays(maps, variance):
    data = np.asarray(maps.data, dtype=float)
    if data.ndim == 1:  # a line scan: a map one row high
        data = data[None, :]
    if data.ndim != 2:
        raise ValueError(
            f"profiles are taken from a 2-D map or a line scan, got data of shape {data.shape}"
        )
    if variance is None:
        stored = maps.metadata.get_item("Signal.Noise_properties.variance", None)
        variance = None if stored is None else getattr(stored, "data", stored)
    if variance is not None:
        variance = np.broadcast_to(
            np.asarray(getattr(variance, "data", variance), float), data.shape
        )
    _check_map(data, variance)
    return data, variance


def _check_map(data: np.ndarray, variance: np.ndarray | None) -> None:
    """A profile's map: NaN is a pixel without a value (left out); infinities, a map without
    any value and negative variances are errors."""
    infinite = np.isinf(data)
    if infinite.any():
        index = tuple(int(i) for i in np.argwhere(infinite)[0])
        raise ValueError(
            f"the map holds {int(infinite.sum())} infinite value(s) (the first at pixel "
            f"{index}): a profile needs finite values (NaN marks a pixel without one)"
        )
    valid = np.isfinite(data)
    if not valid.any():
        raise ValueError("the map holds no finite value (every pixel is NaN): nothing to profile")
    if variance is None:
        return
    if np.any(variance[valid] < 0):
        index = tuple(int(i) for i in np.argwhere(valid & (variance < 0))[0])
        raise ValueError(f"the variance is negative at pixel {index}: variances are >= 0")
    if not np.isfinite(variance[valid]).any():
        raise ValueError(
            "the variance is NaN or infinite wherever the map has a value: give the map's "
            "variance (e.g. the square of its standard-error map)"
        )


def _check_stripes(n_stripes) -> None:
    if isinstance(n_stripes, bool) or not isinstance(n_stripes, (int, np.integer)) or n_stripes < 1:
        raise ValueError(f"n_stripes must be a whole number >= 1, got {n_stripes!r}")


def _axes(maps):
    axes = (
        maps.axes_manager.signal_axes
        if maps.axes_manager.signal_dimension == 2
        else (maps.axes_manager.navigation_axes)
    ) or maps.axes_manager.signal_axes
    if len(axes) == 1:  # a line scan: its one axis across, a row of the same pixel size
        axis = axes[0]
        return axis, SimpleNamespace(scale=axis.scale, offset=0.0, units=axis.units)
    if len(axes) != 2:
        raise ValueError("the map needs two axes (x: columns, y: rows) or one (a line scan)")
    return axes[0], axes[1]


def _make_profile(maps, distance, weights, data, variance, record):
    # Pixels without a value (NaN: e.g. a fraction where no element is present) are left out
    # and each bin averages the pixels it still has; a bin with none is NaN.
    valid = np.isfinite(data)
    if variance is not None:
        valid &= np.isfinite(variance)
    if not valid.all():
        from scipy import sparse

        data = np.where(valid, data, 0.0)
        variance = None if variance is None else np.where(valid, variance, 0.0)
        kept = []
        for w in weights:
            w = sparse.csr_matrix(w.multiply(valid.ravel()[None, :].astype(float)))
            sums = np.asarray(w.sum(axis=1)).ravel()
            scale = np.where(sums > 0, 1.0 / np.where(sums > 0, sums, 1.0), 0.0)
            kept.append((sparse.diags(scale) @ w, sums > 0))
    else:
        kept = [(w, None) for w in weights]
    values, var = [], []
    for w, has_pixels in kept:
        p, v = profile_from_weights(w, data, variance)
        if has_pixels is not None:
            p = np.where(has_pixels, p, np.nan)
            v = None if v is None else np.where(has_pixels, v, np.nan)
        values.append(p)
        var.append(v)
    array = np.array(values)
    xaxis, _ = _axes(maps)
    # Positions and widths of the fits are named in nm: a map in another length unit (µm, Å)
    # gives its profile in nm; an axis in no length unit keeps its own.
    factor = length_to_nm(xaxis.units)
    units = xaxis.units
    if factor is not None:
        distance, units = distance * factor, "nm"
    axes = [
        {
            "name": "distance",
            "size": distance.size,
            "offset": float(distance[0]),
            "scale": float(distance[1] - distance[0]) if distance.size > 1 else 1.0,
            "units": units,
        }
    ]
    if len(weights) > 1:
        axes.insert(0, {"name": "stripe", "size": len(weights), "navigate": True})
    else:
        array = array[0]
    profile = CryoProfile(array, axes=axes)
    profile.metadata.General.title = f"profile of {maps.metadata.General.title}".strip()
    quantity = maps.metadata.get_item("Signal.quantity", "")
    if quantity:
        profile.metadata.set_item("Signal.quantity", quantity)
    if variance is not None:
        var_array = np.array(var) if len(weights) > 1 else var[0]
        profile.metadata.set_item(
            "Signal.Noise_properties.variance", profile._deepcopy_with_new_data(var_array)
        )
    profile.metadata.set_item("CryoSpec.Profile", record)
    return profile


def line_profile(
    maps,
    start: tuple[float, float],
    end: tuple[float, float],
    width: float,
    variance=None,
    step: float | None = None,
    n_stripes: int = 1,
) -> CryoProfile:
    """Profile of a map along a line, averaged over a width, with sub-pixel sampling.

    Parameters
    ----------
    maps : Signal2D
        The map (areal density, atomic fraction, NMF loading, integrated signal...).
    start, end : (float, float)
        End points (x, y) in the map's calibrated units.
    width : float
        Width across the line, calibrated units (> 0); averaged with points at most half a
        pixel apart, interpolated bilinearly.
    variance : Signal2D or array, optional
        The map's variance (default: its ``Noise_properties.variance``).
    step : float, optional
        Spacing of the profile points (default: one pixel).
    n_stripes : int
        Split the width into this many parallel profiles (navigation axis ``stripe``).

    Returns
    -------
    CryoProfile
    """
    _check_stripes(n_stripes)
    for name, value in (("width", width), ("step", step)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise ValueError(
                f"the profile {name} must be a positive length in the map's units, got {value!r}"
            )
    data, var = _map_arrays(maps, variance)
    xaxis, yaxis = _axes(maps)
    if not np.isclose(abs(xaxis.scale), abs(yaxis.scale), rtol=1e-6):
        raise ValueError("line profiles need square pixels (equal x and y scales)")
    scale = abs(xaxis.scale)

    def to_px(point):
        return ((point[0] - xaxis.offset) / xaxis.scale, (point[1] - yaxis.offset) / yaxis.scale)

    distance, weights = line_weights(
        data.shape, to_px(start), to_px(end), width / scale, (step or scale) / scale, n_stripes
    )
    record = {
        "mode": "line",
        "start": list(map(float, start)),
        "end": list(map(float, end)),
        "width": float(width),
        "n_stripes": int(n_stripes),
    }
    return _make_profile(maps, distance * scale, weights, data, var, record)


def auto_profile(maps, variance=None, n_stripes: int = 1, direction=None) -> CryoProfile:
    """Profile across the interface found in the map, the whole map collapsed along it.

    The direction across the interface is the dominant gradient direction
    (:func:`cryospec.profiles.auto_direction`) unless given as (x, y); pixels are binned by
    their distance across the interface (one-pixel bins) and split into ``n_stripes`` groups
    along it for region-to-region statistics.
    """
    _check_stripes(n_stripes)
    data, var = _map_arrays(maps, variance)
    xaxis, _ = _axes(maps)
    d = auto_direction(data) if direction is None else np.asarray(direction, dtype=float)
    distance, weights = stripe_weights(data.shape, d, n_stripes)
    record = {
        "mode": "auto",
        "direction": [float(v) for v in d / np.hypot(*d)],
        "n_stripes": int(n_stripes),
    }
    # The distance axis starts at the first bin; shift it so that x = 0 is the map's origin
    # when the interface runs along the rows or columns.
    offset = xaxis.offset if abs(d[0]) >= abs(d[1]) else _axes(maps)[1].offset
    return _make_profile(
        maps,
        distance * abs(xaxis.scale) + offset - 0.5 * abs(xaxis.scale),
        weights,
        data,
        var,
        record,
    )
