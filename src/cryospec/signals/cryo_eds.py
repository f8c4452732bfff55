"""The cryo EDX signal class: exspy's EDSTEMSpectrum with cryospec's dose-aware methods."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from exspy.signals import EDSTEMSpectrum, LazyEDSTEMSpectrum
from exspy.utils.eds import take_off_angle

from cryospec.core.dose import MissingMetadataError
from cryospec.core.edx import fwhm_keV, line_channels, measure_lines
from cryospec.core.edx_calibration import calibrate_lines
from cryospec.signals.count_validation import check_counts_in_memory
from cryospec.signals.cryo_signal import CryoSignalMixin
from cryospec.signals.io import names_read_errors
from cryospec.signals.maps import navigation_map

__all__ = ["CryoEDSTEMSpectrum", "LazyCryoEDSTEMSpectrum", "xray_line_energy"]


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
        calibrate: bool = True,
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
        calibrate : bool
            Measure the energy offset and gain and the resolution on the requested lines that
            stand alone with enough counts in the summed spectrum
            (:func:`cryospec.core.edx_calibration.calibrate_lines`) and place the windows there;
            what was measured is in ``metadata.CryoSpec.LineIntensity.calibration``. With
            False, the tabulated energies and the recorded resolution are used as they are.

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
        recorded_resolution = resolution
        energy = self._energy_keV()
        known = {line: xray_line_energy(line) for line in lines}
        # Every line of every element of the sample (Kb beside Ka too) stays out of the side
        # windows.
        elements = {name.split("_")[0] for name in lines}
        elements |= set(self.metadata.get_item("Sample.elements", []))
        sample = _sample_lines(elements)
        fwhm_of, (first, last) = line_channels(energy, known, resolution, beam)
        data = self.data[..., first:last]
        data = data.compute() if self._lazy else np.asarray(data)
        # X-ray counts are photons: one count is the smallest that means anything
        check_counts_in_memory(
            data, energy[first:last], 1.0, "the EDX spectra", unit="keV", name_empty=False
        )
        calibration = None
        if calibrate:
            summed = data.reshape(-1, data.shape[-1]).sum(axis=0)
            calibration = calibrate_lines(summed, energy[first:last], known, sample, resolution)
        if calibration is not None:
            known = {line: calibration.energy(e) for line, e in known.items()}
            sample = {line: calibration.energy(e) for line, e in sample.items()}
            resolution = calibration.resolution_eV
            fwhm_of = {line: fwhm_keV(e, resolution) for line, e in known.items()}
        results = measure_lines(
            data,
            energy[first:last],
            known,
            fwhm_of,
            sample,
            resolution,
            integration_fwhm,
            count_target,
            {line: _family_members(line, e) for line, e in known.items()},
        )
        out = {}
        for line in lines:
            value, variance, method = results[line]
            signal = navigation_map(self, value, f"{line} intensity")
            signal.metadata.set_item("Sample.xray_lines", [line])
            signal.metadata.set_item("Sample.elements", [line.split("_")[0]])
            signal.metadata.set_item("CryoSpec.LineIntensity.method", method)
            if calibration is not None:
                signal.metadata.set_item(
                    "CryoSpec.LineIntensity.calibration",
                    {
                        "offset_keV": calibration.offset_keV,
                        "gain": calibration.gain,
                        "resolution_MnKa_eV": calibration.resolution_eV,
                        "recorded_resolution_MnKa_eV": recorded_resolution,
                        "lines_fitted": sorted(calibration.fitted),
                    },
                )
            signal.metadata.set_item(
                "Signal.Noise_properties.variance",
                signal._deepcopy_with_new_data(
                    variance if np.ndim(variance) else np.reshape(variance, 1)
                ),
            )
            out[line] = signal
        return out

    def suggest_lines(self, n: int = 6) -> list[tuple[float, list[str]]]:
        """The summed spectrum's strongest peaks and the K, L and M lines near each.

        Returns
        -------
        list of (float, list of str)
            Peak energy (keV) and up to three lines within one detector FWHM, nearest first
            (exspy's table): candidates to choose from, not an identification.
        """
        from exspy.utils.eds import get_xray_lines_near_energy

        from cryospec.core.edx_calibration import strong_peaks

        _, resolution = self._line_microscope()
        energy = self._energy_keV()
        summed = self.data.reshape(-1, self.data.shape[-1]).sum(axis=0)
        summed = np.asarray(summed.compute() if self._lazy else summed, dtype=float)
        out = []
        for peak in strong_peaks(summed, energy, resolution, n):
            width = fwhm_keV(peak, resolution)
            near = get_xray_lines_near_energy(peak, width, only_lines=("a",))
            near = sorted(near, key=lambda line: abs(xray_line_energy(line) - peak))[:3]
            out.append((round(peak, 3), near))
        return out

    def _energy_keV(self) -> np.ndarray:
        """The energy axis in keV (an axis in eV converted)."""
        axis = self.axes_manager.signal_axes[0]
        scale = 1.0 if axis.units == "keV" else 1e-3 if axis.units == "eV" else None
        if scale is None:
            raise ValueError(f"the energy axis must be in keV or eV, not {axis.units!r}")
        return np.asarray(axis.axis, dtype=float) * scale

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

    def quantify_lines(
        self,
        intensities: dict,
        k_factors: dict | str | None = "theoretical",
        detector=None,
        absorption: str = "auto",
        mass_thickness=None,
        solid_angle_sr: float | None = None,
    ) -> dict:
        """Cliff-Lorimer atomic fractions with standard errors from :meth:`line_intensities`.

        Parameters
        ----------
        intensities : dict
            Line -> map, from :meth:`line_intensities`.
        k_factors : "theoretical", dict or None
            Weight-fraction k-factors (as exspy) by element, or ``"theoretical"`` (also None):
            computed from the physics of X-ray generation and detection at the beam energy
            (:func:`cryospec.core.k_factors.theoretical_k_factors`), for ``detector``.
        detector : str or Detector, optional
            ``"windowless"``, ``"polymer"``, ``"Si3N4"`` or a
            :class:`~cryospec.core.xray_detection.Detector`. Default: windowless when the file
            names a Super-X, Dual-X or Ultra-X detector, else ``"polymer"`` (with a warning when
            a line lies below 1.1 keV, where the window matters most).
        absorption : {"auto", "none"}
            Correct each line's absorption in the film. With ``mass_thickness`` given, that;
            else, with theoretical k-factors, the dose (beam current x live time) and the
            detector's solid angle known, the mass thickness of every pixel is found by the
            zeta-factor method, iterated with the composition. Without either the fractions are
            not absorption-corrected and ``"absorption"`` in the result says so.
        mass_thickness : float or ndarray, optional
            g/cm² (density x thickness), scalar or per pixel; from the EELS t/lambda of the
            same area with :func:`cryospec.signals.eds_k_factors.mass_thickness_from_t_over_lambda`.
        solid_angle_sr : float, optional
            Detector solid angle, when the file does not record it.

        Returns
        -------
        dict
            ``{"atomic_fraction": {element: map}, "atomic_fraction_se": {element: map}}``
            (also under the deprecated key ``"atomic_fraction_std"``, for one release),
            ``"atomic_fraction_among"``, the elements the fractions are among (the map titles
            name them too: ``"O atomic fraction among N, O, P"``), ``"k_factors"`` (values and
            provenance) and ``"absorption"`` (method, mass thickness, factors); NaN where the
            lines together are not above three standard errors (no quantified element present,
            e.g. Li metal), so that profiles and averages leave those out. The standard errors
            are the counting errors; the k-factors' own uncertainty is in ``"k_factors"``.

        Raises
        ------
        ValueError
            A k-factor missing or invalid, an unknown detector preset.
        """
        from exspy.material import elements as exspy_elements

        from cryospec.core.edx import cliff_lorimer_atomic
        from cryospec.signals.eds_k_factors import resolve_detector, resolve_k_factors
        from cryospec.signals.maps import fraction_title

        if absorption not in ("auto", "none"):
            raise ValueError(f"absorption must be 'auto' or 'none', not {absorption!r}")
        lines = list(intensities)
        elements = [line.split("_")[0] for line in lines]
        beam, _ = self._line_microscope()
        det, det_origin = resolve_detector(self, detector)
        k_by_element, provenance, theory = resolve_k_factors(
            lines, k_factors, beam, det, det_origin
        )
        maps = [intensities[line] for line in lines]
        values = np.stack([np.asarray(m.data, dtype=float) for m in maps], axis=-1)
        variances = np.stack(
            [np.asarray(m.metadata.Signal.Noise_properties.variance.data, float) for m in maps],
            axis=-1,
        )
        weights = [exspy_elements[el].General_properties.atomic_weight for el in elements]
        k = np.array([k_by_element[el] for el in elements])
        absorbed = self._absorption(
            absorption, values, k, lines, theory, mass_thickness, solid_angle_sr
        )
        emitted = absorbed.pop("factors")
        if emitted is not None:
            k = k / emitted  # the emitted share of each line, per pixel
        fraction, fraction_std = cliff_lorimer_atomic(values, variances, k, weights)
        # Where the lines together hold no significant signal (no N, O or P: the Li metal) the
        # fractions are undefined, not noise ratios: NaN, which profiles leave out.
        total, total_var = values.sum(axis=-1), variances.sum(axis=-1)
        undefined = ~(total > 3.0 * np.sqrt(np.maximum(total_var, 0.0)))
        fraction_std = np.where(undefined[..., None], np.nan, fraction_std)
        provenance["values"] = dict(k_by_element)
        out = {"atomic_fraction": {}, "atomic_fraction_se": {}}
        for i, (element, line_map) in enumerate(zip(elements, maps, strict=True)):
            # the line's map with its metadata (as exspy's composition maps), new data
            signal = line_map._deepcopy_with_new_data(np.where(undefined, np.nan, fraction[..., i]))
            signal.metadata.General.title = fraction_title(element, elements)
            signal.metadata.set_item("CryoSpec.EDX.k_factors", provenance)
            signal.metadata.set_item("CryoSpec.EDX.absorption", absorbed["method"])
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
        out["k_factors"] = provenance
        out["absorption"] = absorbed
        return out

    def _absorption(self, absorption, values, k, lines, theory, mass_thickness, solid_angle_sr):
        """Absorption factors (..., J) of the lines in the film, or None, with what was done."""
        from cryospec.core.k_factors import absorption_corrected_weights, zeta_mass_thickness
        from cryospec.signals.eds_k_factors import dose_electrons, solid_angle, take_off_angle

        none = {"method": "none", "factors": None}
        if absorption == "none":
            return none
        take_off, take_off_from = take_off_angle(self)
        elements = [line.split("_")[0] for line in lines]
        if mass_thickness is not None:
            rho_t = np.asarray(mass_thickness, dtype=float)
            if np.any(~np.isfinite(rho_t)) or np.any(rho_t < 0):
                raise ValueError("the mass thickness must be finite and not negative (g/cm²)")
            energies = [
                theory[line].energy_keV if theory else xray_line_energy(line) for line in lines
            ]
            _, factors = absorption_corrected_weights(
                values, k, elements, energies, rho_t, take_off
            )
            return {
                "method": "given mass thickness",
                "factors": factors,
                "mass_thickness_g_cm2": rho_t,
                "take_off_deg": take_off,
                "take_off_from": take_off_from,
            }
        if theory is None:
            none["method"] = (
                "none (give mass_thickness, or use theoretical k-factors with the dose)"
            )
            return none
        electrons, dose_from = dose_electrons(self)
        omega, omega_from = solid_angle(self, solid_angle_sr)
        if electrons is None or omega is None:
            missing = [n for n, v in (("dose", electrons), ("solid angle", omega)) if v is None]
            none["method"] = f"none (no {' or '.join(missing)} recorded: give mass_thickness)"
            return none
        rho_t, _, factors = zeta_mass_thickness(values, theory, lines, electrons, omega, take_off)
        return {
            "method": "zeta factors from the dose",
            "factors": factors,
            "mass_thickness_g_cm2": rho_t,
            "electrons": electrons,
            "electrons_from": dose_from,
            "solid_angle_sr": omega,
            "solid_angle_from": omega_from,
            "take_off_deg": take_off,
            "take_off_from": take_off_from,
        }


def xray_line_energy(line: str) -> float:
    """Energy (keV) of an X-ray line from exspy's table."""
    from exspy.material import elements as exspy_elements

    element, name = line.split("_")
    try:
        return float(exspy_elements[element].Atomic_properties.Xray_lines[name]["energy (keV)"])
    except (KeyError, AttributeError) as exc:
        raise ValueError(f"unknown X-ray line {line!r}") from exc


def _family_members(line: str, placed_keV: float) -> list[tuple[float, float]]:
    """The members of a line family (keV, weight) from xraydb, shifted with the family so that
    its strongest member sits at ``placed_keV`` (where the window is); the line alone when
    xraydb does not list the family."""
    import xraydb

    from cryospec.core.xray_generation import LINE_SHELL

    element, family = line.split("_")
    shell = LINE_SHELL.get(family, (None,))[0]
    try:
        table = xraydb.xray_lines(element, shell) if shell else {}
    except Exception:  # an element or level xraydb does not know
        table = {}
    members = [(v.energy / 1e3, v.intensity) for k, v in table.items() if k.startswith(family)]
    if not members or sum(w for _, w in members) <= 0:
        return [(placed_keV, 1.0)]
    strongest = max(members, key=lambda m: m[1])[0]
    return [(e - strongest + placed_keV, w) for e, w in members]


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
