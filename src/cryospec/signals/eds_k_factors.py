"""What EDX quantification needs from a signal's metadata: the detector, the k-factors, the dose.

Values recorded in the file win; what the file lacks is taken from the arguments, then from the
vendor's original metadata (Velox: the screen current, the detectors' live time and solid
angle), and is named in the result's metadata with where it came from.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import constants

from cryospec.core.k_factors import SOURCES, KFactor, theoretical_k_factors
from cryospec.core.xray_detection import DETECTOR_PRESETS, Detector

__all__ = [
    "dose_electrons",
    "mass_thickness_from_t_over_lambda",
    "resolve_detector",
    "resolve_k_factors",
    "solid_angle",
    "take_off_angle",
]

# Detector families sold without a window (Thermo Fisher Super-X, Dual-X and Ultra-X).
_WINDOWLESS_NAMES = ("superx", "super-x", "dualx", "dual-x", "ultrax", "ultra-x")
_LIGHT_LINE_KEV = 1.1
DEFAULT_PRESET = "polymer"


def _recorded_detector_name(signal) -> str | None:
    eds = signal.metadata.get_item("Acquisition_instrument.TEM.Detector.EDS", None)
    name = None if eds is None else eds.get_item("detector_type", None)
    if name is None:
        name = signal.original_metadata.get_item("BinaryResult.Detector", None)
    return None if name is None else str(name)


def resolve_detector(signal, detector) -> tuple[Detector, str]:
    """The detector description and where it came from.

    ``detector`` is a :class:`~cryospec.core.xray_detection.Detector`, a preset name
    (``"windowless"``, ``"polymer"``, ``"Si3N4"``) or None: then the preset named in
    ``metadata.CryoSpec.EDX.detector``; else a Super-X, Dual-X or Ultra-X name in the metadata
    means windowless, and anything else the ``"polymer"`` preset.
    """
    if isinstance(detector, Detector):
        return detector, "given"
    if isinstance(detector, str):
        if detector not in DETECTOR_PRESETS:
            raise ValueError(
                f"unknown detector preset {detector!r}: use one of {', '.join(DETECTOR_PRESETS)} "
                "or a cryospec.core.xray_detection.Detector"
            )
        return DETECTOR_PRESETS[detector], "given"
    if detector is not None:
        raise TypeError(f"detector must be a preset name or a Detector, got {detector!r}")
    recorded = signal.metadata.get_item("CryoSpec.EDX.detector", None)
    if recorded is not None:
        if str(recorded) not in DETECTOR_PRESETS:
            raise ValueError(
                f"metadata.CryoSpec.EDX.detector is {recorded!r}: use one of "
                f"{', '.join(DETECTOR_PRESETS)}"
            )
        return DETECTOR_PRESETS[str(recorded)], "file metadata (CryoSpec.EDX.detector)"
    name = _recorded_detector_name(signal)
    if name is not None and any(key in name.lower().replace(" ", "") for key in _WINDOWLESS_NAMES):
        return DETECTOR_PRESETS["windowless"], f"file (detector {name!r}: windowless)"
    return DETECTOR_PRESETS[DEFAULT_PRESET], "default (the file does not say which window)"


def resolve_k_factors(
    lines: list[str], k_factors, beam_energy_keV: float, detector: Detector, origin: str
) -> tuple[dict[str, float], dict[str, Any], dict[str, KFactor] | None]:
    """Numbers per element, their provenance, and the theoretical factors when computed.

    Raises
    ------
    ValueError
        A given k-factor that is missing, not a number or not positive.
    """
    elements = [line.split("_")[0] for line in lines]
    if k_factors is None or (isinstance(k_factors, str) and k_factors == "theoretical"):
        theory = theoretical_k_factors(lines, beam_energy_keV, detector)
        light = [line for line in lines if theory[line].energy_keV < _LIGHT_LINE_KEV]
        if light and origin.startswith("default"):
            warnings.warn(
                f"the detector window is not recorded: the k-factors of {', '.join(light)} "
                f"(below {_LIGHT_LINE_KEV} keV) assume the {detector.name!r} preset and change "
                "by up to 2x with the window; give detector='windowless', 'polymer', 'Si3N4' "
                "or a Detector",
                UserWarning,
                stacklevel=4,
            )
        rough = [line for line in lines if theory[line].relative_uncertainty >= 1.0]
        if rough:
            warnings.warn(
                f"the theoretical k-factors of {', '.join(rough)} are uncertain by up to a "
                "factor of 2.5 (L lines: the ionisation cross-section is a K-shell fit); use a "
                "K line where the spectrum holds one, or k-factors measured on a standard",
                UserWarning,
                stacklevel=4,
            )
        values = {el: theory[line].value for el, line in zip(elements, lines, strict=True)}
        provenance = {
            "source": "theoretical",
            "reference_line": next(iter(theory.values())).reference,
            "relative_uncertainty": {
                el: theory[line].relative_uncertainty
                for el, line in zip(elements, lines, strict=True)
            },
            "ingredients": SOURCES,
            "detector_efficiency": {
                el: theory[line].efficiency for el, line in zip(elements, lines, strict=True)
            },
            "detector": detector.name,
            "detector_source": detector.source,
            "detector_from": origin,
            "beam_energy_keV": float(beam_energy_keV),
        }
        return values, provenance, theory
    if isinstance(k_factors, str):
        raise ValueError(f"k_factors must be 'theoretical', a dict or None, not {k_factors!r}")
    missing = [el for el in elements if el not in k_factors]
    if missing:
        raise ValueError(
            f"no k-factor for {', '.join(missing)}: give k_factors={{element: value}} for every "
            "line, or k_factors='theoretical'"
        )
    for element in elements:
        value = k_factors[element]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"the k-factor of {element} must be a number, got {value!r}")
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"the k-factor of {element} must be a positive number, got {value!r}")
    values = {el: float(k_factors[el]) for el in elements}
    return values, {"source": "given"}, None


def dose_electrons(signal) -> tuple[float | None, str]:
    """Electrons per spectrum (beam current x live time / e) and where the values came from."""
    tem = signal.metadata.get_item("Acquisition_instrument.TEM", None)
    current = None if tem is None else tem.get_item("beam_current", None)  # nA
    live = None if tem is None else tem.get_item("Detector.EDS.live_time", None)  # s
    origin = "file metadata"
    om = signal.original_metadata
    if current is None and om.get_item("Optics.ScreenCurrent", None) is not None:
        current, origin = float(om.get_item("Optics.ScreenCurrent")) * 1e9, "Velox metadata"
    if live is None:
        times = _velox_detector_values(om, "LiveTime")
        if times:
            live, origin = float(np.mean(times)), "Velox metadata"
    if current is None or live is None or not (current > 0 and live > 0):
        try:  # cryospec's own dose bookkeeping: the dwell time, without a dead-time correction
            return float(signal.electrons_per_pixel()), "CryoSpec acquisition (dwell time)"
        except Exception:  # MissingMetadataError or an invalid value: no dose is known
            return None, "not recorded"
    return float(current) * 1e-9 * float(live) / constants.e, origin


def solid_angle(signal, given: float | None) -> tuple[float | None, str]:
    """Detector solid angle (sr): given, else the file's."""
    if given is not None:
        if not (np.isfinite(given) and given > 0):
            raise ValueError(f"the solid angle must be a positive number of sr, got {given!r}")
        return float(given), "given"
    recorded = signal.metadata.get_item("Acquisition_instrument.TEM.Detector.EDS.solid_angle", None)
    if recorded is not None and recorded > 0:
        return float(recorded), "file metadata"
    # Velox records the solid angle of the whole detector assembly on each of its detectors.
    values = _velox_detector_values(signal.original_metadata, "CollectionAngle")
    if values:
        return float(np.max(values)), "Velox metadata (CollectionAngle)"
    return None, "not recorded"


def _velox_detector_values(om, key: str) -> list[float]:
    detectors = om.get_item("Detectors", None)
    if detectors is None:
        return []
    out = []
    for name in detectors.keys():
        entry = detectors[name]
        if getattr(entry, "get_item", None) is None:
            continue
        if entry.get_item("DetectorType", "") != "AnalyticalDetector":
            continue
        value = entry.get_item(key, None)
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if value > 0:
            out.append(value)
    return out


def take_off_angle(signal) -> tuple[float, str]:
    """X-ray take-off angle (degrees) and where it came from.

    Velox files record each detector's elevation and azimuth; HyperSpy's metadata for them may
    hold exspy's defaults instead (35 degrees elevation), so the recorded detectors win: the
    mean take-off angle over the analytical detectors, with the stage tilt of the metadata.
    """
    from exspy.utils.eds import take_off_angle as exspy_take_off

    om = signal.original_metadata
    elevations = _velox_detector_values(om, "ElevationAngle")
    if elevations:
        azimuths = _velox_detector_values(om, "AzimuthAngle") or [0.0] * len(elevations)
        tem = signal.metadata.Acquisition_instrument.TEM
        alpha = tem.get_item("Stage.tilt_alpha", 0.0)
        beta = tem.get_item("Stage.tilt_beta", 0.0)
        angles = [
            exspy_take_off(alpha, np.degrees(az), np.degrees(el), beta)
            for el, az in zip(elevations, azimuths, strict=False)
        ]
        return float(np.mean(angles)), "Velox metadata (detector elevation and azimuth)"
    return float(signal.get_take_off_angle()), "metadata (exspy)"


def mass_thickness_from_t_over_lambda(t_over_lambda, density_g_cm3: float, beam_energy_keV: float):
    """Mass thickness (g/cm²) of a film from the EELS t/lambda of the same area.

    ``rho t = rho lambda (t / lambda)`` with the inelastic mean free path of Iakoubovskii et al.
    (Microsc. Res. Tech. 71 (2008) 626) as exspy computes it from the density and the beam
    energy (for collection angles large enough to take in most of the inelastic scattering).
    """
    from exspy.utils.eels import iMFP_Iakoubovskii

    if not (np.isfinite(density_g_cm3) and density_g_cm3 > 0):
        raise ValueError(f"the density must be a positive number of g/cm³, got {density_g_cm3!r}")
    tau = np.asarray(t_over_lambda, dtype=float)
    if np.any(tau < 0):
        raise ValueError("t/lambda must not be negative")
    mfp_nm = float(iMFP_Iakoubovskii(density_g_cm3, beam_energy_keV))  # nm, despite the name
    return density_g_cm3 * tau * mfp_nm * 1e-7
