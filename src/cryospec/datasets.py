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
t/lambda and ``r`` falling with thickness; hydrogenic K and L2,3 edges
(:mod:`cryospec.cross_sections`) for Li K, P L2,3, N K and O K weighted by the areal densities;
a Li K near-edge structure that differs between the Li environments (Li metal, Li2O, Li3N,
Li3PO4, LiPON); plural scattering by convolving the edges with the pixel's normalised low-loss.
The background is generated directly in its observed (plurally scattered) power-law form.

*Low loss.* Zero-loss peak (Gaussian, the energy resolution) and the Poisson series of Drude
plasmons of the local phase mixture, for the local t/lambda (mean free paths from exspy's
Iakoubovskii estimate).

*Noise.* The incident electrons per pixel follow from beam current, dwell time and frames;
recorded counts are ``detector_gain`` times Poisson-distributed electrons.

The Li K fine-structure shapes, plasmon energies and widths, the LiPON density and the EDX
k-factors are *synthetic choices* (near published ranges where those exist, see
``edges/Li_K.yaml``), made so that the phases are distinguishable; they are not reference data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import constants
from scipy.fft import next_fast_len

from ._simulate import (
    drude_loss_function,
    erf_step,
    gaussian,
    plural_scattering_kernel_ft,
    power_law,
    smooth_random_field,
)
from .cross_sections import edge_differential_cross_section
from .dose import dose_per_pixel, electrons_per_pixel
from .dose_series import frame_mean_remaining

__all__ = [
    "EELS_EDGES",
    "PHASES",
    "InterphaseGeometry",
    "LiLiPONEDSTruth",
    "LiLiPONTruth",
    "Phase",
    "SyntheticEDS",
    "SyntheticEELS",
    "li_lipon",
    "li_lipon_eds",
]

_ATOMIC_WEIGHT = {"Li": 6.941, "N": 14.007, "O": 15.999, "P": 30.974}
ELEMENTS = ("Li", "N", "O", "P")
EELS_EDGES = {"Li": "Li_K", "P": "P_L23", "N": "N_K", "O": "O_K"}
BACKGROUND_REFERENCE_EV = 50.0


@dataclass(frozen=True)
class Phase:
    """A phase of the synthetic specimen.

    ``li_k_peaks`` are (centre eV, sigma eV, height relative to the hydrogenic edge) of the
    synthetic Li K near-edge structure of this Li environment.
    """

    name: str
    density_g_cm3: float
    formula: dict[str, float]
    plasmon_eV: float
    plasmon_width_eV: float
    li_k_peaks: tuple[tuple[float, float, float], ...]

    def number_densities(self) -> dict[str, float]:
        """Atoms per nm³ of each element."""
        molar_mass = sum(n * _ATOMIC_WEIGHT[el] for el, n in self.formula.items())
        units_per_nm3 = self.density_g_cm3 / molar_mass * constants.Avogadro * 1e-21
        return {el: n * units_per_nm3 for el, n in self.formula.items()}


PHASES: tuple[Phase, ...] = (
    Phase("Li", 0.534, {"Li": 1.0}, 7.5, 1.5, ((58.5, 2.0, 0.6),)),
    Phase("Li2O", 2.013, {"Li": 2.0, "O": 1.0}, 19.0, 8.0, ((57.0, 0.5, 1.0), (62.0, 1.6, 1.2))),
    Phase("Li3N", 1.27, {"Li": 3.0, "N": 1.0}, 16.5, 7.0, ((58.0, 1.0, 0.9), (64.5, 2.2, 0.8))),
    Phase(
        "Li3PO4",
        2.48,
        {"Li": 3.0, "P": 1.0, "O": 4.0},
        24.0,
        9.0,
        ((61.5, 1.2, 1.5), (66.5, 2.5, 0.6)),
    ),
    Phase(
        "LiPON",
        2.3,
        {"Li": 2.9, "P": 1.0, "O": 3.3, "N": 0.46},
        23.0,
        10.0,
        ((62.0, 2.0, 1.1), (67.0, 3.0, 0.5)),
    ),
)


@dataclass(frozen=True)
class InterphaseGeometry:
    """Positions (nm, along the depth axis) and widths (Gaussian sigma, nm) of the structure.

    ``mosaic`` sets how the interphase phases (Li2O, Li3N, Li3PO4) share space: ``"texture"``
    mixes them in every pixel with a smooth random modulation; ``"grains"`` makes the interphase
    a mosaic of single-phase grains about ``grain_size_nm`` across (Voronoi cells, the phase of
    each grain drawn with the local N- and P-gradient probabilities), the picture of the SEI as a
    mosaic of nanocrystallites (Peled et al., J. Electrochem. Soc. 144 (1997) L208), where pixels
    of pure phases exist and blind unmixing (NMF) can find the phases.
    """

    li_interface_nm: float = 40.0
    li_width_nm: float = 4.0
    lipon_interface_nm: float = 116.0
    lipon_width_nm: float = 5.0
    n_gradient_nm: float = 86.0
    n_gradient_width_nm: float = 12.0
    p_gradient_nm: float = 94.0
    p_gradient_width_nm: float = 10.0
    n_fraction: float = 0.2
    p_fraction: float = 0.7
    roughness_nm: float = 2.0
    mosaic_amplitude: float = 0.2
    mosaic: str = "texture"
    grain_size_nm: float = 7.5

    def __post_init__(self) -> None:
        if self.mosaic not in ("texture", "grains"):
            raise ValueError(f"mosaic must be 'texture' or 'grains', got {self.mosaic!r}")
        if not self.grain_size_nm > 0:
            raise ValueError("grain_size_nm must be positive")

    @property
    def interphase_thickness_nm(self) -> float:
        """Distance between the two outer interfaces."""
        return self.lipon_interface_nm - self.li_interface_nm


@dataclass
class _Specimen:
    x_nm: NDArray
    y_nm: NDArray
    row_shift_nm: NDArray
    phase_fractions: NDArray
    thickness_nm: NDArray
    number_density: dict[str, NDArray]
    areal_density: dict[str, NDArray]
    atomic_fraction: dict[str, NDArray]
    li_environment_fractions: NDArray
    gradients: dict[str, dict[str, float]]


@dataclass
class LiLiPONTruth:
    """Ground truth of :func:`li_lipon`. Maps have shape (ny, nx); spectra (ny, nx, n_channels).

    Attributes
    ----------
    x_nm, y_nm : ndarray
        Pixel coordinates across (depth) and along the interphase.
    phases : tuple of str
        Phase names, the order of the last axis of the fraction arrays.
    phase_fractions : ndarray (ny, nx, n_phase)
        Volume fractions.
    li_environment_fractions : ndarray (ny, nx, n_phase)
        Fraction of the Li atoms in each phase (weights of the Li K fine structures).
    number_density, areal_density, atomic_fraction : dict of ndarray
        Per element: atoms/nm³, atoms/nm², and atomic fraction.
    thickness_nm, mean_free_path_nm, t_over_lambda : ndarray
        Specimen thickness, inelastic mean free path and relative thickness.
    background_amplitude, background_exponent : ndarray
        Power-law background ``amplitude * (E / background_reference_eV) ** -exponent`` in
        expected counts per eV.
    geometry : InterphaseGeometry
        Interface positions and widths, the gradients' defining parameters.
    row_shift_nm : ndarray (ny,)
        Roughness: shift of both interfaces in each row.
    gradients : dict
        Per element, from the nominal (no roughness, no mosaic) number-density profile: the
        Li-side and LiPON-side plateaus (``low``, ``high``), the first 50 % crossing
        ``position_nm``, the 10-90 % ``width_10_90_nm`` and whether it is ``monotonic``; and
        ``erf_position_nm``, ``erf_sigma_nm``: the error-function step that best describes the
        row-averaged true atomic-fraction profile of this map (what an erf fit should find).
    electrons_per_pixel, dose_e_per_A2 : float
        Incident electrons and dose per pixel (all frames).
    frame_dose_e_per_A2 : float
        Dose of one frame.
    critical_dose_e_per_A2, damage_floor, damage_factor : dict, float, dict
        The simulated damage, and per element the factor (n_frames,) by which each frame's
        areal density is scaled (1 without damage).
    energy_eV, low_loss_energy_eV : ndarray
        Energy axes.
    cross_sections : dict of ndarray
        Hydrogenic dsigma/dE (barn/eV) per edge on ``energy_eV`` (no fine structure).
    li_k_phase_cross_sections : ndarray (n_phase, n_channels)
        Li K dsigma/dE (barn/eV) with each phase's fine structure: the single-scattering
        reference spectrum of each Li environment.
    background, edges, core_loss_noiseless, low_loss_noiseless : ndarray or dict
        Expected counts of the whole acquisition: the background, each edge's undamaged
        contribution (plural scattering included), the core loss (with damage; per frame with a
        frame axis, frame k being ``(background + sum_e damage_factor[e][k] * edges[e]) /
        n_frames``), and the low-loss.
    """

    x_nm: NDArray
    y_nm: NDArray
    phases: tuple[str, ...]
    phase_fractions: NDArray
    li_environment_fractions: NDArray
    number_density: dict[str, NDArray]
    areal_density: dict[str, NDArray]
    atomic_fraction: dict[str, NDArray]
    thickness_nm: NDArray
    mean_free_path_nm: NDArray
    t_over_lambda: NDArray
    background_amplitude: NDArray
    background_exponent: NDArray
    background_reference_eV: float
    geometry: InterphaseGeometry
    row_shift_nm: NDArray
    gradients: dict[str, dict[str, float | bool]]
    electrons_per_pixel: float
    dose_e_per_A2: float
    frame_dose_e_per_A2: float
    critical_dose_e_per_A2: dict[str, float]
    damage_floor: float
    damage_factor: dict[str, NDArray]
    detector_gain: float
    energy_eV: NDArray
    low_loss_energy_eV: NDArray
    cross_sections: dict[str, NDArray]
    li_k_phase_cross_sections: NDArray
    background: NDArray
    edges: dict[str, NDArray] = field(repr=False)
    core_loss_noiseless: NDArray = field(repr=False)
    low_loss_noiseless: NDArray = field(repr=False)

    @property
    def interphase_thickness_nm(self) -> float:
        """Distance between the Li|interphase and interphase|LiPON interfaces."""
        return self.geometry.interphase_thickness_nm

    def phase_references(self) -> dict:
        """The Li K reference spectrum of each phase, as a user would have from standards.

        Returns
        -------
        dict of str to Signal1D
            Single-scattering Li K dsigma/dE per Li atom (barn/eV) with each phase's fine
            structure, on the core-loss energy axis.
        """
        from hyperspy.signals import Signal1D

        step = float(self.energy_eV[1] - self.energy_eV[0])
        refs = {}
        for name, spectrum in zip(self.phases, self.li_k_phase_cross_sections, strict=True):
            ref = Signal1D(np.array(spectrum))
            axis = ref.axes_manager.signal_axes[0]
            axis.offset, axis.scale, axis.units, axis.name = (
                float(self.energy_eV[0]),
                step,
                "eV",
                "Energy loss",
            )
            ref.metadata.General.title = f"Li K reference: {name} (synthetic)"
            refs[name] = ref
        return refs


@dataclass
class LiLiPONEDSTruth:
    """Ground truth of :func:`li_lipon_eds` (maps (ny, nx), spectra (ny, nx, n_channels)).

    ``line_intensity`` holds the expected counts of each X-ray line family per pixel;
    ``k_factors`` the Cliff-Lorimer k-factors (weight-fraction convention, as exspy) used to
    simulate them: ``I_A = efficiency * I0 * rho_t_A / k_A``.
    """

    x_nm: NDArray
    y_nm: NDArray
    phases: tuple[str, ...]
    phase_fractions: NDArray
    areal_density: dict[str, NDArray]
    atomic_fraction: dict[str, NDArray]
    thickness_nm: NDArray
    geometry: InterphaseGeometry
    row_shift_nm: NDArray
    gradients: dict[str, dict[str, float]]
    xray_lines: tuple[str, ...]
    k_factors: dict[str, float]
    line_intensity: dict[str, NDArray]
    electrons_per_pixel: float
    dose_e_per_A2: float
    energy_keV: NDArray
    bremsstrahlung: NDArray = field(repr=False)
    spectrum_noiseless: NDArray = field(repr=False)


class SyntheticEELS(NamedTuple):
    """What :func:`li_lipon` returns: ``core_loss, low_loss, truth = li_lipon()``."""

    core_loss: object
    low_loss: object
    truth: LiLiPONTruth


class SyntheticEDS(NamedTuple):
    """What :func:`li_lipon_eds` returns: ``eds, truth = li_lipon_eds()``."""

    eds: object
    truth: LiLiPONEDSTruth


def _profile_gradient(x: NDArray, profile: NDArray) -> dict[str, float]:
    """Plateaus, 50 % position and 10-90 % width of a rising profile.

    Levels are fractions of the way from the Li-side plateau (first point) to the LiPON-side
    plateau (last point); each is taken at its first crossing, so a profile that overshoots
    (O: Li2O then Li3PO4 then LiPON) is described by its first rise.
    """
    low, high = float(profile[0]), float(profile[-1])
    if abs(high - low) < 1e-12:
        raise ValueError("the profile has no gradient")
    frac = (profile - low) / (high - low)

    def crossing(level: float) -> float:
        i = int(np.argmax(frac >= level))
        f0, f1 = frac[i - 1], frac[i]
        return float(x[i - 1] + (level - f0) / (f1 - f0) * (x[i] - x[i - 1]))

    return {
        "low": low,
        "high": high,
        "position_nm": crossing(0.5),
        "width_10_90_nm": crossing(0.9) - crossing(0.1),
        "monotonic": bool(np.all(np.diff(profile) >= -1e-9 * max(abs(high), 1.0))),
    }


def _erf_equivalent(x: NDArray, profile: NDArray) -> dict[str, float]:
    """The error-function step that best describes a profile (least squares, no noise).

    What an erf fit of the measured profile should find: ``erf_position_nm``, ``erf_sigma_nm``.
    """
    from scipy.optimize import curve_fit
    from scipy.special import erf

    def step(u, x0, sigma, c0, c1):
        return c0 + (c1 - c0) * (1 + erf((u - x0) / (np.sqrt(2) * sigma))) / 2

    half = x[np.argmin(np.abs(profile - (profile[0] + profile[-1]) / 2))]
    start = [half, (x[-1] - x[0]) / 20, profile[0], profile[-1]]
    if x.size < 6 or np.ptp(profile) == 0:
        return {"erf_position_nm": float("nan"), "erf_sigma_nm": float("nan")}
    try:
        (x0, sigma, _, _), _ = curve_fit(step, x, profile, p0=start, maxfev=20000)
    except RuntimeError:  # the field of view does not hold this gradient
        return {"erf_position_nm": float("nan"), "erf_sigma_nm": float("nan")}
    return {"erf_position_nm": float(x0), "erf_sigma_nm": float(abs(sigma))}


def _phase_fractions(x: NDArray, geometry: InterphaseGeometry, texture: NDArray | float) -> NDArray:
    """Volume fractions (..., n_phase) at depth(s) ``x`` (broadcast with ``texture``)."""
    g = geometry
    metal = 1.0 - erf_step(x, g.li_interface_nm, g.li_width_nm)
    lipon = erf_step(x, g.lipon_interface_nm, g.lipon_width_nm)
    interphase = np.clip(1.0 - metal - lipon, 0.0, 1.0)
    modulation = 1.0 + g.mosaic_amplitude * texture
    w_n = np.clip(
        g.n_fraction * erf_step(x, g.n_gradient_nm, g.n_gradient_width_nm) * modulation, 0, 1
    )
    w_p = np.clip(
        g.p_fraction * erf_step(x, g.p_gradient_nm, g.p_gradient_width_nm) * modulation, 0, 1
    )
    scale = np.maximum(w_n + w_p, 1.0)
    w_n, w_p = w_n / scale, w_p / scale
    w_o = 1.0 - w_n - w_p
    return np.stack(
        np.broadcast_arrays(metal, interphase * w_o, interphase * w_n, interphase * w_p, lipon),
        axis=-1,
    )


def _grain_mosaic(
    fractions: NDArray, xx: NDArray, y: NDArray, geometry: InterphaseGeometry, rng
) -> NDArray:
    """Replace the interphase mixture of every pixel by the phase of its Voronoi grain.

    Grain centres form a Poisson process of one per ``grain_size_nm**2``; a grain's phase is
    drawn once, by comparing a uniform number with the cumulative Li2O/Li3N/Li3PO4 shares at the
    pixel's depth, so the expected shares follow the gradients. Metal and LiPON are untouched.
    """
    from scipy.spatial import cKDTree

    ny, nx = xx.shape
    yy = np.broadcast_to(y[:, None], xx.shape)
    points = np.stack([xx.ravel(), yy.ravel()], axis=-1)
    lo, hi = (
        points.min(axis=0) - geometry.grain_size_nm,
        points.max(axis=0) + geometry.grain_size_nm,
    )
    n_grains = max(int(np.prod(hi - lo) / geometry.grain_size_nm**2), 1)
    centres = lo + (hi - lo) * rng.random((n_grains, 2))
    grain = cKDTree(centres).query(points)[1].reshape(ny, nx)
    draw = rng.random(n_grains)[grain]
    interphase = fractions[..., 1:4].sum(axis=-1)
    shares = fractions[..., 1:4] / np.where(interphase > 0, interphase, 1.0)[..., None]
    cumulative = np.cumsum(shares, axis=-1)
    chosen = np.minimum((draw[..., None] > cumulative).sum(axis=-1), 2)
    out = fractions.copy()
    out[..., 1:4] = interphase[..., None] * (np.arange(3) == chosen[..., None])
    return out


def _specimen(
    shape: tuple[int, int],
    pixel_size_nm: float,
    geometry: InterphaseGeometry,
    thickness_nm: tuple[float, float],
    rng: np.random.Generator,
) -> _Specimen:
    ny, nx = shape
    x = np.arange(nx) * pixel_size_nm
    y = np.arange(ny) * pixel_size_nm
    row_shift = geometry.roughness_nm * smooth_random_field(rng, (ny,), max(ny / 6, 1.0))
    texture = smooth_random_field(rng, (ny, nx), 1.5)
    xx = x[None, :] - row_shift[:, None]
    fractions = _phase_fractions(xx, geometry, texture)
    if geometry.mosaic == "grains":
        fractions = _grain_mosaic(fractions, xx, y, geometry, rng)

    t0, t1 = thickness_nm
    wedge = t0 + (t1 - t0) * (x / max(x[-1], 1e-12))
    thickness = wedge[None, :] * (1.0 + 0.04 * smooth_random_field(rng, (ny, nx), 3.0))
    if t0 == t1:
        thickness = np.broadcast_to(wedge[None, :], (ny, nx)).copy()

    phase_n = [p.number_densities() for p in PHASES]
    number_density = {
        el: np.tensordot(fractions, [pn.get(el, 0.0) for pn in phase_n], axes=([-1], [0]))
        for el in ELEMENTS
    }
    areal = {el: number_density[el] * thickness for el in ELEMENTS}
    total = sum(number_density.values())
    atomic_fraction = {el: number_density[el] / total for el in ELEMENTS}
    li_per_phase = fractions * np.array([pn.get("Li", 0.0) for pn in phase_n])
    li_env = li_per_phase / li_per_phase.sum(axis=-1, keepdims=True)

    # The gradients are properties of the specimen, not of the field of view.
    fine_x = np.linspace(geometry.li_interface_nm - 60.0, geometry.lipon_interface_nm + 60.0, 4000)
    nominal = _phase_fractions(fine_x, geometry, 0.0)
    gradients = {}
    for el in ("N", "O", "P"):
        density = nominal @ np.array([pn.get(el, 0.0) for pn in phase_n])
        gradients[el] = _profile_gradient(fine_x, density)
        gradients[el].update(_erf_equivalent(x, atomic_fraction[el].mean(axis=0)))
    return _Specimen(
        x,
        y,
        row_shift,
        fractions,
        thickness,
        number_density,
        areal,
        atomic_fraction,
        li_env,
        gradients,
    )


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


def _validate_positive(**values: float) -> None:
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be finite and positive, got {value!r}")


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

    Returns
    -------
    SyntheticEELS
        ``(core_loss, low_loss, truth)``: two :class:`~cryospec.signals.CryoEELSSpectrum` and a
        :class:`LiLiPONTruth`.

    Examples
    --------
    >>> from cryospec.datasets import li_lipon
    >>> core_loss, low_loss, truth = li_lipon(shape=(4, 32), seed=1)
    >>> core_loss.data.shape
    (4, 32, 2048)
    >>> round(truth.interphase_thickness_nm)
    76
    """
    geometry = geometry or InterphaseGeometry()
    _validate_positive(
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
    critical = dict(critical_dose_e_per_A2 or {})
    for element, value in critical.items():
        if element not in EELS_EDGES:
            raise ValueError(f"critical_dose_e_per_A2: unknown element {element!r}")
        _validate_positive(**{f"critical dose of {element}": value})
    if not 0.0 <= damage_floor < 1.0:
        raise ValueError(f"damage_floor must lie in [0, 1), got {damage_floor!r}")
    rng = np.random.default_rng(seed)
    spec = _specimen(shape, pixel_size_nm, geometry, thickness_nm, rng)
    from exspy.utils.eels import iMFP_Iakoubovskii

    inv_mfp_phase = np.array(
        [1.0 / iMFP_Iakoubovskii(p.density_g_cm3, beam_energy_keV) for p in PHASES]
    )
    inv_mfp = spec.phase_fractions @ inv_mfp_phase
    mfp = 1.0 / inv_mfp
    tau = spec.thickness_nm * inv_mfp
    # Each phase's share of the inelastic scattering weights its plasmon in the mixture.
    plasmon_weights = spec.phase_fractions * inv_mfp_phase
    plasmon_weights /= plasmon_weights.sum(axis=-1, keepdims=True)

    energy = energy_offset_eV + energy_step_eV * np.arange(n_channels)
    # Edges are simulated a little beyond the axis so that the energy resolution does not
    # cut the last channels short.
    n_pad = 64
    ll_offset = -round(15.0 / energy_step_eV) * energy_step_eV
    ll_energy = ll_offset + energy_step_eV * np.arange(n_low_loss_channels)
    n_fft = next_fast_len(2 * max(n_channels + n_pad, n_low_loss_channels), real=True)
    circ = _circular_energies(n_fft, energy_step_eV)
    phase_ssds = np.array(
        [drude_loss_function(circ, p.plasmon_eV, p.plasmon_width_eV) for p in PHASES]
    )

    electrons = float(electrons_per_pixel(beam_current_pA, dwell_time_s, n_frames))
    dose = float(dose_per_pixel(beam_current_pA, dwell_time_s, pixel_size_nm, n_frames))

    energy_ext = energy_offset_eV + energy_step_eV * np.arange(n_channels + n_pad)
    cross_sections_ext = {
        edge: edge_differential_cross_section(
            edge, energy_ext, beam_energy_keV, collection_mrad, convergence_mrad
        )
        for edge in EELS_EDGES.values()
    }
    cross_sections = {edge: cs[:n_channels] for edge, cs in cross_sections_ext.items()}
    li_modulation = _li_k_fine_structure(energy_ext, cross_sections_ext["Li_K"])
    # barn/eV * atoms/nm^2 = 1e-10 per eV; times channel width and incident electrons.
    scale = electrons * energy_step_eV * 1e-10

    exponent = 3.8 - 1.5 * tau
    amplitude = background_strength * electrons * tau
    background = power_law(energy, amplitude, exponent, BACKGROUND_REFERENCE_EV) * energy_step_eV

    # Plural scattering row block by row block: the Fourier intermediates of a whole large map
    # would take many times its size.
    ny, nx = shape
    edges = {edge: np.empty((ny, nx, n_channels), np.float32) for edge in EELS_EDGES.values()}
    low_loss_expected = np.empty((ny, nx, n_low_loss_channels))
    zero_index = round(-ll_offset / energy_step_eV)
    ll_index = (np.arange(n_low_loss_channels) - zero_index) % n_fft
    for start in range(0, ny, max(1, 2048 // nx)):
        rows = slice(start, start + max(1, 2048 // nx))
        kernel_ft = plural_scattering_kernel_ft(
            n_fft, energy_step_eV, tau[rows], plasmon_weights[rows], phase_ssds, zlp_fwhm_eV
        )
        for element, edge in EELS_EDGES.items():
            ssd = spec.areal_density[element][rows, :, None] * cross_sections_ext[edge] * scale
            if edge == "Li_K":
                fine = np.tensordot(
                    spec.li_environment_fractions[rows], li_modulation, axes=([-1], [0])
                )
                ssd = ssd * (1.0 + fine)
            spectrum = np.fft.rfft(ssd, n=n_fft, axis=-1) * kernel_ft
            plural = np.fft.irfft(spectrum, n=n_fft, axis=-1)
            edges[edge][rows] = np.clip(plural[..., :n_channels], 0.0, None)
        low_loss_kernel = np.fft.irfft(kernel_ft, n=n_fft, axis=-1)
        low_loss_expected[rows] = np.clip(electrons * low_loss_kernel[..., ll_index], 0.0, None)
    frame_dose = float(dose_per_pixel(beam_current_pA, dwell_time_s, pixel_size_nm, 1))
    damage = {
        element: frame_mean_remaining(n_frames, frame_dose, critical.get(element), damage_floor)
        for element in EELS_EDGES
    }
    if frame_axis:
        core_expected = np.stack(
            [
                (background + sum(damage[el][k] * edges[e] for el, e in EELS_EDGES.items()))
                / n_frames
                for k in range(n_frames)
            ]
        )
    else:
        core_expected = background + sum(
            damage[el].mean() * edges[e] for el, e in EELS_EDGES.items()
        )

    if noise:
        core_counts = detector_gain * rng.poisson(core_expected)
        low_loss_counts = detector_gain * rng.poisson(low_loss_expected)
    else:
        core_counts, low_loss_counts = core_expected, low_loss_expected

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
        mean_free_path_nm=mfp,
        t_over_lambda=tau,
        background_amplitude=amplitude * detector_gain,
        background_exponent=exponent,
        background_reference_eV=BACKGROUND_REFERENCE_EV,
        geometry=geometry,
        row_shift_nm=spec.row_shift_nm,
        gradients=spec.gradients,
        electrons_per_pixel=electrons,
        dose_e_per_A2=dose,
        frame_dose_e_per_A2=frame_dose,
        critical_dose_e_per_A2=critical,
        damage_floor=damage_floor,
        damage_factor=damage,
        detector_gain=detector_gain,
        energy_eV=energy,
        low_loss_energy_eV=ll_energy,
        cross_sections=cross_sections,
        li_k_phase_cross_sections=cross_sections["Li_K"] * (1.0 + li_modulation[:, :n_channels]),
        background=(background * detector_gain).astype(np.float32),
        edges={k: v * np.float32(detector_gain) for k, v in edges.items()},
        core_loss_noiseless=(core_expected * detector_gain).astype(np.float32),
        low_loss_noiseless=(low_loss_expected * detector_gain).astype(np.float32),
    )

    acquisition = _acquisition(
        beam_current_pA, dwell_time_s, pixel_size_nm, n_frames, detector_gain
    )
    common = {
        "beam_energy": beam_energy_keV,
        "convergence_angle": convergence_mrad,
        "collection_angle": collection_mrad,
        "acquisition": acquisition,
        "seed": seed,
        "nav": (spec.x_nm, spec.y_nm, pixel_size_nm),
    }
    core_loss = _make_eels_signal(
        core_counts.astype(np.float32),
        energy_offset_eV,
        energy_step_eV,
        "Li | interphase | LiPON core loss (synthetic)",
        common,
    )
    core_loss.add_elements(("Li", "N", "O", "P"))
    low_loss = _make_eels_signal(
        low_loss_counts.astype(np.float32),
        ll_offset,
        energy_step_eV,
        "Li | interphase | LiPON low loss (synthetic)",
        common,
    )
    return SyntheticEELS(core_loss, low_loss, truth)


def _acquisition(
    beam_current_pA: float,
    dwell_time_s: float,
    pixel_size_nm: float,
    n_frames: int,
    detector_gain: float,
) -> dict[str, float | int]:
    """The metadata.CryoSpec.Acquisition fields of a synthetic acquisition (at 100 K)."""
    return {
        "beam_current_pA": float(beam_current_pA),
        "dwell_time_s": float(dwell_time_s),
        "pixel_size_nm": float(pixel_size_nm),
        "n_frames": int(n_frames),
        "detector_gain": float(detector_gain),
        "temperature_K": 100.0,
    }


def _tag_synthetic(signal, name: str, seed: int, acquisition: dict, **extra) -> None:
    """Write the acquisition fields and the ``CryoSpec.Dataset`` provenance node."""
    signal.set_acquisition_parameters(**acquisition)
    dataset = {"name": name, "seed": int(seed), "synthetic": True, **extra}
    signal.metadata.set_item("CryoSpec.Dataset", dataset)


def _navigation_axes(pixel_size_nm: float, ny: int, nx: int) -> list[dict]:
    return [
        {
            "name": "y",
            "size": ny,
            "offset": 0.0,
            "scale": pixel_size_nm,
            "units": "nm",
            "navigate": True,
        },
        {
            "name": "x",
            "size": nx,
            "offset": 0.0,
            "scale": pixel_size_nm,
            "units": "nm",
            "navigate": True,
        },
    ]


def _make_eels_signal(data: NDArray, offset: float, step: float, title: str, common: dict):
    from .signals import CryoEELSSpectrum

    *frames, ny, nx, n = data.shape
    frame_axes = [
        {"name": "frame", "size": f, "offset": 0.0, "scale": 1.0, "units": "", "navigate": True}
        for f in frames
    ]
    axes = [
        *frame_axes,
        *_navigation_axes(common["nav"][2], ny, nx),
        {
            "name": "Energy loss",
            "size": n,
            "offset": float(offset),
            "scale": float(step),
            "units": "eV",
            "navigate": False,
        },
    ]
    s = CryoEELSSpectrum(data, axes=axes)
    s.metadata.General.title = title
    s.set_microscope_parameters(
        beam_energy=common["beam_energy"],
        convergence_angle=common["convergence_angle"],
        collection_angle=common["collection_angle"],
    )
    _tag_synthetic(s, "li_lipon", common["seed"], common["acquisition"])
    s.metadata.set_item("Sample.description", "Li metal | interphase | LiPON cross-section")
    return s


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
    ``I_A = efficiency * I0 * (mass thickness of A in amu/nm²) / k_A``.

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
        Cliff-Lorimer k-factors per element (default N 2.0, O 1.5, P 1.0: synthetic values).
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
    from exspy.material import elements as exspy_elements

    from .signals import CryoEDSTEMSpectrum

    geometry = geometry or InterphaseGeometry()
    k_factors = dict(k_factors or {"N": 2.0, "O": 1.5, "P": 1.0})
    _validate_positive(
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
    spec = _specimen(shape, pixel_size_nm, geometry, thickness_nm, rng)
    electrons = float(electrons_per_pixel(beam_current_pA, dwell_time_s, n_frames))
    dose = float(dose_per_pixel(beam_current_pA, dwell_time_s, pixel_size_nm, n_frames))
    energy = energy_step_keV * np.arange(n_channels)

    lines = ("N_Ka", "O_Ka", "P_Ka")
    mass_thickness = {el: spec.areal_density[el] * _ATOMIC_WEIGHT[el] for el in ELEMENTS}
    line_intensity = {}
    spectrum = np.zeros((*shape, n_channels))
    mn_ka_eV = 5898.7
    for line in lines:
        element = line.split("_")[0]
        if element not in k_factors:
            raise ValueError(f"k_factors has no value for {element}, needed for {line}")
        family = exspy_elements[element].Atomic_properties.Xray_lines
        intensity = efficiency * electrons * mass_thickness[element] / k_factors[element]
        line_intensity[line] = intensity
        # ``intensity`` is the Ka line's; the family's other lines follow exspy's weights.
        for sub in family.keys():
            centre = family[sub]["energy (keV)"]
            fwhm_eV = np.sqrt(energy_resolution_MnKa_eV**2 + 2.5 * (centre * 1e3 - mn_ka_eV))
            sigma = fwhm_eV * 1e-3 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
            profile = gaussian(energy, centre, sigma)
            profile /= profile.sum()
            spectrum += (intensity * family[sub]["weight"])[..., None] * profile

    total_mass = sum(mass_thickness.values())
    with np.errstate(divide="ignore", invalid="ignore"):
        kramers = np.where(energy > 0, (beam_energy_keV - energy) / np.maximum(energy, 1e-9), 0.0)
    detector = np.exp(-((0.3 / np.maximum(energy, 1e-3)) ** 3))
    bremsstrahlung = (
        bremsstrahlung_strength * electrons * total_mass[..., None] * (kramers * detector)
    )
    expected = spectrum + bremsstrahlung
    counts = rng.poisson(expected).astype(np.float32) if noise else expected.astype(np.float32)

    axes = [
        *_navigation_axes(pixel_size_nm, *shape),
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
    )
    acquisition = _acquisition(beam_current_pA, dwell_time_s, pixel_size_nm, n_frames, 1.0)
    _tag_synthetic(eds, "li_lipon_eds", seed, acquisition, k_factors=dict(k_factors))
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
        electrons_per_pixel=electrons,
        dose_e_per_A2=dose,
        energy_keV=energy,
        bremsstrahlung=bremsstrahlung.astype(np.float32),
        spectrum_noiseless=expected.astype(np.float32),
    )
    return SyntheticEDS(eds, truth)
