"""EDX line intensities with a Poisson maximum-likelihood background, and Cliff-Lorimer errors.

At low dose an EDX line holds a few to a few tens of counts per pixel. Its background (the
bremsstrahlung) is fitted on side windows around the line by Poisson maximum likelihood
(:func:`cryospec.background.fit_background`, exponential model: locally the continuum is
smooth), skipping the channels of every other line of the sample, and extrapolated under the
line. The line intensity is the integrated excess; its variance is the counts' Poisson
variance plus the extrapolated background's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf

from cryospec.core.background import fit_background, window_sum_variance
from cryospec.core.pooling import fit_background_dose_aware

__all__ = [
    "captured_share",
    "cliff_lorimer_atomic",
    "fwhm_keV",
    "joint_line_fit",
    "line_channels",
    "line_intensity",
    "line_windows",
    "measure_lines",
]

MN_KA_KEV = 5.8987


def fwhm_keV(line_keV: float, resolution_mn_ka_eV: float) -> float:
    """Detector FWHM (keV) at a line energy, from the Mn Ka resolution (Fano law, 2.5 eV)."""
    squared = resolution_mn_ka_eV**2 + 2.5 * (line_keV - MN_KA_KEV) * 1e3
    if squared <= 0:
        raise ValueError(f"no detector resolution can be derived at {line_keV} keV")
    return float(np.sqrt(squared) * 1e-3)


def line_windows(
    energy: NDArray,
    line_keV: float,
    fwhm: float,
    other_lines: list[tuple[float, float]] = (),
    integration_fwhm: float = 1.2,
) -> tuple[NDArray, NDArray]:
    """Channel masks of a line's integration window and of its background side windows.

    The integration window is ``integration_fwhm`` FWHM wide; each side window is 1 FWHM wide
    and starts 1 FWHM from the line. Channels within ``integration_fwhm / 2 + 0.5`` FWHM of any
    of ``other_lines`` (energy, FWHM) are left out of the side windows; where that leaves fewer
    than 5 channels (a line among its family, Pd La beside Lb1, Lb2 and Ll) the side windows
    reach out to 3, 4, 6, then 8 FWHM.
    """
    e = np.asarray(energy, dtype=float)
    half = integration_fwhm / 2 * fwhm
    integration = np.abs(e - line_keV) <= half
    free = np.ones(e.size, dtype=bool)
    for other, other_fwhm in other_lines:
        free &= np.abs(e - other) > (integration_fwhm / 2 + 0.5) * other_fwhm
    distance = np.abs(e - line_keV)
    for reach in (2.0, 3.0, 4.0, 6.0, 8.0):
        side = (distance >= fwhm) & (distance <= reach * fwhm) & free
        if side.sum() >= 5:
            break
    return integration, side


def line_intensity(
    counts: NDArray,
    energy: NDArray,
    integration: NDArray,
    side: NDArray,
    count_target: float | None = None,
) -> tuple[NDArray, NDArray]:
    """Background-subtracted line intensity and its variance, every pixel at once.

    Parameters
    ----------
    counts : ndarray (..., n)
        Counts (Poisson; detector gain 1).
    energy : ndarray (n,)
        Energy axis (keV).
    integration, side : ndarray of bool (n,)
        Window masks (:func:`line_windows`).
    count_target : float, optional
        Dose-aware background: the side-window shape from a neighbourhood holding this many
        counts (maps and line scans).
    """
    n = np.asarray(counts, dtype=float)
    if side.sum() < 5:
        raise ValueError("fewer than 5 background channels beside the line")
    if count_target is not None and n.ndim in (2, 3):
        fit, _ = fit_background_dose_aware(
            n[..., side], energy[side], count_target, model="exponential"
        )
    else:
        fit = fit_background(n[..., side], energy[side], model="exponential")
    under = fit.evaluate(energy[integration]).sum(-1)
    gross = n[..., integration].sum(-1)
    variance = gross + window_sum_variance(fit, energy[integration])
    return gross - under, np.where(np.isfinite(variance), variance, gross + under)


def cliff_lorimer_atomic(
    intensity: NDArray, variance: NDArray, k_factors: NDArray, atomic_weights: NDArray
) -> tuple[NDArray, NDArray]:
    """Atomic fractions from line intensities (..., J) with k-factors (J,) or (..., J), and
    their errors.

    Cliff-Lorimer (weight-fraction convention, as exspy): ``w_i ~ k_i I_i``, then
    ``x_i ~ w_i / A_i``, normalised; the standard errors by the delta method for independent
    line intensities.
    """
    i = np.asarray(intensity, dtype=float)
    a = np.asarray(k_factors, dtype=float) / np.asarray(atomic_weights, dtype=float)
    amount = i * a
    total = amount.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = amount / total
        j = i.shape[-1]
        # d x_i / d I_k = a_k (delta_ik - x_i) / T
        jac = (np.eye(j) - fraction[..., :, None]) * a[..., None, :] / total[..., None]
        var = np.einsum("...ik,...k->...i", jac**2, np.asarray(variance, dtype=float))
    return fraction, np.sqrt(np.clip(var, 0, None))


def joint_line_fit(
    counts: NDArray, energy: NDArray, centres: list[float], fwhms: list[float]
) -> tuple[NDArray, NDArray]:
    """Intensities of overlapping lines fitted together, with their variances.

    Over a window from 2.5 FWHM below the first line to 2.5 FWHM above the last, the spectrum
    is ``s b(E) + sum_j a_j G_j(E)``: Gaussian lines of the detector's FWHM (unit area) on a
    continuum ``b`` whose *shape* (a cubic) is fitted on the spectrum summed over all pixels
    (it changes little across a map, while its level does) and whose level ``s`` is per pixel.
    ``s`` and ``a_j`` are found by Poisson maximum likelihood on every pixel at once, the line
    amplitudes unconstrained in sign so that an absent line averages to zero; the variances come
    from the Fisher information (the continuum shape taken as known).
    """
    e_all = np.asarray(energy, dtype=float)
    lo = min(centres) - 2.5 * fwhms[int(np.argmin(centres))]
    hi = max(centres) + 2.5 * fwhms[int(np.argmax(centres))]
    window = (e_all >= lo) & (e_all <= hi)
    if window.sum() < len(centres) + 8:
        raise ValueError("the joint line window holds too few channels")
    e = e_all[window]
    n = np.asarray(counts, dtype=float)[..., window]
    flat = n.reshape(-1, e.size)
    sigma = np.asarray(fwhms) / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    lines = np.exp(-0.5 * ((e[:, None] - np.asarray(centres)[None, :]) / sigma) ** 2)
    lines /= lines.sum(axis=0, keepdims=True)
    x = (e - e.mean()) / max(np.ptp(e), 1e-9)
    design = np.column_stack([x**0, x, x**2, x**3, lines])
    total = flat.sum(axis=0)
    theta = np.linalg.lstsq(design, total, rcond=None)[0]
    for _ in range(60):
        mu = np.maximum(design @ theta, 1e-9)
        step = np.linalg.solve((design.T / mu) @ design, design.T @ (total / mu - 1.0))
        theta = theta + step
        if np.all(np.abs(step) <= 1e-10 * (np.abs(theta) + 1e-9)):
            break
    continuum = np.maximum(design[:, :4] @ theta[:4], 1e-12)
    continuum /= continuum.sum()
    basis = np.concatenate([continuum[:, None], lines], axis=-1)
    # Start: least squares per pixel. Then Fisher scoring with the line amplitudes free to go
    # negative (only the model must stay positive): a non-negativity constraint would bias an
    # absent element's intensity upwards by about 0.4 of its standard error in every pixel,
    # which profiles and plateau averages then pick up as a false signal.
    coef = np.linalg.lstsq(basis, flat.T, rcond=None)[0].T
    coef[:, 0] = np.maximum(coef[:, 0], 1e-3)
    for _ in range(40):
        mu = np.maximum(coef @ basis.T, 1e-9)
        score = (flat / mu - 1.0) @ basis
        fisher = np.einsum("pn,nk,nl->pkl", 1.0 / mu, basis, basis)
        step = np.linalg.solve(fisher, score[..., None])[..., 0]
        trial = coef + step
        # halve the step of a pixel whose model would turn non-positive
        for _ in range(20):
            bad = np.any(trial @ basis.T <= 0, axis=-1)
            if not bad.any():
                break
            step[bad] *= 0.5
            trial = coef + step
        coef = trial
        if np.all(np.abs(step) <= 1e-8 * (np.abs(coef) + 1e-6)):
            break
    mu = np.maximum(coef @ basis.T, 1e-9)
    fisher = np.einsum("pn,nk,nl->pkl", 1.0 / mu, basis, basis)
    covariance = np.linalg.pinv(fisher, hermitian=True)
    intensity = coef[:, 1:].reshape(*n.shape[:-1], len(centres))
    variance = np.diagonal(covariance, axis1=-2, axis2=-1)[:, 1:].reshape(intensity.shape)
    return intensity, variance


def captured_share(
    members: list[tuple[float, float]], centre: float, fwhm: float, integration_fwhm: float
) -> float:
    """Share of a line family inside a window ``integration_fwhm`` FWHM wide at ``centre``:
    each member (keV, weight) a Gaussian of the detector's ``fwhm``."""
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    half = integration_fwhm * fwhm / 2
    energies = np.array([m[0] for m in members], dtype=float)
    weights = np.array([m[1] for m in members], dtype=float)
    lo = (centre - half - energies) / (sigma * np.sqrt(2.0))
    hi = (centre + half - energies) / (sigma * np.sqrt(2.0))
    return float(np.sum(weights * (erf(hi) - erf(lo)) / 2) / weights.sum())


def line_channels(
    energy: NDArray, lines: dict[str, float], resolution_eV: float, beam_energy_keV: float
) -> tuple[dict[str, float], tuple[int, int]]:
    """Each line's detector FWHM (keV), and the channel range within 6 FWHM of any line (all
    the windows lie there: only those channels of a lazy cube need reading).

    Raises
    ------
    ValueError
        A line outside the energy axis or not excited by the beam.
    """
    fwhm_of = {line: fwhm_keV(centre, resolution_eV) for line, centre in lines.items()}
    for line, centre in lines.items():
        if not energy[0] < centre < energy[-1]:
            raise ValueError(
                f"{line} at {centre:g} keV lies outside the energy axis "
                f"[{energy[0]:g}, {energy[-1]:g}] keV"
            )
        if centre >= beam_energy_keV:
            raise ValueError(
                f"{line} ({centre:g} keV) is not excited by a {beam_energy_keV:g} keV beam"
            )
    near = np.zeros(energy.size, dtype=bool)
    for line, centre in lines.items():
        near |= np.abs(energy - centre) <= 6.0 * fwhm_of[line]
    return fwhm_of, (int(np.argmax(near)), int(near.size - np.argmax(near[::-1])))


def measure_lines(
    counts: NDArray,
    energy: NDArray,
    lines: dict[str, float],
    fwhm_of: dict[str, float],
    sample_lines: dict[str, float],
    resolution_eV: float,
    integration_fwhm: float = 1.2,
    count_target: float | None = None,
    members: dict[str, list[tuple[float, float]]] | None = None,
) -> dict[str, tuple[NDArray, NDArray, str]]:
    """Intensity, variance and method of every line: lines closer than 3 FWHM to a neighbour
    (N Ka beside O Ka) by :func:`joint_line_fit`, the others by :func:`line_intensity` on side
    windows that skip ``sample_lines``, divided by the share of the line family that the
    integration window holds (the whole line is reported; ``members`` gives each family's
    lines as (keV, weight), e.g. Ka1 and Ka2, which lie 67 eV apart for Sr)."""
    ordered = sorted(lines, key=lines.get)
    groups: list[list[str]] = []
    for line in ordered:
        if groups and lines[line] - lines[groups[-1][-1]] < 3 * max(
            fwhm_of[line], fwhm_of[groups[-1][-1]]
        ):
            groups[-1].append(line)
        else:
            groups.append([line])
    results = {}
    for group in groups:
        if len(group) > 1:
            values, variances = joint_line_fit(
                counts, energy, [lines[g] for g in group], [fwhm_of[g] for g in group]
            )
            for k, line in enumerate(group):
                results[line] = (values[..., k], variances[..., k], "joint fit")
            continue
        line = group[0]
        others = [
            (e, fwhm_keV(e, resolution_eV)) for name, e in sample_lines.items() if name != line
        ]
        integration, side = line_windows(
            energy, lines[line], fwhm_of[line], others, integration_fwhm
        )
        value, variance = line_intensity(counts, energy, integration, side, count_target)
        # The share of the line family the window holds (a Gaussian of the detector's width
        # per member: erf(w sqrt(ln 2)) for one line at the centre): report the whole line.
        captured = captured_share(
            (members or {}).get(line, [(lines[line], 1.0)]),
            lines[line],
            fwhm_of[line],
            integration_fwhm,
        )
        results[line] = (value / captured, variance / captured**2, "side windows")
    return results
