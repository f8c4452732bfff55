"""The built-in EDX spectrum image of the Li | interphase | LiPON cross-section, with its truth."""

from __future__ import annotations

import numpy as np
from scipy import constants

from cryospec.core.dose import dose_per_pixel, electrons_per_pixel
from cryospec.data._signals import acquisition_record, navigation_axes, tag_synthetic
from cryospec.data._simulate import gaussian
from cryospec.data.specimen import (
    ATOMIC_WEIGHT,
    ELEMENTS,
    PHASES,
    InterphaseGeometry,
    LiLiPONEDSTruth,
    SyntheticEDS,
    build_specimen,
    validate_positive,
)

__all__ = ["li_lipon_eds"]


def li_lipon_eds(
    shape: tuple[int, int] = (24, 64),
    pixel_size_nm: float = 2.5,
    beam_current_pA: float = 200.0,
    dwell_time_s: float = 5e-3,
    n_frames: int = 1,
    beam_energy_keV: float = 300.0,
    n_channels: int = 1024,
    energy_step_keV: float = 0.01,
    energy_resolution_MnKa_eV: float = 130.0,
    k_factors: dict[str, float] | None = None,
    detector: str = "polymer",
    absorption: bool = False,
    elevation_deg: float = 35.0,
    efficiency: float = 1.5e-9,
    bremsstrahlung_strength: float = 2.0e-14,
    thickness_nm: tuple[float, float] = (50.0, 90.0),
    geometry: InterphaseGeometry | None = None,
    noise: bool = True,
    seed: int = 0,
) -> SyntheticEDS:
    """Synthetic EDX spectrum image of the same Li | interphase | LiPON cross-section.

    N Ka, O Ka and P Ka lines (energies from exspy's X-ray line table) on a Kramers
    bremsstrahlung with a low-energy detector cut-off; no Li line (EDX does not measure Li).
    Line intensities follow the Cliff-Lorimer convention with the given ``k_factors``:
    ``I_A = efficiency * I0 * (mass thickness of A in amu/nm²) / k_A``, by default the
    theoretical k-factors of ``detector`` at the beam energy (the physics cryospec quantifies
    with, :func:`cryospec.core.k_factors.theoretical_k_factors`). ``efficiency`` is an overall
    scale, not a physical solid angle: the dataset holds far more counts than a real detector
    would collect at this dose, so that N stays measurable, and it records no solid angle (the
    zeta-factor mass thickness does not apply to it).

    Parameters
    ----------
    shape, pixel_size_nm, geometry, thickness_nm, seed : see :func:`li_lipon`
        The same specimen for the same arguments.
    beam_current_pA, dwell_time_s, n_frames : float, float, int
        Dose.
    beam_energy_keV : float
        Beam energy.
    n_channels, energy_step_keV : int, float
        Energy axis, from 0 keV.
    energy_resolution_MnKa_eV : float
        Detector resolution at Mn Ka; lines broaden with the usual Fano law.
    k_factors : dict, optional
        Cliff-Lorimer k-factors per element; default the theoretical ones of ``detector``.
    detector : str
        Detector preset (:data:`cryospec.core.xray_detection.DETECTOR_PRESETS`), recorded in
        ``metadata.CryoSpec.EDX.detector``.
    absorption : bool
        Absorb each line in the film on its way to the detector (uniform film of the pixel's
        mass thickness, Li included, at the take-off angle ``elevation_deg``); off by default,
        so that the line intensities follow the Cliff-Lorimer relation exactly.
    elevation_deg : float
        Detector elevation (the stage is not tilted: the take-off angle).
    efficiency, bremsstrahlung_strength : float
        Overall detection efficiency of the lines and of the continuum.
    noise : bool
        Poisson noise.

    Returns
    -------
    SyntheticEDS
        ``(eds, truth)``: a :class:`~cryospec.signals.CryoEDSTEMSpectrum` and a
        :class:`LiLiPONEDSTruth`.
    """
    from cryospec.signals import CryoEDSTEMSpectrum

    geometry = geometry or InterphaseGeometry()
    lines = ("N_Ka", "O_Ka", "P_Ka")
    if k_factors is None:
        from cryospec.core.k_factors import theoretical_k_factors
        from cryospec.core.xray_detection import DETECTOR_PRESETS

        theory = theoretical_k_factors(lines, beam_energy_keV, DETECTOR_PRESETS[detector])
        k_factors = {line.split("_")[0]: theory[line].value for line in lines}
    k_factors = dict(k_factors)
    validate_positive(
        pixel_size_nm=pixel_size_nm,
        beam_current_pA=beam_current_pA,
        dwell_time_s=dwell_time_s,
        n_frames=n_frames,
        beam_energy_keV=beam_energy_keV,
        energy_step_keV=energy_step_keV,
        efficiency=efficiency,
        bremsstrahlung_strength=bremsstrahlung_strength,
        energy_resolution_MnKa_eV=energy_resolution_MnKa_eV,
    )
    rng = np.random.default_rng(seed)
    spec = build_specimen(shape, pixel_size_nm, geometry, thickness_nm, rng)
    electrons = float(electrons_per_pixel(beam_current_pA, dwell_time_s, n_frames))
    dose = float(dose_per_pixel(beam_current_pA, dwell_time_s, pixel_size_nm, n_frames))
    energy = energy_step_keV * np.arange(n_channels)

    mass_thickness = {el: spec.areal_density[el] * ATOMIC_WEIGHT[el] for el in ELEMENTS}
    film_g_cm2 = sum(mass_thickness.values()) * _AMU_PER_NM2_IN_G_CM2
    emitted = None
    if absorption:
        emitted = _emitted_share(lines, mass_thickness, film_g_cm2, elevation_deg)
    spectrum, line_intensity = _line_spectra(
        lines,
        energy,
        mass_thickness,
        k_factors,
        efficiency * electrons,
        energy_resolution_MnKa_eV,
        emitted,
    )
    bremsstrahlung = _bremsstrahlung(
        energy, beam_energy_keV, bremsstrahlung_strength * electrons, sum(mass_thickness.values())
    )
    expected = spectrum + bremsstrahlung
    counts = rng.poisson(expected).astype(np.float32) if noise else expected.astype(np.float32)

    axes = [
        *navigation_axes(pixel_size_nm, *shape),
        {
            "name": "Energy",
            "size": n_channels,
            "offset": 0.0,
            "scale": energy_step_keV,
            "units": "keV",
            "navigate": False,
        },
    ]
    eds = CryoEDSTEMSpectrum(counts, axes=axes)
    eds.metadata.General.title = "Li | interphase | LiPON EDX (synthetic)"
    eds.set_microscope_parameters(
        beam_energy=beam_energy_keV,
        energy_resolution_MnKa=energy_resolution_MnKa_eV,
        live_time=dwell_time_s * n_frames,
        real_time=dwell_time_s * n_frames,
        elevation_angle=elevation_deg,
        azimuth_angle=0.0,
        tilt_stage=0.0,
    )
    eds.metadata.set_item("CryoSpec.EDX.detector", detector)
    acquisition = acquisition_record(beam_current_pA, dwell_time_s, pixel_size_nm, n_frames, 1.0)
    tag_synthetic(eds, "li_lipon_eds", seed, acquisition, k_factors=dict(k_factors))
    eds.add_elements(["N", "O", "P"])
    eds.add_lines(list(lines))

    truth = LiLiPONEDSTruth(
        x_nm=spec.x_nm,
        y_nm=spec.y_nm,
        phases=tuple(p.name for p in PHASES),
        phase_fractions=spec.phase_fractions,
        areal_density=spec.areal_density,
        atomic_fraction=spec.atomic_fraction,
        thickness_nm=spec.thickness_nm,
        geometry=geometry,
        row_shift_nm=spec.row_shift_nm,
        gradients=spec.gradients,
        xray_lines=lines,
        k_factors=k_factors,
        line_intensity=line_intensity,
        mass_thickness_g_cm2=film_g_cm2,
        emitted_share=emitted,
        electrons_per_pixel=electrons,
        dose_e_per_A2=dose,
        energy_keV=energy,
        bremsstrahlung=bremsstrahlung.astype(np.float32),
        spectrum_noiseless=expected.astype(np.float32),
    )
    return SyntheticEDS(eds, truth)


# 1 amu per nm² in g/cm²
_AMU_PER_NM2_IN_G_CM2 = constants.atomic_mass * 1e3 / 1e-14


def _emitted_share(lines, mass_thickness, film_g_cm2, take_off_deg):
    """Each line's share that leaves the film (per pixel), by the same thin-film law that
    :meth:`~cryospec.signals.CryoEDSTEMSpectrum.quantify_lines` corrects with."""
    from cryospec.core.xray_detection import attenuation_matrix, thin_film_absorption

    elements = list(mass_thickness)
    weights = np.stack([mass_thickness[el] for el in elements], axis=-1)
    from cryospec.signals.cryo_eds import xray_line_energy

    energies = [xray_line_energy(line) for line in lines]
    factors = thin_film_absorption(
        attenuation_matrix(energies, elements), weights, film_g_cm2, take_off_deg
    )
    return {line: factors[..., i] for i, line in enumerate(lines)}


def _line_spectra(lines, energy, mass_thickness, k_factors, scale, resolution_MnKa_eV, emitted):
    """The X-ray lines of every pixel (Gaussians of the detector's width, exspy's line energies
    and weights) and each Ka line's intensity ``scale * mass thickness / k`` (times the share
    that leaves the film, when ``emitted`` is given)."""
    from exspy.material import elements as exspy_elements

    line_intensity = {}
    spectrum = np.zeros((*next(iter(mass_thickness.values())).shape, energy.size))
    mn_ka_eV = 5898.7
    for line in lines:
        element = line.split("_")[0]
        if element not in k_factors:
            raise ValueError(f"k_factors has no value for {element}, needed for {line}")
        family = exspy_elements[element].Atomic_properties.Xray_lines
        intensity = scale * mass_thickness[element] / k_factors[element]
        if emitted is not None:
            intensity = intensity * emitted[line]
        line_intensity[line] = intensity
        # ``intensity`` is the Ka line's; the family's other lines follow exspy's weights.
        for sub in family.keys():
            centre = family[sub]["energy (keV)"]
            fwhm_eV = np.sqrt(resolution_MnKa_eV**2 + 2.5 * (centre * 1e3 - mn_ka_eV))
            sigma = fwhm_eV * 1e-3 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
            profile = gaussian(energy, centre, sigma)
            profile /= profile.sum()
            spectrum += (intensity * family[sub]["weight"])[..., None] * profile
    return spectrum, line_intensity


def _bremsstrahlung(energy, beam_energy_keV, scale, total_mass):
    """Kramers' continuum with a low-energy detector cut-off, ``scale`` x mass thickness."""
    with np.errstate(divide="ignore", invalid="ignore"):
        kramers = np.where(energy > 0, (beam_energy_keV - energy) / np.maximum(energy, 1e-9), 0.0)
    detector = np.exp(-((0.3 / np.maximum(energy, 1e-3)) ** 3))
    return scale * total_mass[..., None] * (kramers * detector)
