"""Built-in synthetic datasets with known ground truth.

:func:`li_lipon` simulates a cryo-STEM-EELS spectrum image of a cross-section through
Li metal | interphase | LiPON, and :func:`li_lipon_eds` the matching EDX spectrum image. Both
are deterministic for a given ``seed`` and return, next to the signals, a truth object holding
every number that went into them: per-pixel phase fractions, areal densities, thickness,
background parameters, interface positions and gradient widths, and the noiseless spectra.

The model
---------
*Geometry.* Columns run across the interphase (depth ``x``), rows along it (``y``). Li metal
ends at ``li_interface_nm`` and LiPON begins at ``lipon_interface_nm`` (erf steps of the given
widths); in between lies an interphase of about 76 nm (Cheng et al., Joule 4 (2020) 2484), a
mosaic of Li2O, Li3N and Li3PO4 whose N- and P-bearing fractions rise toward LiPON (erf
gradients at ``n_gradient_nm`` and ``p_gradient_nm``). Both interfaces are shifted row by row
by a smooth random roughness, and the mosaic fractions carry a smooth random texture.

*Core loss.* Power-law background ``A (E / 50 eV)^-r`` per pixel, with ``A`` proportional to
t/lambda and ``r`` falling with thickness; Li K, P L2,3, N K and O K edges (the Hartree-Slater
cross-sections of :mod:`cryospec.core.gos_tables`, or the hydrogenic ones) weighted by the areal
densities;
a Li K near-edge structure that differs between the Li environments (Li metal, Li2O, Li3N,
Li3PO4, LiPON); plural scattering by convolving the edges with the pixel's normalised low-loss.
The background is generated directly in its observed (plurally scattered) power-law form.

*Low loss.* Zero-loss peak (Gaussian, the energy resolution) and the Poisson series of Drude
plasmons of the local phase mixture, for the local t/lambda (mean free paths from exspy's
Iakoubovskii estimate).

*Noise.* The incident electrons per pixel follow from beam current, dwell time and frames;
recorded counts are ``detector_gain`` times Poisson-distributed electrons.

The Li K fine-structure shapes, plasmon energies and widths and the LiPON density are
*synthetic choices* (near published ranges where those exist, see ``edges/Li_K.yaml``), made so
that the phases are distinguishable; they are not reference data. The EDX dataset's k-factors
are the theoretical ones of a polymer-window detector (:func:`li_lipon_eds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.fft import next_fast_len

from cryospec.core.dose import dose_per_pixel, electrons_per_pixel
from cryospec.core.dose_series import frame_mean_remaining
from cryospec.core.edge_shapes import DEFAULT_CROSS_SECTION, edge_shape
from cryospec.data._signals import acquisition_record, make_eels_signal
from cryospec.data._simulate import (
    drude_loss_function,
    gaussian,
    plural_scattering_kernel_ft,
    power_law,
)
from cryospec.data.specimen import (
    BACKGROUND_REFERENCE_EV,
    EELS_EDGES,
    PHASES,
    InterphaseGeometry,
    LiLiPONTruth,
    SyntheticEELS,
    build_specimen,
    validate_positive,
)

__all__ = ["li_lipon"]


def _li_k_fine_structure(energy: NDArray, sigma_li: NDArray) -> NDArray:
    """Modulation m_k(E) of the Li K edge for each phase, shape (n_phase, n_energy).

    The near-edge structure lives inside the default Li K window (55-80 eV) and vanishes
    outside it, so the tail beyond 80 eV is the hydrogenic one. Each phase's peaks are balanced
    by a broad negative term so that the integral over the window is unchanged: the integrated
    edge stays proportional to the Li areal density whatever the Li environment.
    """
    lo, hi = 55.0, 80.0
    inside = (energy >= lo) & (energy <= hi)
    phase_in_window = np.clip((energy - lo) / (hi - lo), 0.0, 1.0)
    broad = np.where(inside, np.sin(np.pi * phase_in_window) ** 2, 0.0)
    # Smooth roll-off over the last 5 eV of the window.
    taper = np.where(
        inside, np.cos(0.5 * np.pi * np.clip((energy - (hi - 5.0)) / 5.0, 0.0, 1.0)) ** 2, 0.0
    )
    modulations = []
    for phase in PHASES:
        peaks = taper * sum(h * gaussian(energy, c, s) for c, s, h in phase.li_k_peaks)
        kappa = np.sum((sigma_li * peaks)[inside]) / np.sum((sigma_li * broad)[inside])
        modulations.append(peaks - kappa * broad)
    return np.array(modulations)


def _circular_energies(n_fft: int, step: float) -> NDArray:
    idx = np.arange(n_fft)
    return np.where(idx < n_fft // 2, idx, idx - n_fft) * step


def li_lipon(
    shape: tuple[int, int] = (24, 64),
    pixel_size_nm: float = 2.5,
    beam_current_pA: float = 40.0,
    dwell_time_s: float = 5e-3,
    n_frames: int = 1,
    detector_gain: float = 1.0,
    beam_energy_keV: float = 300.0,
    convergence_mrad: float = 10.0,
    collection_mrad: float = 20.0,
    energy_offset_eV: float = 30.0,
    energy_step_eV: float = 0.3,
    n_channels: int = 2048,
    n_low_loss_channels: int = 1024,
    zlp_fwhm_eV: float = 1.0,
    thickness_nm: tuple[float, float] = (50.0, 90.0),
    geometry: InterphaseGeometry | None = None,
    background_strength: float = 2.5e-3,
    frame_axis: bool = False,
    critical_dose_e_per_A2: dict[str, float] | None = None,
    damage_floor: float = 0.0,
    noise: bool = True,
    seed: int = 0,
    cross_section: str = DEFAULT_CROSS_SECTION,
) -> SyntheticEELS:
    """Synthetic cryo-STEM-EELS spectrum image of Li | interphase | LiPON, with ground truth.

    Parameters
    ----------
    shape : (int, int)
        (rows along the interphase, columns across it).
    pixel_size_nm : float
        Scan step.
    beam_current_pA, dwell_time_s, n_frames : float, float, int
        Set the incident electrons per pixel and so the dose.
    detector_gain : float
        Counts per electron.
    beam_energy_keV, convergence_mrad, collection_mrad : float
        Microscope parameters (used for the cross-sections and stored in the metadata).
    energy_offset_eV, energy_step_eV, n_channels : float, float, int
        Core-loss energy axis (default 30-644 eV, Li K to O K).
    n_low_loss_channels : int
        Low-loss channels (same dispersion, starting at -15 eV).
    zlp_fwhm_eV : float
        Energy resolution.
    thickness_nm : (float, float)
        Specimen thickness at the first and last column (a wedge with a 4 % texture; equal
        values give a uniform thickness).
    geometry : InterphaseGeometry, optional
        Interface positions, widths and gradients.
    background_strength : float
        Background counts per eV and per incident electron at 50 eV, per unit t/lambda.
    frame_axis : bool
        Keep the ``n_frames`` frames of a dose-fractionated acquisition as a navigation axis
        ``frame`` (data of shape (frames, rows, columns, channels)) instead of summing them.
    critical_dose_e_per_A2 : dict, optional
        Beam damage: per element (``"Li"``, ``"P"``, ``"N"``, ``"O"``), the critical dose D_c
        at which its areal density has decayed by 1/e:
        ``n(D) = n0 * (floor + (1 - floor) * exp(-D / D_c))`` (mass loss). Each frame holds the
        average over the dose it received. Thickness and plasmons are left unchanged.
    damage_floor : float
        Fraction of each damaged element that remains at infinite dose.
    noise : bool
        Poisson noise on the electrons; ``False`` returns the expected counts.
    seed : int
        Seed of every random choice (roughness, mosaic texture, thickness texture, noise).
    cross_section : {"hartree-slater", "hydrogenic"}
        The edges' cross-sections (:func:`cryospec.core.edge_shapes.edge_shape`).

    Returns
    -------
    SyntheticEELS
        ``(core_loss, low_loss, truth)``: two :class:`~cryospec.signals.CryoEELSSpectrum` and a
        :class:`LiLiPONTruth`.

    Examples
    --------
    >>> from cryospec import li_lipon
    >>> core_loss, low_loss, truth = li_lipon(shape=(4, 32), seed=1)
    >>> core_loss.data.shape
    (4, 32, 2048)
    >>> round(truth.interphase_thickness_nm)
    76
    """
    geometry = geometry or InterphaseGeometry()
    validate_positive(
        pixel_size_nm=pixel_size_nm,
        beam_current_pA=beam_current_pA,
        dwell_time_s=dwell_time_s,
        n_frames=n_frames,
        detector_gain=detector_gain,
        beam_energy_keV=beam_energy_keV,
        collection_mrad=collection_mrad,
        energy_step_eV=energy_step_eV,
        zlp_fwhm_eV=zlp_fwhm_eV,
        background_strength=background_strength,
        thickness_min=min(thickness_nm),
    )
    if energy_offset_eV <= 0:
        raise ValueError("energy_offset_eV must be positive: the core-loss axis starts above 0 eV")
    critical = _checked_damage(critical_dose_e_per_A2, damage_floor)
    rng = np.random.default_rng(seed)
    spec = build_specimen(shape, pixel_size_nm, geometry, thickness_nm, rng)
    axes = _Axes(energy_offset_eV, energy_step_eV, n_channels, n_low_loss_channels)
    electrons = float(electrons_per_pixel(beam_current_pA, dwell_time_s, n_frames))
    microscope = (beam_energy_keV, collection_mrad, convergence_mrad)
    sim = _simulate(
        spec, axes, microscope, electrons, zlp_fwhm_eV, background_strength, cross_section
    )
    frame_dose = float(dose_per_pixel(beam_current_pA, dwell_time_s, pixel_size_nm, 1))
    damage = {
        element: frame_mean_remaining(n_frames, frame_dose, critical.get(element), damage_floor)
        for element in EELS_EDGES
    }
    core_expected = _damaged_core_loss(sim, damage, n_frames if frame_axis else None)
    if noise:
        core_counts = detector_gain * rng.poisson(core_expected)
        low_loss_counts = detector_gain * rng.poisson(sim.low_loss)
    else:
        core_counts, low_loss_counts = core_expected, sim.low_loss
    truth = LiLiPONTruth(
        x_nm=spec.x_nm,
        y_nm=spec.y_nm,
        phases=tuple(p.name for p in PHASES),
        phase_fractions=spec.phase_fractions,
        li_environment_fractions=spec.li_environment_fractions,
        number_density=spec.number_density,
        areal_density=spec.areal_density,
        atomic_fraction=spec.atomic_fraction,
        thickness_nm=spec.thickness_nm,
        mean_free_path_nm=sim.mean_free_path,
        t_over_lambda=sim.tau,
        background_amplitude=sim.amplitude * detector_gain,
        background_exponent=sim.exponent,
        background_reference_eV=BACKGROUND_REFERENCE_EV,
        geometry=geometry,
        row_shift_nm=spec.row_shift_nm,
        gradients=spec.gradients,
        electrons_per_pixel=electrons,
        dose_e_per_A2=float(dose_per_pixel(beam_current_pA, dwell_time_s, pixel_size_nm, n_frames)),
        frame_dose_e_per_A2=frame_dose,
        critical_dose_e_per_A2=critical,
        damage_floor=damage_floor,
        damage_factor=damage,
        detector_gain=detector_gain,
        energy_eV=axes.energy,
        low_loss_energy_eV=axes.low_loss_energy,
        cross_sections=sim.cross_sections,
        li_k_phase_cross_sections=sim.cross_sections["Li_K"]
        * (1.0 + sim.li_modulation[:, :n_channels]),
        background=(sim.background * detector_gain).astype(np.float32),
        edges={k: v * np.float32(detector_gain) for k, v in sim.edges.items()},
        core_loss_noiseless=(core_expected * detector_gain).astype(np.float32),
        low_loss_noiseless=(sim.low_loss * detector_gain).astype(np.float32),
        cross_section=cross_section,
    )
    common = {
        "beam_energy": beam_energy_keV,
        "convergence_angle": convergence_mrad,
        "collection_angle": collection_mrad,
        "acquisition": acquisition_record(
            beam_current_pA, dwell_time_s, pixel_size_nm, n_frames, detector_gain
        ),
        "seed": seed,
        "nav": (spec.x_nm, spec.y_nm, pixel_size_nm),
    }
    core_loss, low_loss = _signals(core_counts, low_loss_counts, axes, common)
    return SyntheticEELS(core_loss, low_loss, truth)


def _checked_damage(critical_dose_e_per_A2, damage_floor) -> dict[str, float]:
    critical = dict(critical_dose_e_per_A2 or {})
    for element, value in critical.items():
        if element not in EELS_EDGES:
            raise ValueError(f"critical_dose_e_per_A2: unknown element {element!r}")
        validate_positive(**{f"critical dose of {element}": value})
    if not 0.0 <= damage_floor < 1.0:
        raise ValueError(f"damage_floor must lie in [0, 1), got {damage_floor!r}")
    return critical


def _damaged_core_loss(sim, damage, n_frames: int | None) -> NDArray:
    """Expected core loss with each element's edge scaled by its remaining fraction: summed over
    the frames, or frame by frame (an extra first axis) when ``n_frames`` is given."""

    def expected(remaining: dict[str, float]) -> NDArray:
        return sim.background + sum(remaining[el] * sim.edges[e] for el, e in EELS_EDGES.items())

    if n_frames is not None:
        frames = [expected({el: d[k] for el, d in damage.items()}) for k in range(n_frames)]
        return np.stack([frame / n_frames for frame in frames])
    return expected({el: d.mean() for el, d in damage.items()})


def _signals(core_counts, low_loss_counts, axes, common):
    core_loss, low_loss = (
        make_eels_signal(
            counts.astype(np.float32),
            offset,
            axes.step,
            f"Li | interphase | LiPON {name} (synthetic)",
            common,
        )
        for counts, offset, name in (
            (core_counts, axes.offset, "core loss"),
            (low_loss_counts, axes.low_loss_offset, "low loss"),
        )
    )
    core_loss.add_elements(("Li", "N", "O", "P"))
    return core_loss, low_loss


class _Axes:
    """The core-loss and low-loss energy axes (same dispersion; the low loss from -15 eV)."""

    # Edges are simulated a little beyond the axis so that the energy resolution does not
    # cut the last channels short.
    n_pad = 64

    def __init__(self, offset: float, step: float, n_channels: int, n_low_loss: int):
        self.offset, self.step, self.n_channels, self.n_low_loss = (
            offset,
            step,
            n_channels,
            n_low_loss,
        )
        self.energy = offset + step * np.arange(n_channels)
        self.low_loss_offset = -round(15.0 / step) * step
        self.low_loss_energy = self.low_loss_offset + step * np.arange(n_low_loss)
        self.extended = offset + step * np.arange(n_channels + self.n_pad)
        self.n_fft = next_fast_len(2 * max(n_channels + self.n_pad, n_low_loss), real=True)


@dataclass
class _Expected:
    """Expected electrons of the core loss (background, each edge) and of the low loss."""

    background: NDArray
    edges: dict[str, NDArray]
    low_loss: NDArray
    cross_sections: dict[str, NDArray]
    li_modulation: NDArray
    mean_free_path: NDArray
    tau: NDArray
    amplitude: NDArray
    exponent: NDArray


def _simulate(
    spec, axes: _Axes, microscope, electrons, zlp_fwhm_eV, background_strength, cross_section
):
    """Background, plurally scattered edges and low loss of every pixel (no noise, no damage)."""
    from exspy.utils.eels import iMFP_Iakoubovskii

    beam_energy_keV = microscope[0]
    inv_mfp_phase = np.array(
        [1.0 / iMFP_Iakoubovskii(p.density_g_cm3, beam_energy_keV) for p in PHASES]
    )
    inv_mfp = spec.phase_fractions @ inv_mfp_phase
    tau = spec.thickness_nm * inv_mfp
    # Each phase's share of the inelastic scattering weights its plasmon in the mixture.
    plasmon_weights = spec.phase_fractions * inv_mfp_phase
    plasmon_weights /= plasmon_weights.sum(axis=-1, keepdims=True)
    circ = _circular_energies(axes.n_fft, axes.step)
    phase_ssds = np.array(
        [drude_loss_function(circ, p.plasmon_eV, p.plasmon_width_eV) for p in PHASES]
    )
    cross_sections_ext = {
        edge: edge_shape(edge, axes.extended, *microscope, cross_section=cross_section)
        for edge in EELS_EDGES.values()
    }
    li_modulation = _li_k_fine_structure(axes.extended, cross_sections_ext["Li_K"])
    exponent = 3.8 - 1.5 * tau
    amplitude = background_strength * electrons * tau
    background = power_law(axes.energy, amplitude, exponent, BACKGROUND_REFERENCE_EV) * axes.step
    edges, low_loss = _plural_scattering(
        spec, axes, tau, plasmon_weights, phase_ssds, zlp_fwhm_eV, electrons,
        cross_sections_ext, li_modulation,
    )  # fmt: skip
    return _Expected(
        background=background,
        edges=edges,
        low_loss=low_loss,
        cross_sections={edge: cs[: axes.n_channels] for edge, cs in cross_sections_ext.items()},
        li_modulation=li_modulation,
        mean_free_path=1.0 / inv_mfp,
        tau=tau,
        amplitude=amplitude,
        exponent=exponent,
    )


def _plural_scattering(
    spec, axes, tau, plasmon_weights, phase_ssds, zlp_fwhm_eV, electrons, cross_sections,
    li_modulation,
):  # fmt: skip
    """The edges convolved with each pixel's plural-scattering kernel, and the low loss.

    Row block by row block: the Fourier intermediates of a whole large map would take many
    times its size.
    """
    # barn/eV * atoms/nm^2 = 1e-10 per eV; times channel width and incident electrons.
    scale = electrons * axes.step * 1e-10
    ny, nx = tau.shape
    n_channels, n_fft = axes.n_channels, axes.n_fft
    edges = {edge: np.empty((ny, nx, n_channels), np.float32) for edge in EELS_EDGES.values()}
    low_loss = np.empty((ny, nx, axes.n_low_loss))
    zero_index = round(-axes.low_loss_offset / axes.step)
    ll_index = (np.arange(axes.n_low_loss) - zero_index) % n_fft
    for start in range(0, ny, max(1, 2048 // nx)):
        rows = slice(start, start + max(1, 2048 // nx))
        kernel_ft = plural_scattering_kernel_ft(
            n_fft, axes.step, tau[rows], plasmon_weights[rows], phase_ssds, zlp_fwhm_eV
        )
        for element, edge in EELS_EDGES.items():
            ssd = spec.areal_density[element][rows, :, None] * cross_sections[edge] * scale
            if edge == "Li_K":
                fine = np.tensordot(
                    spec.li_environment_fractions[rows], li_modulation, axes=([-1], [0])
                )
                ssd = ssd * (1.0 + fine)
            spectrum = np.fft.rfft(ssd, n=n_fft, axis=-1) * kernel_ft
            plural = np.fft.irfft(spectrum, n=n_fft, axis=-1)
            edges[edge][rows] = np.clip(plural[..., :n_channels], 0.0, None)
        low_loss_kernel = np.fft.irfft(kernel_ft, n=n_fft, axis=-1)
        low_loss[rows] = np.clip(electrons * low_loss_kernel[..., ll_index], 0.0, None)
    return edges, low_loss
