"""Acquisition and dose metadata shared by the cryospec EELS and EDX signal classes.

State lives in ``metadata.CryoSpec`` (see :mod:`cryospec.dose` for the fields), never in Python
attributes: HyperSpy recreates signal objects on ``deepcopy``, ``as_lazy``, slicing and ``map``.
"""

from __future__ import annotations

import numpy as np
from hyperspy.signal import BaseSignal

from cryospec._chunks import (
    array_module,
    as_dask_like,
    map_with_neighbours,
    signal_axis_in_one_chunk,
)
from cryospec.core.dose import (
    ACQUISITION_FIELDS,
    ACQUISITION_NODE,
    MissingMetadataError,
    electrons_per_pixel,
    validate_acquisition_value,
)
from cryospec.edges import damage_thresholds
from cryospec.signals.axis_checks import length_to_nm
from cryospec.signals.decomposition import DecompositionMethods
from cryospec.signals.maps import navigation_map

_DEFAULTS = {"n_frames": 1}


class CryoSignalMixin(DecompositionMethods):
    """Methods for the ``metadata.CryoSpec`` acquisition node and the dose it implies."""

    def set_acquisition_parameters(
        self,
        beam_current_pA: float | None = None,
        dwell_time_s: float | None = None,
        pixel_size_nm: float | None = None,
        n_frames: int | None = None,
        detector_gain: float | None = None,
        temperature_K: float | None = None,
    ) -> None:
        """Store acquisition fields in ``metadata.CryoSpec.Acquisition``.

        Only the arguments given are written; the others keep their value.

        Parameters
        ----------
        beam_current_pA : float, optional
            Probe current in pA.
        dwell_time_s : float, optional
            Dwell time per pixel and per frame in s.
        pixel_size_nm : float, optional
            Scan step in nm (square pixels).
        n_frames : int, optional
            Number of frames summed into the data.
        detector_gain : float, optional
            Recorded counts per incident electron.
        temperature_K : float, optional
            Sample temperature in K.

        Raises
        ------
        ValueError
            For a value that is not finite and positive.

        Examples
        --------
        >>> import numpy as np
        >>> from cryospec.signals import CryoEELSSpectrum
        >>> s = CryoEELSSpectrum(np.ones((2, 3, 16)))
        >>> s.set_acquisition_parameters(beam_current_pA=10, dwell_time_s=1e-3, pixel_size_nm=2.5)
        >>> s.metadata.CryoSpec.Acquisition.beam_current_pA
        10.0
        """
        values = {
            "beam_current_pA": beam_current_pA,
            "dwell_time_s": dwell_time_s,
            "pixel_size_nm": pixel_size_nm,
            "n_frames": n_frames,
            "detector_gain": detector_gain,
            "temperature_K": temperature_K,
        }
        checked = {k: validate_acquisition_value(k, v) for k, v in values.items() if v is not None}
        for key, value in checked.items():
            self.metadata.set_item(f"{ACQUISITION_NODE}.{key}", value)

    def get_acquisition_parameter(self, name: str) -> float | int:
        """Return one acquisition field, from ``metadata.CryoSpec`` or the standard HyperSpy nodes.

        Parameters
        ----------
        name : str
            One of ``beam_current_pA``, ``dwell_time_s``, ``pixel_size_nm``, ``n_frames``,
            ``detector_gain``, ``temperature_K``.

        Raises
        ------
        cryospec.dose.MissingMetadataError
            Naming the field and how to set it, when it is nowhere in the metadata.
        """
        if name not in ACQUISITION_FIELDS:
            raise KeyError(
                f"unknown acquisition field {name!r}; known fields: {', '.join(ACQUISITION_FIELDS)}"
            )
        path = f"{ACQUISITION_NODE}.{name}"
        if self.metadata.has_item(path):
            return validate_acquisition_value(name, self.metadata.get_item(path))
        field = ACQUISITION_FIELDS[name]
        fallback = self._acquisition_fallback(name)
        if fallback is not None:
            source, value = fallback
            if value > 0:
                return validate_acquisition_value(name, value)
            # Readers write 0 where the microscope did not record the value.
            raise MissingMetadataError(
                f"metadata.{path} ({field.description}, in {field.unit}) is not set and "
                f"metadata.{source} is {value!r} (not recorded in the file); set it with "
                f"s.set_acquisition_parameters({name}=...)",
                field=name,
            )
        if name in _DEFAULTS:
            return _DEFAULTS[name]
        raise MissingMetadataError(
            f"metadata.{path} ({field.description}, in {field.unit}) is not set; set it with "
            f"s.set_acquisition_parameters({name}=...)",
            field=name,
        )

    def _acquisition_fallback(self, name: str) -> tuple[str, float] | None:
        """(path, value) of the standard HyperSpy node that holds ``name``, if any."""
        md = self.metadata
        tem = "Acquisition_instrument.TEM"
        candidates = {
            "beam_current_pA": ((f"{tem}.beam_current", 1e3),),  # HyperSpy stores nA
            "dwell_time_s": ((f"{tem}.Detector.EELS.dwell_time", 1.0), (f"{tem}.dwell_time", 1.0)),
            "n_frames": ((f"{tem}.Detector.EELS.frame_number", 1),),
        }.get(name, ())
        for path, factor in candidates:
            if md.has_item(path):
                return path, float(md.get_item(path)) * factor
        if name == "pixel_size_nm":
            size = self._pixel_size_from_axes()
            return None if size is None else ("navigation axes (scale)", size)
        return None

    def _pixel_size_from_axes(self) -> float | None:
        axes = self.axes_manager.navigation_axes
        if not axes:
            return None
        sizes = []
        for axis in axes:
            factor = length_to_nm(axis.units)
            if factor is None or not getattr(axis, "is_uniform", True):
                return None
            sizes.append(axis.scale * factor)
        if not np.allclose(sizes, sizes[0], rtol=1e-6):
            raise ValueError(
                f"the navigation axes have different steps {sizes} nm; cryospec assumes square "
                "pixels: set pixel_size_nm explicitly with s.set_acquisition_parameters"
            )
        return float(sizes[0])

    @property
    def acquisition_parameters(self) -> dict[str, float | int]:
        """The acquisition fields that are set (directly or through the standard nodes)."""
        found = {}
        for name in ACQUISITION_FIELDS:
            try:
                found[name] = self.get_acquisition_parameter(name)
            except MissingMetadataError:
                continue
        return found

    def detector_gain(self, override: float | None = None) -> float:
        """Counts per electron: ``override`` if given (checked), else the metadata's value.

        Raises
        ------
        cryospec.dose.MissingMetadataError
            When neither is available.
        """
        if override is not None:
            return float(validate_acquisition_value("detector_gain", override))
        return float(self.get_acquisition_parameter("detector_gain"))

    def electrons_per_pixel(self) -> float:
        """Incident electrons per pixel, summed over frames."""
        return float(
            electrons_per_pixel(
                self.get_acquisition_parameter("beam_current_pA"),
                self.get_acquisition_parameter("dwell_time_s"),
                self.get_acquisition_parameter("n_frames"),
            )
        )

    def frame_axis(self):
        """The navigation axis named ``"frame"`` of a dose-fractionated acquisition, or None."""
        for axis in self.axes_manager.navigation_axes:
            if axis.name == "frame":
                return axis
        return None

    def frame_dose(self) -> float:
        """Dose of one frame (e/Å²): beam current x dwell time per frame over the pixel area."""
        pixel_nm = self.get_acquisition_parameter("pixel_size_nm")
        electrons = electrons_per_pixel(
            self.get_acquisition_parameter("beam_current_pA"),
            self.get_acquisition_parameter("dwell_time_s"),
            1,
        )
        return float(electrons) / (pixel_nm * 10.0) ** 2

    def dose_per_pixel(self) -> BaseSignal:
        """Electron dose per pixel in e/Å², as a signal over the navigation space.

        For a dose-fractionated acquisition with its frames on a navigation axis named
        ``"frame"`` (values: frame numbers from 0), the value at frame k is the cumulative dose
        at the end of that frame, ``(k + 1)`` times the frame dose; otherwise it is the dose of
        the whole acquisition (``n_frames`` frames summed).

        Returns
        -------
        BaseSignal
            A map (``Signal2D`` for a spectrum image, ``Signal1D`` for a line scan) with the
            same navigation axes; lazy when this signal is lazy.

        Raises
        ------
        cryospec.dose.MissingMetadataError
            If the beam current, dwell time or pixel size is unknown.
        """
        am = self.axes_manager
        shape = am._navigation_shape_in_array if am.navigation_dimension else (1,)
        frames = self.frame_axis()
        if frames is None:
            dose = np.full(shape, self.frame_dose() * self.get_acquisition_parameter("n_frames"))
        else:
            numbers = np.asarray(frames.axis, dtype=float)
            if np.any(numbers < 0) or not np.allclose(numbers, np.round(numbers)):
                raise ValueError(
                    f"the frame axis must hold frame numbers 0, 1, 2, ..., got {numbers[:5]}"
                )
            index = [None] * len(shape)
            index[frames.index_in_array] = slice(None)
            # Frame numbers come from the axis, so a slice of frames keeps its doses.
            cumulative = (np.round(numbers) + 1.0) * self.frame_dose()
            dose = np.broadcast_to(cumulative[tuple(index)], shape).copy()
        if self._lazy:
            data = as_dask_like(dose, self.data, am.navigation_dimension)
        else:
            data = dose
        title = self.metadata.General.title
        title = f"Dose per pixel of {title}" if title else "Dose per pixel"
        out = navigation_map(self, data, title, "Dose (e/Å²)")
        out.metadata.set_item(ACQUISITION_NODE, self.metadata.get_item(ACQUISITION_NODE, {}))
        return out

    def flag_damage(
        self,
        species: str,
        critical_dose: float | None = None,
        prior_dose: float = 0.0,
    ) -> BaseSignal:
        """Map of the pixels whose cumulative dose reached a species' critical dose.

        Parameters
        ----------
        species : str
            A species of :func:`cryospec.dose.damage_thresholds` (``"Li metal"``, ``"Li2CO3"``,
            ...), or any name when ``critical_dose`` is given.
        critical_dose : float, optional
            Override the database's critical dose (e/Å²).
        prior_dose : float or array
            Dose received before this acquisition (survey scans, focusing), in e/Å².

        Returns
        -------
        BaseSignal
            Boolean map over the navigation space (True: at or above the critical dose), with
            the threshold, its source and the flagged fraction in ``metadata.CryoSpec.Damage``.
        """
        known = damage_thresholds()
        if critical_dose is None:
            if species not in known:
                raise KeyError(
                    f"no critical dose for {species!r} in the database (known: "
                    f"{', '.join(known)}); pass critical_dose=..."
                )
            entry = known[species]
            threshold, source = entry.critical_dose_e_per_A2, entry.source
            conditions, status = entry.conditions, entry.status
        else:
            threshold = float(critical_dose)
            if not (np.isfinite(threshold) and threshold > 0):
                raise ValueError(f"critical_dose must be positive, got {critical_dose!r}")
            source, conditions, status = "given by the user", "", "user"
        if np.any(np.asarray(prior_dose) < 0):
            raise ValueError("prior_dose must be >= 0")
        dose = self.dose_per_pixel()
        prior = np.asarray(prior_dose, dtype=float)
        if prior.ndim and prior.shape != dose.data.shape:
            raise ValueError(
                f"prior_dose must be a number or an array of the navigation shape in numpy "
                f"order {dose.data.shape}, got {prior.shape}"
            )
        flags = dose._deepcopy_with_new_data(dose.data + prior >= threshold)
        flags.metadata.General.title = f"dose >= critical dose of {species}"
        flags.metadata.set_item("Signal.quantity", "damaged (bool)")
        fraction = flags.data.mean()
        flags.metadata.set_item(
            "CryoSpec.Damage",
            {
                "species": species,
                "critical_dose_e_per_A2": threshold,
                "conditions": conditions,
                "status": status,
                "source": source,
                "prior_dose_e_per_A2": float(np.max(prior_dose)),
                "flagged_fraction": float(fraction.compute() if self._lazy else fraction),
            },
        )
        return flags

    def set_noise_model(self, detector_gain: float | None = None, read_noise: float = 0.0) -> None:
        """Store the Poisson noise variance of the recorded counts.

        ``variance = detector_gain * counts + read_noise**2`` in
        ``metadata.Signal.Noise_properties.variance`` (through HyperSpy's
        ``estimate_poissonian_noise_variance``), where ``detector_gain`` is counts per electron
        (default: ``metadata.CryoSpec.Acquisition.detector_gain``) and ``read_noise`` the
        read-noise standard deviation in counts. Recorded in ``metadata.CryoSpec.Noise``.
        """
        gain = self.detector_gain(detector_gain)
        if not (np.isfinite(read_noise) and read_noise >= 0):
            raise ValueError(f"read_noise must be finite and >= 0, got {read_noise!r}")
        self.estimate_poissonian_noise_variance(
            gain_factor=float(gain), gain_offset=float(read_noise) ** 2
        )
        self.metadata.set_item(
            "CryoSpec.Noise",
            {"model": "poisson", "detector_gain": float(gain), "read_noise": float(read_noise)},
        )

    def remove_spikes(
        self,
        threshold: float = 6.0,
        min_excess: float = 5.0,
        detector_gain: float | None = None,
        inplace: bool = False,
    ):
        """Replace spikes (X-ray hits on the detector) without user interaction.

        A channel is replaced when it exceeds both the same channel of the neighbouring pixels
        and the running median of its own spectrum by ``threshold`` Poisson standard
        deviations plus ``min_excess`` counts (see :mod:`cryospec.spikes`); real edges and
        fine structure, present in the neighbouring pixels too, are left alone. Run it before
        the background fit.

        Parameters
        ----------
        threshold : float
            Poisson standard deviations above both references.
        min_excess : float
            Extra counts required above both references.
        detector_gain : float, optional
            Counts per electron; default ``metadata.CryoSpec.Acquisition.detector_gain``.
        inplace : bool
            Replace this signal's data.

        Returns
        -------
        (signal, replaced) or replaced
            The cleaned signal (unless ``inplace``) and a navigation map of the number of
            channels replaced per pixel; the total is recorded in ``metadata.CryoSpec.Spikes``.
        """
        from cryospec.core.spikes import remove_spikes as _remove

        gain = self.detector_gain(detector_gain)
        n_nav = self.axes_manager.navigation_dimension
        if self._lazy:
            data = signal_axis_in_one_chunk(self.data)
            cleaned = map_with_neighbours(
                lambda block: _remove(block, threshold, min_excess, gain)[0],
                data,
                n_nav,
                np.result_type(data.dtype, np.float32),
            )
            replaced = (cleaned != data).sum(axis=-1)
        else:
            cleaned, replaced = _remove(self.data, threshold, min_excess, gain)
        replaced_map = navigation_map(self, replaced, "spike channels replaced")
        original = self.data
        out = self if inplace else self._deepcopy_with_new_data(cleaned, copy_variance=True)
        if inplace:
            self.data = cleaned
        variance = out.metadata.get_item("Signal.Noise_properties.variance", None)
        if isinstance(variance, BaseSignal):
            # A replaced channel carries the Poisson variance of its replacement value.
            where = cleaned != original
            lib = array_module(self.data)
            variance.data = lib.where(where, gain * lib.clip(cleaned, 0, None), variance.data)
        total = replaced.sum()
        out.metadata.set_item(
            "CryoSpec.Spikes",
            {
                "threshold": float(threshold),
                "min_excess": float(min_excess),
                "replaced_channels": int(total.compute() if self._lazy else total),
            },
        )
        return replaced_map if inplace else (out, replaced_map)

    def rechunk_spectral(self, memory_budget: int | None = None) -> None:
        """Rechunk a lazy signal in place under cryospec's policy: every spectrum whole in one
        chunk, navigation chunks of whole rows within ``memory_budget`` bytes (default: from
        the available memory, :func:`cryospec._chunks.default_memory_budget`).

        Raises
        ------
        ValueError
            For a signal in memory, or a budget that cannot hold one row of spectra.
        """
        from cryospec._chunks import spectral_rechunk

        if not self._lazy:
            raise ValueError("rechunk_spectral applies to lazy signals (s = s.as_lazy())")
        self.data = spectral_rechunk(self.data, memory_budget)
