"""The map's mean spectrum with what the quantification fitted to it: the model and its
background (model fit), the edges' onsets, the channels left out and the windows used, for a
figure that shows what the numbers come from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cryospec.core.background import fit_background
from cryospec.core.quantify import ModelCurves, anchor_windows_eV, quantification_window
from cryospec.edges import Edge

__all__ = ["EdgeMarks", "SpectrumFit", "spectrum_fit"]


@dataclass
class EdgeMarks:
    """Where one quantified edge sits on the spectrum (eV): its onset, the region above it
    left out of the model fit (``None`` for the integration method), its integration window
    and its background windows."""

    name: str
    onset_eV: float
    left_out_eV: tuple[float, float] | None
    integration_eV: tuple[float, float]
    background_eV: list[tuple[float, float]]


@dataclass
class SpectrumFit:
    """The mean spectrum of a map (electrons per channel and pixel) and the model fitted to
    the map's summed spectrum, on the same scale.

    Attributes
    ----------
    method : str
        ``"model"`` or ``"integration"``.
    energy, counts : ndarray (n,)
        The energy axis (eV) and the mean spectrum.
    n_pixels : int
        The pixels averaged.
    curves : list of ModelCurves
        Model fit: the model and background of each fit range (none for integration).
    edges : list of EdgeMarks
        The quantified edges.
    anchor_eV : list of (float, float)
        Model fit: the windows that start the power law below every edge.
    reduced_deviance : float or None
        Model fit: Poisson deviance per degree of freedom of the summed spectrum's fit.
    """

    method: str
    energy: NDArray
    counts: NDArray
    n_pixels: int
    edges: list[EdgeMarks]
    curves: list[ModelCurves] = field(default_factory=list)
    anchor_eV: list[tuple[float, float]] = field(default_factory=list)
    reduced_deviance: float | None = None

    def plot(self, title: str = ""):
        """The spectrum (log scale when it spans more than a decade and a half), the model and
        its background, onsets and windows marked, and below it the residual in standard
        deviations of Poisson counts (fitted channels only). Returns the Matplotlib figure."""
        import matplotlib.pyplot as plt

        fig, (top, bottom) = plt.subplots(
            2, 1, figsize=(9, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
        )
        top.plot(self.energy, self.counts, color="0.35", lw=0.9, ds="steps-mid", label="data")
        self._shade(top)
        for k, curve in enumerate(self.curves):
            model = curve.model
            if curve.edges:
                top.plot(curve.energy, model, color="C3", lw=1.3, label="model" if k == 0 else None)
            top.plot(
                curve.energy,
                curve.background,
                color="C0",
                lw=1.1,
                ls="--",
                label="background" if k == 0 else None,
            )
            data = np.interp(curve.energy, self.energy, self.counts)
            # Poisson deviations of the sum, scaled back to the mean spectrum
            sd = np.sqrt(np.clip(model, 1e-300, None) / self.n_pixels)
            residual = np.where(curve.fitted, (data - model) / sd, np.nan)
            bottom.plot(curve.energy, residual, color="C3", lw=0.8, ds="steps-mid")
        positive = self.counts[self.counts > 0]
        if positive.size and positive.max() > 30 * np.percentile(positive, 5):
            top.set_yscale("log")
            top.set_ylim(np.percentile(positive, 0.5) / 2, positive.max() * 2)
        for edge in self.edges:
            top.axvline(edge.onset_eV, color="k", lw=0.7, ls=":")
            top.annotate(
                edge.name.replace("_", " "),
                (edge.onset_eV, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -12),
                textcoords="offset points",
                fontsize=10,
            )
        top.set_ylabel("electrons per channel\n(mean pixel)", fontsize=11)
        top.legend(fontsize=9, loc="lower left")
        top.set_title(title or self._title(), fontsize=11)
        bottom.axhline(0, color="k", lw=0.6)
        bottom.set_ylabel("residual (SD)", fontsize=11)
        bottom.set_xlabel("energy loss (eV)", fontsize=11)
        if self.method != "model":
            bottom.text(
                0.02, 0.85, "integration method: residual of each background window",
                transform=bottom.transAxes, fontsize=9,
            )  # fmt: skip
        for ax in (top, bottom):
            ax.tick_params(labelsize=10)
        fig.tight_layout()
        return fig

    def _shade(self, ax) -> None:
        """Background windows (blue), left-out near-edge regions or integration windows."""
        labelled = set()

        def span(lo, hi, color, label):
            ax.axvspan(
                lo, hi, color=color, alpha=0.18, lw=0, label=None if label in labelled else label
            )
            labelled.add(label)

        if self.method == "model":
            for lo, hi in self.anchor_eV:
                span(lo, hi, "C0", "background window")
            for edge in self.edges:
                if edge.left_out_eV is not None:
                    span(*edge.left_out_eV, "0.5", "left out of the fit")
        else:
            for edge in self.edges:
                for lo, hi in edge.background_eV:
                    span(lo, hi, "C0", "background window")
                span(*edge.integration_eV, "C2", "integration window")

    def _title(self) -> str:
        text = f"mean spectrum of {self.n_pixels} pixel{'s' if self.n_pixels != 1 else ''}"
        if self.reduced_deviance is not None:
            text += f"; model fit of the summed spectrum, deviance/dof {self.reduced_deviance:.2f}"
        return text


def spectrum_fit(
    method: str,
    energy: NDArray,
    summed: NDArray,
    n_pixels: int,
    entries: list[Edge],
    near_edge_eV: dict[str, float],
    anchor_windows: list[tuple[float, float]] | None = None,
    summed_fit=None,
    background_model: str = "power_law",
) -> SpectrumFit:
    """The :class:`SpectrumFit` of a quantification: ``summed`` is the map's summed spectrum
    in electrons and ``summed_fit`` the model fitted to it (with ``keep_curves``); for the
    integration method each edge's ``background_model`` fitted in its windows of the summed
    spectrum, drawn up to the end of its integration window."""
    energy = np.asarray(energy, dtype=float)
    summed = np.asarray(summed, dtype=float)
    scale = 1.0 / max(int(n_pixels), 1)
    marks = [
        EdgeMarks(
            name=e.name,
            onset_eV=float(e.onset_eV),
            left_out_eV=(e.onset_eV, e.onset_eV + near_edge_eV[e.name])
            if method == "model"
            else None,
            integration_eV=tuple(quantification_window(e)),
            background_eV=[tuple(w) for w in e.background_windows_eV],
        )
        for e in entries
    ]
    curves, deviance = [], None
    if summed_fit is not None:
        curves = [
            ModelCurves(
                energy=c.energy,
                fitted=c.fitted,
                background=c.background * scale,
                edges={k: v * scale for k, v in c.edges.items()},
            )
            for c in summed_fit.curves
        ]
        deviance = float(np.asarray(summed_fit.reduced_deviance).reshape(-1)[0])
    elif method != "model":
        fitted = (_window_background(energy, summed * scale, m, background_model) for m in marks)
        curves = [c for c in fitted if c is not None]
    return SpectrumFit(
        method=method,
        energy=energy,
        counts=summed * scale,
        n_pixels=int(n_pixels),
        edges=marks,
        curves=curves,
        anchor_eV=anchor_windows_eV(entries, anchor_windows) if method == "model" else [],
        reduced_deviance=deviance,
    )


def _window_background(energy, counts, mark: EdgeMarks, model: str) -> ModelCurves | None:
    """``model`` fitted to ``counts`` in the edge's background windows, from the first window
    to the end of its integration window (None where the windows hold negative counts)."""
    window = np.zeros(energy.shape, dtype=bool)
    for lo, hi in mark.background_eV:
        window |= (energy >= lo) & (energy <= hi)
    if window.sum() < 3 or np.any(counts[window] < 0):
        return None
    span = (energy >= energy[window][0]) & (energy <= mark.integration_eV[1])
    fit = fit_background(counts[window], energy[window], model=model)
    return ModelCurves(
        energy=energy[span],
        fitted=window[span],
        background=np.asarray(fit.evaluate(energy[span]), dtype=float),
        edges={},
    )
