"""Profiles and gradient fits of quantified maps, element by element, for reports.

Used by ``cryospec profile`` and the demo; the numbers come from :mod:`cryospec.gradients`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cryospec.signals.cryo_profile import auto_profile, line_profile

__all__ = ["common_direction", "element_profiles", "plot_profiles", "significant_pixels"]


def common_direction(maps) -> np.ndarray:
    """One direction across the interface for several maps: the dominant gradient direction of
    all of them together (each normalised to its range), pointing along +x (columns) or, for an
    interface along the columns, +y, so that the distance grows with the map's coordinate."""
    from cryospec.core.profiles import auto_direction

    # a line scan is a map one row high
    stack = np.stack([np.atleast_2d(np.asarray(m.data, dtype=float)) for m in maps])
    direction = auto_direction(stack)
    dominant = int(np.argmax(np.abs(direction)))
    return direction if direction[dominant] > 0 else -direction


def significant_pixels(result, threshold: float = 3.0) -> tuple[np.ndarray, str | None]:
    """Pixels where the quantified elements together carry a significant signal (their summed
    areal density above ``threshold`` standard errors), and a note on those left out.

    Elsewhere (Li metal quantified without Li K) every atomic fraction is a ratio of noise.
    """
    densities = [np.asarray(m.data, dtype=float) for m in result.areal_density.values()]
    errors = [np.asarray(m.data, dtype=float) for m in result.areal_density_se.values()]
    total = np.sum(densities, axis=0)
    se = np.sqrt(np.sum(np.square(errors), axis=0))
    keep = np.isfinite(total) & (total > threshold * se)
    left_out = int(np.count_nonzero(~keep))
    if not left_out:
        return keep, None
    elements = "+".join(result.areal_density)
    return keep, (
        f"{left_out} of {keep.size} pixels left out of the atomic-fraction profile: the "
        f"quantified elements ({elements}) carry no significant signal there (summed areal "
        f"density below {threshold:g} standard errors)"
    )


def element_profiles(
    result,
    elements: list[str] | None = None,
    quantity: str = "atomic_fraction",
    line: tuple[float, float, float, float] | None = None,
    width: float | None = None,
    n_stripes: int = 1,
    model: str = "erf",
    n_layers: int | None = 1,
    probe_sigma: float = 0.0,
    direction: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Profile and fit every element's map of a :class:`QuantificationResult`.

    Parameters
    ----------
    result : QuantificationResult
        From :meth:`CryoEELSSpectrum.quantify`.
    elements : list of str, optional
        Element symbols (default: all).
    quantity : {"atomic_fraction", "areal_density"}
        The maps to profile (atomic fractions do not depend on the thickness).
    line : (x0, y0, x1, y1), optional
        A line in calibrated units, with ``width``; by default the automatic mode (the map
        collapsed along the interface).
    n_stripes : int
        Parallel profiles for region statistics.
    model, n_layers, probe_sigma
        See :meth:`CryoProfile.fit_gradient`.
    direction : (float, float), optional
        Automatic mode: the direction across the interface, (column, row). By default one
        direction for all elements (:func:`common_direction`), so that every profile shares
        the same distance axis.

    Returns
    -------
    dict
        ``{"elements": {symbol: summary}, "profiles": {symbol: CryoProfile},
        "fits": {symbol: ProfileFit}}``; each summary holds ``position_nm``,
        ``position_ci_nm``, ``sigma_nm``... as :meth:`GradientFit.summary`, and, with stripes,
        ``stripes`` statistics.
    """
    if quantity not in ("atomic_fraction", "areal_density"):
        raise ValueError(f"quantity must be 'atomic_fraction' or 'areal_density', got {quantity!r}")
    maps = getattr(result, quantity)
    errors = getattr(result, f"{quantity}_se")
    elements = list(maps) if elements is None else elements
    out: dict[str, Any] = {"elements": {}, "profiles": {}, "fits": {}}
    if line is None and direction is None:
        direction = common_direction([maps[el] for el in maps])
    keep, mask_note = (
        significant_pixels(result)
        if quantity == "atomic_fraction" and hasattr(result, "areal_density")
        else (None, None)
    )
    for element in elements:
        if element not in maps:
            raise KeyError(f"no {quantity} map for {element!r}; have {list(maps)}")
        variance = np.asarray(errors[element].data) ** 2
        source = maps[element]
        if keep is not None and not keep.all():
            source = source.deepcopy()
            source.data = np.where(keep, np.asarray(source.data, dtype=float), np.nan)
            variance = np.where(keep, variance, np.nan)
        if line is not None:
            if width is None:
                raise ValueError("a line profile needs a width")
            profile = line_profile(
                source, line[:2], line[2:], width, variance=variance, n_stripes=n_stripes
            )
        else:
            profile = auto_profile(
                source, variance=variance, n_stripes=n_stripes, direction=direction
            )
        fit = profile.fit_gradient(model=model, n_layers=n_layers, probe_sigma=probe_sigma)
        summary = fit.fit.summary()
        if mask_note:
            summary["notes"] = [mask_note, *summary.get("notes", [])]
        if n_stripes > 1:
            summary["stripes"] = fit.statistics
        out["elements"][element] = summary
        out["profiles"][element] = profile
        out["fits"][element] = fit
    return out


def plot_profiles(profiles: dict[str, Any], title: str = ""):
    """Figure: each element's profile with error bars, fitted curve and 95 % band."""
    import matplotlib.pyplot as plt

    elements = list(profiles["elements"])
    fig, axes = plt.subplots(len(elements), 1, figsize=(8, 2.4 * len(elements)), sharex=True)
    for ax, element in zip(np.atleast_1d(axes), elements, strict=True):
        profile = profiles["profiles"][element]
        fit = profiles["fits"][element].fit
        x = profile.axes_manager.signal_axes[0].axis
        y = np.asarray(profile.data, dtype=float).reshape(-1, x.size)[0]
        var = np.asarray(profile.metadata.Signal.Noise_properties.variance.data).reshape(
            -1, x.size
        )[0]
        ax.errorbar(x, y, yerr=np.sqrt(var), fmt=".", ms=3, color="0.3", lw=0.8, label="profile")
        fine = np.linspace(x[0], x[-1], 400)
        lo, hi = fit.band(fine)
        ax.fill_between(fine, lo, hi, color="C1", alpha=0.3, label="95 % band")
        summary = profiles["elements"][element]
        label = (summary.get("selection") or {}).get("chosen", fit.model) + " fit"
        if summary.get("status", "ok") != "ok":
            label += " (poor fit)"
        ax.plot(fine, fit.evaluate(fine), color="C1", lw=1.5, label=label)
        interfaces = summary.get("interfaces_nm") or [summary.get("position_nm")]
        for position in interfaces:
            if position is not None:
                ax.axvline(position, color="C1", ls=":", lw=1)
        ax.set_ylabel(element)
        ax.legend(fontsize=7, loc="best")
    np.atleast_1d(axes)[-1].set_xlabel("distance (nm)")
    if title:
        np.atleast_1d(axes)[0].set_title(title)
    fig.tight_layout()
    return fig
