"""The specimen of the built-in datasets: phases, the Li | interphase | LiPON geometry, the truth.

Pure NumPy: per-pixel phase fractions, thickness and areal densities of the model cross-section,
and the truth objects that the datasets return beside their signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import constants

from cryospec.core.gradient_models import unit_step
from cryospec.data._simulate import smooth_random_field

__all__ = [
    "EELS_EDGES",
    "ELEMENTS",
    "PHASES",
    "InterphaseGeometry",
    "LiLiPONEDSTruth",
    "LiLiPONTruth",
    "Phase",
    "SyntheticEDS",
    "SyntheticEELS",
]


ATOMIC_WEIGHT = {"Li": 6.941, "N": 14.007, "O": 15.999, "P": 30.974}


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
        molar_mass = sum(n * ATOMIC_WEIGHT[el] for el, n in self.formula.items())
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
        dsigma/dE (barn/eV) per edge on ``energy_eV`` (no fine structure), of the model named
        by ``cross_section``.
    li_k_phase_cross_sections : ndarray (n_phase, n_channels)
        Li K dsigma/dE (barn/eV) with each phase's fine structure: the single-scattering
        reference spectrum of each Li environment.
    background, edges, core_loss_noiseless, low_loss_noiseless : ndarray or dict
        Expected counts of the whole acquisition: the background, each edge's undamaged
        contribution (plural scattering included), the core loss (with damage; per frame with a
        frame axis, frame k being ``(background + sum_e damage_factor[e][k] * edges[e]) /
        n_frames``), and the low-loss.
    cross_section : str
        The cross-sections of the simulation (``"hartree-slater"`` or ``"hydrogenic"``).
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
    cross_section: str = "hartree-slater"

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
    simulate them: ``I_A = efficiency * I0 * rho_t_A / k_A``, times ``emitted_share`` (line ->
    map, the share that leaves the film) when absorption was simulated (else None);
    ``mass_thickness_g_cm2`` is the film's mass thickness per pixel, Li included.
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
    mass_thickness_g_cm2: NDArray
    emitted_share: dict[str, NDArray] | None
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

    def step(u, x0, sigma, c0, c1):
        return c0 + (c1 - c0) * unit_step(u, x0, sigma)

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
    metal = 1.0 - unit_step(x, g.li_interface_nm, g.li_width_nm)
    lipon = unit_step(x, g.lipon_interface_nm, g.lipon_width_nm)
    interphase = np.clip(1.0 - metal - lipon, 0.0, 1.0)
    modulation = 1.0 + g.mosaic_amplitude * texture
    w_n = np.clip(
        g.n_fraction * unit_step(x, g.n_gradient_nm, g.n_gradient_width_nm) * modulation, 0, 1
    )
    w_p = np.clip(
        g.p_fraction * unit_step(x, g.p_gradient_nm, g.p_gradient_width_nm) * modulation, 0, 1
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


def build_specimen(
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


def validate_positive(**values: float) -> None:
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be finite and positive, got {value!r}")
