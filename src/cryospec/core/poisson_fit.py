"""The Poisson model fit: a power law plus edge shapes, every pixel at once.

Used for the quantification model (the quantified edges are the shapes) and for the background
under an edge that sits on the tail of a preceding edge (P L2,3 on Li K).

A single power law fitted just below P L2,3 cannot follow the curved tail of a strong Li K edge
(and, in a thick specimen, its plasmon replicas): the extrapolation is biased by several to
tens of per cent of the P signal. Here the background is

``mu(E) = A (E / E_ref)^-r + sum_j c_j S_j(E)``

with ``S_j`` the differential cross-section of each preceding edge (hydrogenic, offline),
convolved with the pixel's normalised low-loss spectrum when one is given (plural scattering).
It is fitted by Poisson maximum likelihood over two kinds of window: one below the preceding
edges (it pins the power law) and one between their fine structure and the target edge (it
fixes their tails). ``A`` and ``c_j`` are non-negative; ``r`` is free within its physical range.
Every pixel is solved at once: projected Newton steps for the linear coefficients alternate
with Newton steps for ``r``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cryospec.core.background import (
    SHAPE_BOUNDS,
    BackgroundFit,
    _fit_loglinear_ml,
    _invert,
    default_reference_eV,
    poisson_deviance,
)
from cryospec.core.checks import check_counts

_INVALID_COUNTS = "counts must be finite and >= 0 in the fit channels"

__all__ = [
    "PowerLawEdgesFit",
    "channel_bins",
    "fit_power_law_read_noise",
    "fit_power_law_with_edges",
]


@dataclass
class PowerLawEdgesFit:
    """Result of :func:`fit_power_law_with_edges`.

    ``params`` are ``(A, r, c_1, ..., c_J)``: power-law amplitude at ``reference_eV``
    (counts per channel), exponent, and the coefficient of each edge shape (counts per channel
    per barn/eV).
    """

    reference_eV: float
    params: NDArray
    covariance: NDArray
    deviance: NDArray
    dof: int
    converged: NDArray

    def jacobian(self, energy: NDArray, shapes: NDArray) -> NDArray:
        """d mu / d params on ``energy``, shape (..., n, 2 + J)."""
        x = np.log(np.asarray(energy, dtype=float) / self.reference_eV)
        amp, r = self.params[..., 0, None], self.params[..., 1, None]
        g = np.exp(-r * x)
        shapes = np.broadcast_to(shapes, (*self.params.shape[:-1], *np.shape(shapes)[-2:]))
        return np.concatenate([g[..., None], (-x * amp * g)[..., None], shapes], axis=-1)

    def power_law(self, energy: NDArray) -> NDArray:
        """The fitted power law alone (counts per channel) on ``energy``."""
        x = np.log(np.asarray(energy, dtype=float) / self.reference_eV)
        amp, r = self.params[..., 0, None], self.params[..., 1, None]
        return amp * np.exp(-r * x)

    def evaluate(self, energy: NDArray, shapes: NDArray) -> NDArray:
        """The background (counts per channel) on ``energy`` with the edge shapes there."""
        tails = np.einsum("...nj,...j->...n", shapes, self.params[..., 2:])
        return self.power_law(energy) + tails

    def variance(self, energy: NDArray, shapes: NDArray) -> NDArray:
        """Delta-method variance of :meth:`evaluate` per channel."""
        jac = self.jacobian(energy, shapes)
        return np.einsum("...nk,...kl,...nl->...n", jac, self.covariance, jac)

    def window_sum_variance(self, energy: NDArray, shapes: NDArray) -> NDArray:
        """Variance of the background summed over ``energy`` (fully correlated channels)."""
        grad = self.jacobian(energy, shapes).sum(axis=-2)
        return np.einsum("...k,...kl,...l->...", grad, self.covariance, grad)


def _nn_poisson_newton(counts, basis, coef, steps, offset=0.0):
    """Projected Newton steps on the Poisson likelihood of ``basis @ coef (+ offset)``, coef >= 0
    (``counts`` already shifted by the read-noise offset, see :func:`fit_power_law_with_edges`)."""
    k = basis.shape[-1]
    eye = np.eye(k)
    floor = 1e-6
    basis_t = np.swapaxes(basis, -1, -2)
    for _ in range(steps):
        mu = np.maximum((basis @ coef[..., None])[..., 0], floor) + offset
        grad = ((counts / mu - 1.0)[..., None, :] @ basis)[..., 0, :]
        hess = (basis_t * (counts / mu**2)[..., None, :]) @ basis
        free = (coef > 0) | (grad > 0)
        hess = hess * free[..., :, None] * free[..., None, :] + eye * ~free[..., None, :]
        scale = np.trace(hess, axis1=-2, axis2=-1)[..., None, None] + 1e-300
        step = np.linalg.solve(hess + 1e-10 * scale * eye, (grad * free)[..., None])[..., 0]
        coef = np.maximum(coef + np.nan_to_num(step), 0.0)
    return coef


def channel_bins(energy: NDArray, relative_width: float) -> NDArray:
    """Start indices of bins that sum neighbouring channels (for ``np.add.reduceat``).

    A bin spans about ``relative_width * E`` (at least one channel): narrow where the spectrum
    changes fast, wide at high energy. Bins never straddle a gap in ``energy`` (a left-out
    near-edge region). Summed Poisson counts stay Poisson, so the likelihood keeps its meaning.
    """
    e = np.asarray(energy, dtype=float)
    step = float(np.min(np.diff(e))) if e.size > 1 else 1.0
    starts = [0]
    for i in range(1, e.size):
        gap = e[i] - e[i - 1] > 1.5 * step
        width = max(relative_width * e[starts[-1]], step)
        if gap or e[i] - e[starts[-1]] >= width - 1e-9:
            starts.append(i)
    return np.asarray(starts)


def _scoring_terms(p, counts, shapes, power_sums, offset=0.0):
    """Model, score and Fisher information of power law + edges for pixels ``p`` (m, k).

    ``shapes`` is (nb, J) when every pixel shares the edge shapes (the Fisher blocks are then
    matrix products over all pixels at once) or (m, nb, J). ``offset`` (nb,) is the read-noise
    shift of the model (``counts`` carry it already); the returned model includes it.
    """
    g, xg = power_sums(p[:, 1])
    slope = -p[:, :1] * xg  # d mu / d r
    if shapes.ndim == 2:
        mu = np.maximum(p[:, :1] * g + p[:, 2:] @ shapes.T, 1e-6) + offset
        w = 1.0 / mu
        resid = counts * w - 1.0
        j = shapes.shape[-1]
        m = p.shape[0]
        fisher = np.empty((m, j + 2, j + 2))
        wg, ws = w * g, w * slope
        fisher[:, 0, 0] = (wg * g).sum(-1)
        fisher[:, 0, 1] = fisher[:, 1, 0] = (wg * slope).sum(-1)
        fisher[:, 1, 1] = (ws * slope).sum(-1)
        fisher[:, 0, 2:] = fisher[:, 2:, 0] = wg @ shapes
        fisher[:, 1, 2:] = fisher[:, 2:, 1] = ws @ shapes
        pairs = (shapes[:, :, None] * shapes[:, None, :]).reshape(shapes.shape[0], j * j)
        fisher[:, 2:, 2:] = (w @ pairs).reshape(m, j, j)
        score = np.concatenate(
            [(resid * g).sum(-1)[:, None], (resid * slope).sum(-1)[:, None], resid @ shapes],
            axis=-1,
        )
        return mu, score, fisher
    jac = np.concatenate([g[:, :, None], slope[:, :, None], shapes], -1)
    mu = np.maximum(p[:, 0, None] * g + (shapes @ p[:, 2:, None])[..., 0], 1e-6) + offset
    score = ((counts / mu - 1.0)[:, None, :] @ jac)[:, 0, :]
    fisher = (np.swapaxes(jac, -1, -2) * (1.0 / mu)[:, None, :]) @ jac
    return mu, score, fisher


def _check_fit_counts(n: NDArray, index: NDArray | None, allow_negative: bool = False) -> None:
    """Counts of the fit channels (all of ``n``, or the channels ``index`` of it) finite, >= 0
    (finite only with ``allow_negative``)."""
    if index is None:
        check_counts(n, _INVALID_COUNTS, allow_negative=allow_negative)
        return
    # the fit channels form a few runs: check those slices (views, no copy)
    breaks = np.flatnonzero(np.diff(index) > 1)
    for a, b in zip(np.r_[0, breaks + 1], np.r_[breaks, index.size - 1], strict=True):
        check_counts(
            n[..., index[a] : index[b] + 1], _INVALID_COUNTS, allow_negative=allow_negative
        )


def _first_bad_channel(
    n: NDArray, energy: NDArray, index: NDArray | None, allow_negative: bool = False
) -> str:
    """Where the first NaN, infinite or negative count of the fit channels lies (only called
    once the check has failed)."""
    fit = np.asarray(n if index is None else n[..., index], dtype=float)
    bad = ~np.isfinite(fit) | ((fit < 0) & (not allow_negative))
    pixel = np.unravel_index(int(np.argmax(bad.reshape(-1, bad.shape[-1]).any(-1))), bad.shape[:-1])
    channel = int(np.argmax(bad[pixel]))
    value = fit[pixel][channel]
    where = f"pixel {tuple(int(i) for i in pixel)}, " if pixel else ""
    return f"{value:g} at {energy[channel]:.1f} eV ({where}{int(bad.sum())} such counts in all)"


class _BinnedPowerLaw:
    """The power law ``g = exp(-r x)`` summed over each bin of channels (and ``x g``), by a
    two-point rule at the mean +- the standard deviation of the bin's channel coordinates
    (exact for cubics; bins are a few per cent wide); one point per channel without bins."""

    def __init__(self, x: NDArray, starts: NDArray | None):
        if starts is None:
            self.weight, self.nodes = np.ones((1, x.size)), x[None, :]
        else:
            members = np.add.reduceat(np.ones_like(x), starts)
            mean = np.add.reduceat(x, starts) / members
            spread = np.sqrt(np.maximum(np.add.reduceat(x * x, starts) / members - mean**2, 0.0))
            self.weight = np.stack([members / 2, members / 2])
            self.nodes = np.stack([mean - spread, mean + spread])

    def __call__(self, r: NDArray) -> tuple[NDArray, NDArray]:
        g = np.exp(-r[..., None, None] * self.nodes)
        return (self.weight * g).sum(-2), (self.weight * self.nodes * g).sum(-2)


def _fixed_exponent_fit(nb, sb, power_sums, coef, exponent, ref, offset) -> PowerLawEdgesFit:
    """The fit with the exponent ``r`` given (pooled from more counts than a pixel holds): the
    model is linear in ``A`` and the ``c_j``, fitted by projected Newton steps; their
    covariance is the inverse Fisher information without ``r``."""
    nav = nb.shape[:-1]
    r = np.broadcast_to(np.asarray(exponent, dtype=float), nav).copy()
    g = power_sums(r)[0]
    n_edges = sb.shape[-1]
    basis = np.concatenate([g[..., None], np.broadcast_to(sb, (*g.shape, n_edges))], axis=-1)
    coef = _nn_poisson_newton(nb, basis, coef, steps=25, offset=offset)
    params = np.concatenate([coef[..., :1], r[..., None], coef[..., 1:]], axis=-1)
    mu = np.maximum((basis @ coef[..., None])[..., 0], 1e-6) + offset
    info = (np.swapaxes(basis, -1, -2) * (1.0 / mu)[..., None, :]) @ basis
    covariance = np.zeros((*nav, n_edges + 2, n_edges + 2))
    keep = np.r_[0, np.arange(2, n_edges + 2)]
    covariance[..., keep[:, None], keep] = _invert(info)
    result = PowerLawEdgesFit(ref, params, covariance, np.zeros(()), 0, np.ones((), bool))
    result.deviance = poisson_deviance(nb, mu)
    result.dof = mu.shape[-1] - (n_edges + 1)
    return result


def _fisher_scoring(params, counts, shapes, power_sums, max_steps: int, offset=0.0) -> None:
    """Fisher scoring of ``params`` (m, k) in place, the pixels not yet converged only (an
    active set), ``A`` and ``c_j`` kept >= 0 and ``r`` within its bounds."""
    k = params.shape[-1]
    linear = np.ones(k, dtype=bool)
    linear[1] = False
    eye = np.eye(k)
    common = shapes.ndim == 2
    active = np.arange(params.shape[0])
    for _ in range(max_steps):
        p, counts_b = params[active], counts[active]
        shapes_b = shapes if common else shapes[active]
        _, score, fisher = _scoring_terms(p, counts_b, shapes_b, power_sums, offset)
        free = ~linear | (p > 0) | (score > 0)
        fisher = fisher * free[:, :, None] * free[:, None, :] + eye * ~free[:, None, :]
        scale = np.trace(fisher, axis1=-2, axis2=-1)[:, None, None] + 1e-300
        step = np.linalg.solve(fisher + 1e-12 * scale * eye, (score * free)[..., None])[..., 0]
        step = np.nan_to_num(step)
        step[:, 1] = np.clip(step[:, 1], -0.5, 0.5)
        p = p + step
        p[:, 1] = np.clip(p[:, 1], *SHAPE_BOUNDS)
        params[active] = np.where(linear, np.maximum(p, 0.0), p)
        # Converged when every step is below 1 % of its parameter's standard error (its
        # lower bound 1/sqrt(Fisher_ii)): further steps change nothing a user could see.
        size = np.abs(step) * np.sqrt(np.abs(np.diagonal(fisher, axis1=-2, axis2=-1)))
        active = active[~np.all(size < 1e-2, axis=-1)]
        if active.size == 0:
            break


def fit_power_law_with_edges(
    counts: NDArray,
    energy: NDArray,
    shapes: NDArray,
    anchor: NDArray,
    reference_eV: float | None = None,
    bin_width: float = 0.0,
    max_steps: int = 40,
    channels: NDArray | None = None,
    exponent: NDArray | float | None = None,
    read_noise: float = 0.0,
) -> PowerLawEdgesFit:
    """Poisson-ML fit of a power law plus edge shapes, every pixel at once.

    Fisher scoring on all parameters ``(A, r, c_1..c_J)`` together, with ``A`` and ``c_j`` kept
    non-negative (a coefficient at zero whose gradient points outward leaves the step) and
    ``r`` within :data:`cryospec.background.SHAPE_BOUNDS`.

    Parameters
    ----------
    counts : ndarray (..., n)
        Electron counts in the fit channels.
    energy : ndarray (n,)
        Their energies.
    shapes : ndarray (n, J) or (..., n, J)
        Edge shapes on those channels (:func:`edge_shapes`).
    anchor : ndarray of bool (n,)
        Channels below every edge: they start the power law.
    reference_eV : float, optional
        ``E_ref`` (default: geometric mean of ``energy``).
    bin_width : float
        Sum neighbouring channels into bins of this relative width (``bin_width * E``) before
        fitting (0: no binning); speeds up wide fit ranges without changing the likelihood's
        meaning.
    max_steps : int
        Largest number of scoring steps.
    channels : ndarray of bool (m,), optional
        ``counts`` hold all ``m`` channels of the spectra and ``channels`` marks the ``n`` fit
        channels (with binning, the bins are then summed by one matrix product instead of
        copying the fit channels out first).
    exponent : float or ndarray (...), optional
        A given exponent ``r`` (pooled from more counts than a pixel holds): only ``A`` and the
        ``c_j`` are fitted, and the covariance has zeros in the row and column of ``r``.
    read_noise : float
        Standard deviation of the detector's read noise per channel, in electrons. Above 0 the
        counts of a dark-subtracted detector (Poisson plus Gaussian read noise, so some are
        negative) are fitted by the shifted-Poisson approximation: ``counts + read_noise**2``
        is Poisson with mean ``model + read_noise**2`` (same mean and variance); a bin still
        below zero after the shift counts as 0. The deviance and the covariance are those of
        the shifted model.
    """
    n = np.asarray(counts)
    if n.dtype != np.float32:  # float32 counts are kept as they come: binning sums in float64
        n = n.astype(np.float64, copy=False)
    e = np.asarray(energy, dtype=float)
    index = None
    if channels is not None:
        index = np.flatnonzero(channels)
        if index.size != e.size:
            raise ValueError("channels must mark as many channels as energy holds")
        if bin_width <= 0:
            n, channels = n[..., index], None
    if not (np.isfinite(read_noise) and read_noise >= 0):
        raise ValueError(f"read_noise must be finite and >= 0, got {read_noise!r}")
    try:
        _check_fit_counts(n, index if channels is not None else None, read_noise > 0)
    except ValueError as exc:
        where = _first_bad_channel(n, e, index if channels is not None else None, read_noise > 0)
        raise ValueError(f"{exc}: {where}") from None
    if anchor.sum() < 5 or (np.shape(shapes)[-1] and (~anchor).sum() < 5):
        raise ValueError(
            "the fit needs at least 5 channels below the preceding edges and 5 between them "
            "and the target edge"
        )
    ref = default_reference_eV(e, "power_law") if reference_eV is None else float(reference_eV)
    x = np.log(e / ref)
    shapes = np.asarray(shapes)
    if shapes.ndim > 2 and shapes.shape[:-2] != n.shape[:-1]:
        shapes = np.broadcast_to(shapes, (*n.shape[:-1], *shapes.shape[-2:]))
    n_edges = shapes.shape[-1]
    k = n_edges + 2
    starts = channel_bins(e, bin_width) if bin_width > 0 else None

    def binned(values, axis=-1):  # sum channels into bins along ``axis``
        return values if starts is None else np.add.reduceat(values, starts, axis=axis)

    if channels is not None:
        # bin membership of every channel of the spectra (0 outside the fit channels)
        member = np.zeros((n.shape[-1], starts.size), dtype=n.dtype)
        member[index, np.searchsorted(starts, np.arange(e.size), side="right") - 1] = 1.0
        nb = (n @ member).astype(np.float64)
        anchor_counts = n[..., index[anchor]].astype(np.float64)
    else:
        nb = (
            n.astype(np.float64)
            if starts is None
            else np.add.reduceat(n, starts, axis=-1, dtype=np.float64)
        )
        anchor_counts = n[..., anchor].astype(np.float64)
    members = np.ones(e.size) if starts is None else np.add.reduceat(np.ones(e.size), starts)
    offset = read_noise**2 * members
    raw_total = nb.sum(-1)
    if read_noise > 0:
        nb = np.maximum(nb + offset, 0.0)
        anchor_counts = np.maximum(anchor_counts, 0.0)  # the starting power law only
    sb = binned(shapes, axis=-2)
    power_sums = _BinnedPowerLaw(x, starts)
    # Start: the power law from the anchor window alone, the edges from linear steps.
    start, _, _ = _fit_loglinear_ml(anchor_counts, x[anchor], SHAPE_BOUNDS)
    amp, r = np.exp(start[..., 0]), start[..., 1]
    coef = np.concatenate([amp[..., None], np.full((*amp.shape, n_edges), 1e-3)], axis=-1)
    g0 = power_sums(r)[0]
    basis = np.concatenate([g0[..., None], np.broadcast_to(sb, (*g0.shape, n_edges))], axis=-1)
    coef = _nn_poisson_newton(nb, basis, coef, steps=2, offset=offset)
    params = np.concatenate([coef[..., :1], r[..., None], coef[..., 1:]], axis=-1)
    if exponent is not None:
        fixed = _fixed_exponent_fit(nb, sb, power_sums, coef, exponent, ref, offset)
        fixed.converged = raw_total > 0
        return fixed
    # Fisher scoring on the pixels not yet converged (an active set): most settle in a few
    # steps, and the rest no longer cost the others their time.
    nav = params.shape[:-1]
    flat_params = params.reshape(-1, k).copy()
    flat_nb = nb.reshape(-1, nb.shape[-1])
    common = sb.ndim == 2  # one set of edge shapes for every pixel (no low loss)
    flat_sb = sb if common else sb.reshape(-1, *sb.shape[-2:])
    _fisher_scoring(flat_params, flat_nb, flat_sb, power_sums, max_steps, offset)
    params = flat_params.reshape(*nav, k)
    result = PowerLawEdgesFit(ref, params, np.zeros(()), np.zeros(()), 0, np.ones((), bool))
    mu, _, info = _scoring_terms(flat_params, flat_nb, flat_sb, power_sums, offset)
    mu, info = mu.reshape(*nav, -1), info.reshape(*nav, k, k)
    result.covariance = _invert(info)
    result.deviance = poisson_deviance(nb, mu)
    result.dof = mu.shape[-1] - k
    r = params[..., 1]
    result.converged = (raw_total > 0) & (r > SHAPE_BOUNDS[0]) & (r < SHAPE_BOUNDS[1])
    return result


def fit_power_law_read_noise(
    counts: NDArray, energy: NDArray, read_noise: float, reference_eV: float | None = None
) -> BackgroundFit:
    """A power law fitted to background windows whose counts carry Gaussian read noise.

    The shifted-Poisson fit of :func:`fit_power_law_with_edges` (no edge shapes), returned in
    the parametrisation of :func:`cryospec.core.background.fit_background` (log amplitude at
    ``reference_eV``, exponent) so that the subtraction code takes either.

    Parameters
    ----------
    counts : ndarray (..., n)
        Electron counts of the window channels (finite; negative ones allowed).
    energy : ndarray (n,)
        Their energies.
    read_noise : float
        Read-noise standard deviation per channel, in electrons.
    reference_eV : float, optional
        ``E_ref`` (default: the geometric mean of ``energy``).
    """
    e = np.asarray(energy, dtype=float)
    shapes = np.zeros((e.size, 0))
    fit = fit_power_law_with_edges(
        counts,
        e,
        shapes,
        np.ones(e.size, dtype=bool),
        reference_eV=reference_eV,
        read_noise=read_noise,
    )
    amp = fit.params[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        params = np.stack([np.log(amp), fit.params[..., 1]], axis=-1)
        # d(log A) = dA / A
        jac = np.zeros((*amp.shape, 2, 2))
        jac[..., 0, 0] = 1.0 / amp
        jac[..., 1, 1] = 1.0
        covariance = jac @ fit.covariance @ np.swapaxes(jac, -1, -2)
    return BackgroundFit(
        "power_law", fit.reference_eV, (), params, covariance, fit.deviance, fit.dof,
        fit.converged,
    )  # fmt: skip
