"""Dose series of a cryo EELS signal: edge signals frame by frame against cumulative dose, the
decay fit and the maps extrapolated to zero dose (:meth:`DoseSeriesMethods.fit_dose_series`; the
fit is :func:`cryospec.core.dose_series.fit_dose_decay`)."""

from __future__ import annotations

import numpy as np

from cryospec.core.dose_series import fit_dose_decay
from cryospec.edges import get_edge
from cryospec.signals.eels_background import background_subtracted_sum
from cryospec.signals.maps import navigation_map
from cryospec.signals.results import DoseSeriesResult

__all__ = ["DoseSeriesMethods"]


class DoseSeriesMethods:
    """The ``fit_dose_series`` method of :class:`~cryospec.signals.CryoEELSSpectrum`."""

    def fit_dose_series(
        self,
        edges,
        count_target: float | None = None,
        fit_floor: bool = True,
        model: str = "power_law",
    ) -> dict[str, DoseSeriesResult]:
        """Edge signals of a dose-fractionated acquisition against cumulative dose.

        The frames (a navigation axis named ``"frame"``, each of dose
        :meth:`frame_dose`) are background-subtracted one by one (:meth:`subtract_background`
        with the edge's windows) and integrated over the edge's window. The decay
        ``floor + (1 - floor) exp(-D / D_c)``, averaged over each frame's dose range, is fitted
        with one critical dose per edge (a property of the material) and one zero-dose signal
        per pixel (see :mod:`cryospec.dose_series`).

        Parameters
        ----------
        edges : str or sequence of str
            Edge names (``"Li_K"``, ``"P_L23"``, ``"O_K"``...).
        count_target : float, optional
            Dose-aware background fit of each frame (see :meth:`subtract_background`).
        fit_floor : bool
            Fit a residual fraction at infinite dose (mass loss to a floor).
        model : str
            Background model.

        Returns
        -------
        dict
            Edge name -> :class:`~cryospec.signals.DoseSeriesResult` with
            the critical dose and its 95 % interval, the per-frame signals, and the maps
            extrapolated to zero dose with their standard errors.
        """
        axis = self.frame_axis()
        if axis is None:
            raise ValueError(
                "fit_dose_series needs a dose-fractionated acquisition: a navigation axis named "
                "'frame' (rename yours with s.axes_manager[i].name = 'frame')"
            )
        if self._lazy:
            raise NotImplementedError("fit_dose_series works on in-memory signals; call compute()")
        names = [edges] if isinstance(edges, str) else list(edges)
        frame_dose = self.frame_dose()
        self.detector_gain()  # a missing gain is an error before any frame is fitted
        n_frames = axis.size
        energy = self.axes_manager.signal_axes[0].axis
        results = {}
        for name in names:
            edge = get_edge(name)
            lo, hi = edge.integration_window_eV
            window = (energy >= lo) & (energy <= hi)
            if not window.any():
                raise ValueError(f"the {edge.name} integration window lies outside the energy axis")
            values, variances = [], []
            for k in range(n_frames):
                value, variance = background_subtracted_sum(
                    _frame(self, axis, k), edge.name, lo, hi, model=model, count_target=count_target
                )
                values.append(value)
                variances.append(variance)
            values, variances = np.array(values), np.array(variances)
            nav_shape = values.shape[1:]
            decay = fit_dose_decay(
                values.reshape(n_frames, -1), variances.reshape(n_frames, -1), frame_dose, fit_floor
            )
            frame_signals = navigation_map(
                self, np.moveaxis(values, 0, axis.index_in_array), f"{edge.name} signal per frame"
            )
            template = _frame(self, axis, 0)

            def nav_map(data, title, template=template, nav_shape=nav_shape):
                return navigation_map(template, data.reshape(nav_shape), title)

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
                zero_dose_se=nav_map(
                    decay.zero_dose_se, f"standard error of the zero-dose {edge.name}"
                ),
                reduced_chi2=decay.reduced_chi2,
            )
        return results


def _frame(signal, axis, k):
    index = [slice(None)] * signal.axes_manager.navigation_dimension
    index[axis.index_in_axes_manager] = k
    return signal.inav[tuple(index)]
