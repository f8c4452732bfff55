"""The cryo EDX signal class: exspy's EDSTEMSpectrum with cryospec's dose-aware methods."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from exspy.signals import EDSTEMSpectrum, LazyEDSTEMSpectrum
from exspy.utils.eds import take_off_angle

from cryospec.core.dose import MissingMetadataError
from cryospec.core.edx import line_channels, measure_lines
from cryospec.signals.count_validation import check_counts_in_memory
from cryospec.signals.cryo_signal import CryoSignalMixin
from cryospec.signals.io import names_read_errors
from cryospec.signals.maps import navigation_map

__all__ = ["CryoEDSTEMSpectrum", "LazyCryoEDSTEMSpectrum"]


class CryoEDSTEMSpectrum(CryoSignalMixin, EDSTEMSpectrum):
    """EDX spectrum (image) recorded in a (S)TEM at low dose, ``signal_type="CryoEDS_TEM"``.

    Everything exspy's :class:`~exspy.signals.EDSTEMSpectrum` does works unchanged; cryospec adds
    the acquisition and dose metadata (``metadata.CryoSpec``) and the methods built on them.
    """

    _signal_type = "CryoEDS_TEM"
    _alias_signal_types: ClassVar[list[str]] = ["cryo EDS TEM", "CryoEDSTEMSpectrum"]

    # exspy writes the literal "EDS_TEM" into the metadata and branches on it in a few methods;
    # the overrides below keep the cryo type and take exspy's TEM branch.
    def _set_default_param(self) -> None:
        super()._set_default_param()
        self.metadata.Signal.signal_type = self._signal_type

    def _get_line_energy(self, Xray_line, FWHM_MnKa=None):
        if FWHM_MnKa == "auto":
            FWHM_MnKa = self.metadata.Acquisition_instrument.TEM.Detector.EDS.energy_resolution_MnKa
        return super()._get_line_energy(Xray_line, FWHM_MnKa)

    def get_take_off_angle(self) -> float:
        """Take-off angle of the X-rays in degrees, from the TEM stage and detector metadata."""
        tem = self.metadata.Acquisition_instrument.TEM
        return take_off_angle(
            tem.get_item("Stage.tilt_alpha", None),
            tem.get_item("Detector.EDS.azimuth_angle", None),
            tem.get_item("Detector.EDS.elevation_angle", None),
            tem.get_item("Stage.tilt_beta", 0.0),
        )

    @names_read_errors
    def line_intensities(
        self,
        lines=None,
        count_target: float | None = None,
        integration_fwhm: float = 1.2,
    ) -> dict:
        """Background-subtracted X-ray line intensities with their variance, as maps.

        Lines closer than 3 FWHM to a neighbour (N Ka beside O Ka) are fitted together
        (:func:`cryospec.edx.joint_line_fit`: Gaussian lines on a map-wide continuum shape,
        Poisson ML, Fisher variances). Any other line is integrated over ``integration_fwhm``
        detector FWHM and divided by the
        fraction of a Gaussian line that window holds (the whole line is reported); its
        background is a
        Poisson maximum-likelihood fit on side windows (1 to 2 FWHM from the line, skipping
        every other line of the sample), dose-aware with ``count_target`` (see
        :mod:`cryospec.edx`).

        Parameters
        ----------
        lines : sequence of str, optional
            X-ray lines, e.g. ``["N_Ka", "O_Ka", "P_Ka"]``; default
            ``metadata.Sample.xray_lines``.
        count_target : float, optional
            Counts the side windows of a pooled neighbourhood must hold.
        integration_fwhm : float
            Width of the integration window in FWHM.

        Returns
        -------
        dict
            Line -> map signal, with ``metadata.Signal.Noise_properties.variance``.

        Raises
        ------
        ValueError
            A Li line (EDX does not measure Li: use EELS), a line outside the energy axis or not
            excited by the beam.
        cryospec.dose.MissingMetadataError
            No beam energy or detector resolution in the metadata.
        """
        if lines is None:
            lines = list(self.metadata.get_item("Sample.xray_lines", []))
        if not lines:
            raise ValueError("give the X-ray lines, e.g. ['N_Ka', 'O_Ka', 'P_Ka']")
        for line in lines:
            if line.split("_")[0] == "Li":
                raise ValueError(
                    "lithium cannot be measured by EDX: its K line (54 eV) has a tiny "
                    "fluorescence yield and is absorbed in the detector window and dead layer. "
                    "Map Li by EELS (CryoEELSSpectrum.quantify with the Li_K edge)."
                )
        beam, resolution = self._line_microscope()
        axis = self.axes_manager.signal_axes[0]
        scale = 1.0 if axis.units == "keV" else 1e-3 if axis.units == "eV" else None
        if scale is None:
            raise ValueError(f"the energy axis must be in keV or eV, not {axis.units!r}")
        energy = np.asarray(axis.axis, dtype=float) * scale
        known = {line: _line_energy(line) for line in lines}
        # Every line of every element of the sample (Kb beside Ka too) stays out of the side
        # windows.
        elements = {name.split("_")[0] for name in lines}
        elements |= set(self.metadata.get_item("Sample.elements", []))
        fwhm_of, (first, last) = line_channels(energy, known, resolution, beam)
        data = self.data[..., first:last]
        data = data.compute() if self._lazy else np.asarray(data)
        # X-ray counts are photons: one count is the smallest that means anything
        check_counts_in_memory(
            data, energy[first:last], 1.0, "the EDX spectra", unit="keV", name_empty=False
        )
        results = measure_lines(
            data,
            energy[first:last],
            known,
            fwhm_of,
            _sample_lines(elements),
            resolution,
            integration_fwhm,
            count_target,
        )
        out = {}
        for line in lines:
            value, variance, method = results[line]
            signal = navigation_map(self, value, f"{line} intensity")
            signal.metadata.set_item("Sample.xray_lines", [line])
            signal.metadata.set_item("Sample.elements", [line.split("_")[0]])
            signal.metadata.set_item("CryoSpec.LineIntensity.method", method)
            signal.metadata.set_item(
                "Signal.Noise_properties.variance",
                signal._deepcopy_with_new_data(
                    variance if np.ndim(variance) else np.reshape(variance, 1)
                ),
            )
            out[line] = signal
        return out

    def _line_microscope(self) -> tuple[float, float]:
        """Beam energy (keV) and detector resolution at Mn Ka (eV) from the metadata."""
        tem = self.metadata.get_item("Acquisition_instrument.TEM", None)
        beam = None if tem is None else tem.get_item("beam_energy", None)
        if beam is None:
            raise MissingMetadataError(
                "metadata.Acquisition_instrument.TEM.beam_energy (keV) is not set; set it with "
                "s.set_microscope_parameters(beam_energy=...)"
            )
        resolution = tem.get_item("Detector.EDS.energy_resolution_MnKa", None)
        if resolution is None:
            raise MissingMetadataError(
                "metadata.Acquisition_instrument.TEM.Detector.EDS.energy_resolution_MnKa (eV) "
                "is not set; set it with s.set_microscope_parameters(energy_resolution_MnKa=...)"
            )
        return float(beam), float(resolution)

    def quantify_lines(self, intensities: dict, k_factors: dict) -> dict:
        """Cliff-Lorimer atomic fractions with standard errors from :meth:`line_intensities`.

        The fractions come from exspy's Cliff-Lorimer quantification (weight-fraction
        k-factors, as exspy); their standard errors from the line variances (delta method).
        There is no default k-factor table: cryospec has no sourced one. Measure k-factors on
        a standard of known composition or take them from your detector's software.

        Returns
        -------
        dict
            ``{"atomic_fraction": {element: map}, "atomic_fraction_se": {element: map}}``
            (also under the deprecated key ``"atomic_fraction_std"``, for one release) and
            ``"atomic_fraction_among"``, the elements the fractions are among (the map titles
            name them too: ``"O atomic fraction among N, O, P"``);
            NaN where the lines together are not above three standard errors (no quantified
            element present, e.g. Li metal), so that profiles and averages leave those out.

        Raises
        ------
        ValueError
            A k-factor missing for a requested element.
        """
        from exspy.material import elements as exspy_elements

        from cryospec.core.edx import cliff_lorimer_atomic
        from cryospec.signals.maps import fraction_title

        lines = list(intensities)
        elements = [line.split("_")[0] for line in lines]
        missing = [el for el in elements if el not in k_factors]
        if missing:
            raise ValueError(
                f"no k-factor for {', '.join(missing)}: cryospec has no sourced default table; "
                "give k_factors={element: value} measured on a standard"
            )
        for element in elements:
            value = k_factors[element]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ValueError(f"the k-factor of {element} must be a number, got {value!r}")
            if not (np.isfinite(value) and value > 0):
                raise ValueError(
                    f"the k-factor of {element} must be a positive number, got {value!r}"
                )
        maps = [intensities[line] for line in lines]
        import hyperspy.api as hs

        # HyperSpy's stack of the variance metadata inside exspy ignores show_progressbar and
        # reads the preference: silence it for this call only.
        preference = hs.preferences.General.show_progressbar
        hs.preferences.General.show_progressbar = False
        try:
            # exspy divides by the summed weights, 0 where no element is present: those pixels
            # are set to NaN below, on purpose, so its warning would say nothing new.
            with np.errstate(invalid="ignore", divide="ignore"):
                composition = self.quantification(
                    maps,
                    method="CL",
                    factors=[k_factors[el] for el in elements],
                    composition_units="atomic",
                    plot_result=False,
                    show_progressbar=False,
                )
        finally:
            hs.preferences.General.show_progressbar = preference
        values = np.stack([np.asarray(m.data, dtype=float) for m in maps], axis=-1)
        variances = np.stack(
            [np.asarray(m.metadata.Signal.Noise_properties.variance.data, float) for m in maps],
            axis=-1,
        )
        weights = [exspy_elements[el].General_properties.atomic_weight for el in elements]
        _, fraction_std = cliff_lorimer_atomic(
            values, variances, [k_factors[el] for el in elements], weights
        )
        # Where the lines together hold no significant signal (no N, O or P: the Li metal) the
        # fractions are undefined, not noise ratios: NaN, which profiles leave out.
        total, total_var = values.sum(axis=-1), variances.sum(axis=-1)
        undefined = ~(total > 3.0 * np.sqrt(np.maximum(total_var, 0.0)))
        fraction_std = np.where(undefined[..., None], np.nan, fraction_std)
        out = {"atomic_fraction": {}, "atomic_fraction_se": {}}
        for i, (element, signal) in enumerate(zip(elements, composition, strict=True)):
            signal.data = np.where(undefined, np.nan, signal.data / 100.0)  # exspy: per cent
            signal.metadata.General.title = fraction_title(element, elements)
            error = signal._deepcopy_with_new_data(fraction_std[..., i])
            error.metadata.General.title = fraction_title(
                element, elements, "atomic fraction standard error"
            )
            signal.metadata.set_item(
                "Signal.Noise_properties.variance",
                signal._deepcopy_with_new_data(fraction_std[..., i] ** 2),
            )
            out["atomic_fraction"][element] = signal
            out["atomic_fraction_se"][element] = error
        out["atomic_fraction_std"] = out["atomic_fraction_se"]  # deprecated spelling
        out["atomic_fraction_among"] = list(elements)
        return out


def _line_energy(line: str) -> float:
    """Energy (keV) of an X-ray line from exspy's table."""
    from exspy.material import elements as exspy_elements

    element, name = line.split("_")
    try:
        return float(exspy_elements[element].Atomic_properties.Xray_lines[name]["energy (keV)"])
    except (KeyError, AttributeError) as exc:
        raise ValueError(f"unknown X-ray line {line!r}") from exc


def _sample_lines(elements) -> dict[str, float]:
    """Every X-ray line (weight above 1 %) of the given elements, by name, in keV."""
    from exspy.material import elements as exspy_elements

    lines = {}
    for element in elements:
        if element not in exspy_elements:
            continue
        family = exspy_elements[element].Atomic_properties.Xray_lines
        for name in family.keys():
            if family[name]["weight"] > 0.01:
                lines[f"{element}_{name}"] = float(family[name]["energy (keV)"])
    return lines


class LazyCryoEDSTEMSpectrum(CryoEDSTEMSpectrum, LazyEDSTEMSpectrum):
    """Lazy (Dask-backed) twin of :class:`CryoEDSTEMSpectrum`."""
