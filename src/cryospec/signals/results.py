"""The result types of the signal methods: maps as HyperSpy signals, with their standard errors.

Every standard error is spelled ``<quantity>_se``; the ``_std`` spellings of earlier releases
remain as deprecated aliases for one release.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hyperspy.signal import BaseSignal

from cryospec.core.background import BackgroundFit
from cryospec.core.gradients import GradientFit
from cryospec.core.poisson_fit import PowerLawEdgesFit
from cryospec.signals.spectrum_fit import SpectrumFit

__all__ = [
    "BackgroundResult",
    "DoseSeriesResult",
    "PhaseMapResult",
    "ProfileFit",
    "QuantificationResult",
]


def _deprecated(result, old: str, new: str):
    warnings.warn(
        f"{type(result).__name__}.{old} is now {new} (the standard error); {old} goes in the "
        "next release",
        FutureWarning,
        stacklevel=3,
    )
    return getattr(result, new)


@dataclass
class BackgroundResult:
    """Fitted background parameters as signals over the navigation space.

    Attributes
    ----------
    amplitude, amplitude_se : BaseSignal
        Background at ``reference_eV`` in counts per channel, and its standard error.
    shape, shape_se : BaseSignal
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
    amplitude_se: BaseSignal
    shape: BaseSignal
    shape_se: BaseSignal
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

    @property
    def amplitude_std(self):
        """Deprecated: the standard error is ``amplitude_se``."""
        return _deprecated(self, "amplitude_std", "amplitude_se")

    @property
    def shape_std(self):
        """Deprecated: the standard error is ``shape_se``."""
        return _deprecated(self, "shape_std", "shape_se")

    def window_sum_variance(self, lo: float, hi: float) -> np.ndarray:
        """Variance (counts²) of the subtracted background summed over ``[lo, hi]`` eV.

        The channels' background errors are fully correlated through the fit parameters, so
        this is not the sum of the per-channel variances.
        """
        window = (self._energy >= lo) & (self._energy <= hi)
        value = self._evaluator.window_sum_variance(self.fit, self._extra, self._energy, window)
        return self._gain**2 * value


@dataclass
class QuantificationResult:
    """Maps of a quantification, keyed by element symbol.

    Attributes
    ----------
    method : str
        ``"model"`` or ``"integration"``.
    edges : tuple of str
        The edges quantified (one per element).
    units : str
        ``"atoms/nm²"`` (absolute: the low-loss integral or the dose metadata gave the incident
        electrons) or ``"relative"``.
    areal_density, areal_density_se : dict of BaseSignal
        Areal density per element and its standard error.
    atomic_fraction, atomic_fraction_se : dict of BaseSignal
        Atomic fraction among the quantified elements and its standard error.
    t_over_lambda : BaseSignal or None
        Relative thickness from the low loss (log-ratio).
    residual : BaseSignal or None
        Model fit: Poisson deviance per degree of freedom (about 1 when the model fits).
    background_exponent : BaseSignal or None
        Model fit: the power-law exponent.
    incident_electrons : BaseSignal
        Electrons per pixel used for the absolute scale.
    near_edge_eV : dict
        Width above each onset left out of the model fit.
    overlap_amplitude : dict of BaseSignal
        Model fit: amplitude of each nuisance edge (the M2,3 edges under Li K); not an areal
        density.
    cross_section : dict
        The cross-sections used: ``choice``, ``method`` and, per edge, its partial
        cross-section over the integration window (barn).
    notes : list of str
        What the quantification assumed or changed on the way (a resampled low loss, an
        exposure ratio applied or assumed).
    fit_health : dict
        What the numbers are worth (:func:`cryospec.core.fit_health.fit_health`): the share of
        poorly fitted pixels and, per element, detected or not (with a 95 % upper limit); each
        problem is also a warning when ``quantify`` returns.
    fit_ranges : str
        Model fit: ``"local"`` (each edge from its own range) or ``"global"``.
    noise : dict
        How the counts were treated (:mod:`cryospec.signals.quantify_noise`): the
        ``negative`` choice, the number and share of negative counts, the read noise used
        (counts) and its source.
    spectrum_fit : SpectrumFit or None
        The map's mean spectrum with the model fitted to its sum, the onsets and the windows
        (:class:`cryospec.signals.spectrum_fit.SpectrumFit`; ``spectrum_fit.plot()`` draws it).
    """

    method: str
    edges: tuple[str, ...]
    units: str
    areal_density: Mapping[str, BaseSignal]
    areal_density_se: Mapping[str, BaseSignal]
    atomic_fraction: Mapping[str, BaseSignal]
    atomic_fraction_se: Mapping[str, BaseSignal]
    t_over_lambda: BaseSignal | None
    residual: BaseSignal | None
    background_exponent: BaseSignal | None
    incident_electrons: BaseSignal
    near_edge_eV: dict[str, float] = field(default_factory=dict)
    overlap_amplitude: Mapping[str, BaseSignal] = field(default_factory=dict)
    cross_section: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    fit_health: dict[str, Any] = field(default_factory=dict)
    fit_ranges: str = ""
    noise: dict[str, Any] = field(default_factory=dict)
    spectrum_fit: SpectrumFit | None = None

    @property
    def areal_density_std(self):
        """Deprecated: the standard error is ``areal_density_se``."""
        return _deprecated(self, "areal_density_std", "areal_density_se")

    @property
    def atomic_fraction_std(self):
        """Deprecated: the standard error is ``atomic_fraction_se``."""
        return _deprecated(self, "atomic_fraction_std", "atomic_fraction_se")

    def summary(self) -> dict[str, Any]:
        """Per element: mean and standard deviation over the map of the areal density and of
        the atomic fraction, and the median standard error. The fractions are among the
        quantified elements only, listed in ``"atomic_fraction_among"``."""
        out: dict[str, Any] = {"method": self.method, "units": self.units, "elements": {}}
        if self.cross_section:
            out["cross_section"] = self.cross_section
        if self.fit_ranges:
            out["fit_ranges"] = self.fit_ranges
        if self.notes:
            out["notes"] = list(self.notes)
        if self.fit_health:
            out["fit_health"] = self.fit_health
        if self.noise:
            out["noise"] = self.noise
        out["atomic_fraction_among"] = list(self.areal_density)
        with warnings.catch_warnings():
            # a map with no defined value (fractions where nothing is detected) gives NaN: the
            # fit-health warnings of the quantification already say why
            warnings.simplefilter("ignore", RuntimeWarning)
            for element in self.areal_density:
                d = np.asarray(self.areal_density[element].data)
                f = np.asarray(self.atomic_fraction[element].data)
                out["elements"][element] = {
                    "areal_density_mean": float(np.nanmean(d)),
                    "areal_density_std": float(np.nanstd(d)),
                    "areal_density_median_standard_error": float(
                        np.nanmedian(self.areal_density_se[element].data)
                    ),
                    "atomic_fraction_mean": float(np.nanmean(f)),
                    "atomic_fraction_std": float(np.nanstd(f)),
                    "atomic_fraction_median_standard_error": float(
                        np.nanmedian(self.atomic_fraction_se[element].data)
                    ),
                }
        return out

    def stack(self) -> BaseSignal:
        """All maps in one signal (navigation axis ``quantity``), e.g. to save as ``.hspy``;
        the map names (``areal_density:Li``, ``areal_density_se:Li`` for its standard error,
        ...) are in ``metadata.CryoSpec.Quantification.maps``, in the order of the axis."""
        import hyperspy.api as hs

        maps, names = [], []
        for label, group in (
            ("areal_density", self.areal_density),
            ("areal_density_se", self.areal_density_se),
            ("atomic_fraction", self.atomic_fraction),
            ("atomic_fraction_se", self.atomic_fraction_se),
        ):
            for element, signal in group.items():
                maps.append(signal)
                names.append(f"{label}:{element}")
        for label, signal in (
            ("t_over_lambda", self.t_over_lambda),
            ("residual", self.residual),
            ("background_exponent", self.background_exponent),
        ):
            if signal is not None:
                maps.append(signal)
                names.append(label)
        stacked = hs.stack(maps, new_axis_name="quantity", show_progressbar=False)
        stacked.metadata.General.title = "cryospec quantification"
        stacked.metadata.set_item(
            "CryoSpec.Quantification",
            {"maps": names, "method": self.method, "units": self.units, "edges": list(self.edges)},
        )
        return stacked


@dataclass
class PhaseMapResult:
    """Maps of a reference-spectrum fit, keyed by phase name.

    Attributes
    ----------
    names : tuple of str
        The phases (the references' keys).
    amount, amount_se : mapping of str to BaseSignal
        Coefficient of each reference per pixel (counts per unit of the reference: with
        references per Li atom, proportional to the Li atoms of that phase) and standard error.
    fraction, fraction_se : mapping of str to BaseSignal
        Share of each phase among the fitted amounts and its standard error (delta method on the
        Fisher covariance).
    residual : BaseSignal
        Poisson deviance per degree of freedom (about 1 when the references describe the data).
    signal_range : (float, float)
        The fitted energy range; below ``background_end_eV`` only the power law.
    background_end_eV : float
    noise : dict
        How the counts were treated (:mod:`cryospec.signals.quantify_noise`).
    """

    names: tuple[str, ...]
    amount: Mapping[str, BaseSignal]
    amount_se: Mapping[str, BaseSignal]
    fraction: Mapping[str, BaseSignal]
    fraction_se: Mapping[str, BaseSignal]
    residual: BaseSignal
    signal_range: tuple[float, float]
    background_end_eV: float
    noise: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Per phase: mean and standard deviation of the fraction over the map, and its median
        standard error."""
        out = {}
        for name in self.names:
            f = np.asarray(self.fraction[name].data, dtype=float)
            out[name] = {
                "fraction_mean": float(np.nanmean(f)),
                "fraction_std": float(np.nanstd(f)),
                "fraction_median_standard_error": float(np.nanmedian(self.fraction_se[name].data)),
            }
        return out


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
    zero_dose, zero_dose_se : BaseSignal
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
    zero_dose_se: BaseSignal
    reduced_chi2: float

    @property
    def zero_dose_std(self):
        """Deprecated: the standard error is ``zero_dose_se``."""
        return _deprecated(self, "zero_dose_std", "zero_dose_se")


@dataclass
class ProfileFit:
    """Gradient fits of every stripe of a profile, and their statistics over the stripes.

    Attributes
    ----------
    fits : list of GradientFit
        One per stripe (one for a single profile).
    statistics : dict
        For every scalar derived quantity: ``mean``, ``std`` over the stripes and ``values``.
    """

    fits: list[GradientFit]
    statistics: dict[str, dict[str, Any]]

    @property
    def fit(self) -> GradientFit:
        """The fit of the first (or only) stripe."""
        return self.fits[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"fits": [f.to_dict() for f in self.fits], "statistics": self.statistics}
