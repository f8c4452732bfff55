"""Pure NumPy building blocks of the synthetic spectrum images in :mod:`cryospec.datasets`.

Everything here takes and returns arrays; nothing knows about HyperSpy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = [
    "drude_loss_function",
    "gaussian",
    "plural_scattering_kernel_ft",
    "power_law",
    "smooth_random_field",
]


def gaussian(x: NDArray, centre: float, sigma: float) -> NDArray:
    """Unit-height Gaussian."""
    return np.exp(-0.5 * ((x - centre) / sigma) ** 2)


def power_law(
    energy: NDArray, amplitude: NDArray, exponent: NDArray, reference_eV: float
) -> NDArray:
    """``amplitude * (energy / reference_eV) ** -exponent`` broadcast over leading axes.

    ``amplitude`` and ``exponent`` have shape ``(...)``; the result has shape ``(..., n_energy)``.
    """
    ratio = np.asarray(energy, dtype=float) / reference_eV
    return np.asarray(amplitude)[..., None] * ratio ** (-np.asarray(exponent)[..., None])


def drude_loss_function(energy: NDArray, plasmon_eV: float, width_eV: float) -> NDArray:
    """Drude energy-loss function Im(-1/epsilon) (arbitrary scale), zero at and below 0 eV."""
    e = np.asarray(energy, dtype=float)
    out = e * width_eV * plasmon_eV**2 / ((e**2 - plasmon_eV**2) ** 2 + (e * width_eV) ** 2)
    return np.where(e > 0, out, 0.0)


def plural_scattering_kernel_ft(
    n_fft: int,
    step_eV: float,
    t_over_lambda: NDArray,
    ssd_weights: NDArray,
    phase_ssds: NDArray,
    zlp_fwhm_eV: float,
) -> NDArray:
    """Fourier transform of the normalised low-loss distribution, for every pixel at once.

    The low-loss is the zero-loss peak (a Gaussian of the given FWHM, the energy resolution)
    convolved with the Poisson series of plasmon scattering,
    ``FT = Z(nu) * exp(tau * (S(nu) - 1))``, where ``S`` is the FT of the unit-area
    single-scattering distribution (a weighted mixture of the phases' SSDs).

    Parameters
    ----------
    n_fft : int
        Length of the circular energy grid; index 0 is 0 eV.
    step_eV : float
        Channel width.
    t_over_lambda : ndarray, shape (...)
        Relative thickness per pixel.
    ssd_weights : ndarray, shape (..., n_phase)
        Weight of each phase's SSD per pixel (sums to 1 over the last axis).
    phase_ssds : ndarray, shape (n_phase, n_fft)
        Each phase's SSD sampled on the circular grid (any scale; normalised here).
    zlp_fwhm_eV : float
        Energy resolution.

    Returns
    -------
    ndarray, complex, shape (..., n_fft // 2 + 1)
        rfft of the kernel; its inverse sums to 1 over a period.
    """
    ssds = phase_ssds / phase_ssds.sum(axis=-1, keepdims=True)
    ssd_ft = np.fft.rfft(ssds, axis=-1)
    mixed = np.tensordot(ssd_weights, ssd_ft, axes=([-1], [0]))
    nu = np.fft.rfftfreq(n_fft, d=step_eV)
    sigma = zlp_fwhm_eV / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    zlp_ft = np.exp(-2.0 * (np.pi * sigma * nu) ** 2)
    return zlp_ft * np.exp(np.asarray(t_over_lambda)[..., None] * (mixed - 1.0))


def smooth_random_field(
    rng: np.random.Generator, shape: tuple[int, ...], correlation_px: float
) -> NDArray:
    """Gaussian random field, zero mean and unit variance, smoothed over ``correlation_px``."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), correlation_px, mode="wrap")
    std = field.std()
    return (field - field.mean()) / (std if std > 0 else 1.0)
