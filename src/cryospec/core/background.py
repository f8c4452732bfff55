"""Pre-edge background fitting kernels: pure NumPy, every pixel solved at once.

Models (``x`` is the energy coordinate of the model, ``E_ref`` a reference energy in the window):

* ``"power_law"``: ``mu(E) = exp(a - r * ln(E / E_ref))`` (= A E^-r);
* ``"exponential"``: ``mu(E) = exp(a - b * (E - E_ref))``;
* ``"lcpl"``: ``mu(E) = sum_k c_k (E / E_ref)^-r_k`` with fixed exponents ``r_k`` and
  ``c_k >= 0`` (linear combination of power laws, Cueva et al., Microsc. Microanal. 18 (2012) 667).

Estimators:

* ``"ml"``: Poisson maximum likelihood on electron counts. For the two log-linear models the
  amplitude has the closed form ``A = N / sum_i g_i(s)`` for a given shape ``s``; the profile
  likelihood in ``s`` is maximised by Newton steps on all pixels together. LCPL coefficients are
  found by the EM (Richardson-Lucy) iteration, which keeps them non-negative. Unbiased at low
  counts (Trebbia, Ultramicroscopy 24 (1988); Wheaton et al., ApJ 438 (1995) 322).
* ``"ls"``: least squares weighted by ``1 / max(n, 1)`` (Neyman chi-square), the usual
  weighted fit, kept for comparison: it is biased low at low counts.

All functions take counts of shape ``(..., n_window)``; parameters come back with shape
``(..., n_par)``, covariances ``(..., n_par, n_par)``. Counts must be electron counts (Poisson):
divide recorded counts by the detector gain first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cryospec.core.checks import check_counts

__all__ = [
    "MODELS",
    "BackgroundFit",
    "background_variance",
    "evaluate_background",
    "fit_background",
    "model_basis",
    "poisson_deviance",
]

MODELS = ("power_law", "exponential", "lcpl")
ESTIMATORS = ("ml", "ls")
DEFAULT_LCPL_EXPONENTS = (2.0, 3.0, 4.0, 5.0)
_NEWTON_STEPS = 40
_EM_STEPS = 100
_DEFAULT_SHAPE = {"power_law": 3.0, "exponential": 0.02}
# Physical range of the power-law exponent (Rez: r is usually 2-6); for the exponential model
# the decay constant is bounded so that its local log-slope at E_ref matches (r / E_ref).
SHAPE_BOUNDS = (0.0, 12.0)


@dataclass
class BackgroundFit:
    """Result of :func:`fit_background`.

    Attributes
    ----------
    model : str
        ``"power_law"``, ``"exponential"`` or ``"lcpl"``.
    reference_eV : float
        ``E_ref`` of the parametrisation.
    exponents : tuple of float
        LCPL exponents (empty for the other models).
    params : ndarray (..., n_par)
        ``(a, s)`` = (log amplitude at ``E_ref``, exponent or decay constant) for the
        log-linear models; the coefficients ``c_k`` for LCPL.
    covariance : ndarray (..., n_par, n_par)
        Covariance of ``params`` (inverse Fisher information for ML).
    deviance : ndarray (...)
        Poisson deviance of the fit in the windows; ``dof`` its degrees of freedom.
    dof : int
        Channels in the windows minus fitted parameters.
    converged : ndarray of bool (...)
        False where the pixel had no counts in the windows, the iteration did not settle, or
        the shape parameter ended at a bound of its physical range (:data:`SHAPE_BOUNDS`:
        power-law exponent 0 to 12, the same local slope for the exponential).
    """

    model: str
    reference_eV: float
    exponents: tuple[float, ...]
    params: NDArray
    covariance: NDArray
    deviance: NDArray
    dof: int
    converged: NDArray

    @property
    def amplitude(self) -> NDArray:
        """Background at ``reference_eV`` (counts per channel)."""
        if self.model == "lcpl":
            return self.params.sum(axis=-1)
        return np.exp(self.params[..., 0])

    @property
    def shape_parameter(self) -> NDArray:
        """Exponent r (power law), decay constant b (exponential) or LCPL weights."""
        if self.model == "lcpl":
            total = self.params.sum(axis=-1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(total > 0, self.params / total, np.nan)
        return self.params[..., 1]

    def evaluate(self, energy: ArrayLike) -> NDArray:
        """The fitted background on ``energy`` (counts per channel), shape (..., n_energy)."""
        return evaluate_background(
            self.params, energy, self.model, self.reference_eV, self.exponents
        )

    def variance(self, energy: ArrayLike) -> NDArray:
        """Variance of the fitted background on ``energy`` from the parameter covariance."""
        return background_variance(
            self.params, self.covariance, energy, self.model, self.reference_eV, self.exponents
        )


def _check_model(model: str, estimator: str = "ml") -> None:
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")


def model_basis(
    energy: ArrayLike, model: str, reference_eV: float, exponents: tuple[float, ...] = ()
) -> NDArray:
    """The model's energy coordinate ``x`` (log-linear models) or basis ``B`` (LCPL, (n, K))."""
    e = np.asarray(energy, dtype=float)
    if model == "power_law":
        return np.log(e / reference_eV)
    if model == "exponential":
        return e - reference_eV
    if model == "lcpl":
        return (e[:, None] / reference_eV) ** (-np.asarray(exponents, dtype=float)[None, :])
    raise ValueError(f"model must be one of {MODELS}, got {model!r}")


def evaluate_background(
    params: NDArray,
    energy: ArrayLike,
    model: str,
    reference_eV: float,
    exponents: tuple[float, ...] = (),
    dtype: type | np.dtype = np.float64,
) -> NDArray:
    """Background (counts per channel) of ``params`` on ``energy``; shape (..., n_energy).

    ``dtype`` is the precision of the computation (float32 halves the cost on large cubes).
    """
    basis = model_basis(energy, model, reference_eV, exponents).astype(dtype)
    params = np.asarray(params).astype(dtype, copy=False)
    if model == "lcpl":
        return params @ basis.T
    return np.exp(params[..., :1] - params[..., 1:2] * basis)


def background_variance(
    params: NDArray,
    covariance: NDArray,
    energy: ArrayLike,
    model: str,
    reference_eV: float,
    exponents: tuple[float, ...] = (),
    dtype: type | np.dtype = np.float64,
) -> NDArray:
    """Delta-method variance of the background on ``energy``: ``J C J^T`` per channel."""
    basis = model_basis(energy, model, reference_eV, exponents).astype(dtype)
    covariance = np.asarray(covariance).astype(dtype, copy=False)
    if model == "lcpl":
        # d mu / d c_k = B_k
        return np.einsum("nk,...kl,nl->...n", basis, covariance, basis)
    mu = evaluate_background(params, energy, model, reference_eV, dtype=dtype)
    c_aa = covariance[..., 0, 0, None]
    c_as = covariance[..., 0, 1, None]
    c_ss = covariance[..., 1, 1, None]
    # d mu / d a = mu, d mu / d s = -x mu
    return mu**2 * (c_aa - 2 * basis * c_as + basis**2 * c_ss)


def poisson_deviance(counts: NDArray, mu: NDArray) -> NDArray:
    """Poisson deviance ``2 sum(n ln(n / mu) - (n - mu))`` over the last axis."""
    n = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > 0, n * np.log(n / mu), 0.0)
    return 2.0 * np.sum(term - (n - mu), axis=-1)


def _loglinear_init(counts: NDArray, x: NDArray) -> NDArray:
    """Shape parameter from a straight-line fit of ln(n) against x (starting point)."""
    logn = np.log(np.maximum(counts, 0.5))
    xc = x - x.mean()
    slope = (logn * xc).sum(axis=-1) / (xc**2).sum()
    return -slope


def _ml_amplitude(counts_sum: NDArray, shape: NDArray, x: NDArray) -> tuple[NDArray, NDArray]:
    """Closed-form ML log-amplitude for a fixed shape, and d(log A)/d(shape)."""
    g = np.exp(-shape[..., None] * x)
    s0 = g.sum(axis=-1)
    s1 = (g * x).sum(axis=-1)
    with np.errstate(divide="ignore"):
        a = np.log(counts_sum) - np.log(s0)
    return a, s1 / s0


def _fit_loglinear_ml(
    counts: NDArray, x: NDArray, bounds: tuple[float, float]
) -> tuple[NDArray, NDArray, NDArray]:
    n_sum = counts.sum(axis=-1)
    nx_sum = (counts * x).sum(axis=-1)
    s = _loglinear_init(counts, x)
    converged = np.zeros(n_sum.shape, dtype=bool)
    span = float(np.ptp(x)) or 1.0
    max_step = 2.0 / span
    for _ in range(_NEWTON_STEPS):
        g = np.exp(-s[..., None] * x)
        s0 = g.sum(axis=-1)
        s1 = (g * x).sum(axis=-1)
        s2 = (g * x * x).sum(axis=-1)
        grad = n_sum * s1 / s0 - nx_sum
        hess = n_sum * (s1 * s1 - s0 * s2) / (s0 * s0)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(hess < 0, -grad / hess, 0.0)
        step = np.clip(step, -max_step, max_step)
        s = np.clip(s + step, *bounds)
        converged = np.abs(step) < 1e-10 * (1.0 + np.abs(s))
        if converged.all():
            break
    a, _ = _ml_amplitude(n_sum, s, x)
    mu = np.exp(a[..., None] - s[..., None] * x)
    fisher = _loglinear_information(mu, x, weights=None)
    inside = (s > bounds[0]) & (s < bounds[1])
    return np.stack([a, s], axis=-1), fisher, converged & (n_sum > 0) & inside


def _loglinear_information(mu: NDArray, x: NDArray, weights: NDArray | None) -> NDArray:
    """Information matrix for (a, s): sum w mu^2 J J^T with J = (1, -x); Poisson: w = 1/mu."""
    w = mu if weights is None else weights * mu * mu
    i_aa = w.sum(axis=-1)
    i_as = -(w * x).sum(axis=-1)
    i_ss = (w * x * x).sum(axis=-1)
    return np.stack([np.stack([i_aa, i_as], -1), np.stack([i_as, i_ss], -1)], -2)


def _fit_loglinear_ls(
    counts: NDArray, x: NDArray, bounds: tuple[float, float]
) -> tuple[NDArray, NDArray, NDArray]:
    """Gauss-Newton on the 1/max(n,1)-weighted squared residuals, all pixels together."""
    w = 1.0 / np.maximum(counts, 1.0)
    s = _loglinear_init(counts, x)
    g = np.exp(-s[..., None] * x)
    a = np.log(np.maximum((w * counts * g).sum(-1), 1e-300) / (w * g * g).sum(-1))
    converged = np.zeros(a.shape, dtype=bool)
    for _ in range(_NEWTON_STEPS):
        mu = np.exp(a[..., None] - s[..., None] * x)
        info = _loglinear_information(mu, x, w)
        r = w * (counts - mu) * mu
        rhs = np.stack([r.sum(-1), -(r * x).sum(-1)], axis=-1)
        det = info[..., 0, 0] * info[..., 1, 1] - info[..., 0, 1] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            da = (info[..., 1, 1] * rhs[..., 0] - info[..., 0, 1] * rhs[..., 1]) / det
            ds = (info[..., 0, 0] * rhs[..., 1] - info[..., 0, 1] * rhs[..., 0]) / det
        da = np.clip(np.nan_to_num(da), -2.0, 2.0)
        ds = np.clip(np.nan_to_num(ds), -2.0, 2.0)
        a, s = a + da, np.clip(s + ds, *bounds)
        converged = (np.abs(da) < 1e-10) & (np.abs(ds) < 1e-10 * (1 + np.abs(s)))
        if converged.all():
            break
    mu = np.exp(a[..., None] - s[..., None] * x)
    info = _loglinear_information(mu, x, w)
    inside = (s > bounds[0]) & (s < bounds[1])
    return np.stack([a, s], axis=-1), info, converged & inside


def _fit_lcpl(counts: NDArray, basis: NDArray, estimator: str) -> tuple[NDArray, NDArray, NDArray]:
    """Non-negative coefficients: multiplicative (EM) updates, then projected Newton steps.

    The EM iteration (Richardson-Lucy for ML, Lee-Seung style for weighted LS) keeps the
    coefficients non-negative and lands near the optimum; projected Newton steps on the same
    objective then converge quickly. All pixels are updated together.
    """
    n_sum = counts.sum(axis=-1)
    col = basis.sum(axis=0)
    k = basis.shape[1]
    c = np.repeat((np.maximum(n_sum, 1e-12) / col.sum())[..., None], k, axis=-1)
    w = None if estimator == "ml" else 1.0 / np.maximum(counts, 1.0)
    for _ in range(_EM_STEPS):
        mu = c @ basis.T
        if w is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(mu > 0, counts / mu, 0.0)
            c = c * (ratio @ basis) / col
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                c = c * np.nan_to_num(((w * counts) @ basis) / ((w * mu) @ basis))
    eye = np.eye(k)
    floor = 1e-6  # counts per channel: below this the model is zero for all purposes
    for _ in range(_NEWTON_STEPS):
        mu = np.maximum(c @ basis.T, floor)
        if w is None:
            grad = (counts / mu - 1.0) @ basis
            curvature = counts / mu**2
        else:
            grad = (w * (counts - mu)) @ basis
            curvature = np.broadcast_to(w, counts.shape)
        hess = np.einsum("...n,nk,nl->...kl", curvature, basis, basis)
        # Coefficients held at zero by a pushing-out gradient stay out of the step.
        free = (c > 0) | (grad > 0)
        hess = hess * free[..., :, None] * free[..., None, :] + eye * ~free[..., None, :]
        scale = np.trace(hess, axis1=-2, axis2=-1)[..., None, None]
        step = np.linalg.solve(hess + 1e-12 * scale * eye + 1e-300 * eye, (grad * free)[..., None])
        step = np.nan_to_num(step[..., 0])
        c = np.maximum(c + step, 0.0)
        if np.all(np.abs(step) <= 1e-10 * (np.abs(c) + 1e-12)):
            break
    mu = np.maximum(c @ basis.T, floor)
    weight = 1.0 / mu if w is None else w
    info = np.einsum("...n,nk,nl->...kl", weight, basis, basis)
    return c, info, n_sum > 0


def _invert(info: NDArray) -> NDArray:
    """Batched inverse; singular matrices (no counts, LCPL terms at 0) get the pseudo-inverse.

    The plain inverse is tried first (several times faster than the eigen-decomposition behind
    the pseudo-inverse); a matrix whose inverse is not finite or does not reproduce the
    identity to 1e-6 gets the pseudo-inverse.
    """
    info = np.asarray(info, dtype=float)
    if info.shape[-1] == 0:
        return info.copy()
    eye = np.eye(info.shape[-1])
    with np.errstate(all="ignore"):
        try:
            inverse = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            return np.linalg.pinv(info, hermitian=True)
        error = np.abs(info @ inverse - eye).max(axis=(-2, -1))
    bad = ~(np.isfinite(error) & (error < 1e-6))
    if bad.any():
        inverse[bad] = np.linalg.pinv(info[bad], hermitian=True)
    return inverse


def default_reference_eV(energy: ArrayLike, model: str) -> float:
    """``E_ref`` of a window: its mean energy (exponential), else its geometric mean."""
    e = np.asarray(energy, dtype=float)
    return float(e.mean()) if model == "exponential" else float(np.exp(np.mean(np.log(e))))


def fit_background(
    counts: ArrayLike,
    energy: ArrayLike,
    model: str = "power_law",
    estimator: str = "ml",
    shape: ArrayLike | None = None,
    shape_covariance: ArrayLike | None = None,
    exponents: tuple[float, ...] = DEFAULT_LCPL_EXPONENTS,
    reference_eV: float | None = None,
) -> BackgroundFit:
    """Fit a background model to the counts in the pre-edge window(s), every pixel at once.

    Parameters
    ----------
    counts : array_like (..., n_window)
        Electron counts (Poisson) in the window channels, non-negative and finite.
    energy : array_like (n_window,)
        Energies of those channels (eV, positive).
    model : {"power_law", "exponential", "lcpl"}
        Background model.
    estimator : {"ml", "ls"}
        Poisson maximum likelihood, or 1/max(n,1)-weighted least squares.
    shape : array_like (...,) or (..., K), optional
        Fix the shape parameter per pixel (exponent r, decay constant b, or LCPL weights that
        sum to 1) and fit only the amplitude: the dose-aware mode, where the shape comes from a
        spatial neighbourhood.
    shape_covariance : array_like, optional
        Variance of a fixed ``shape`` (log-linear models), propagated into the covariance.
    exponents : tuple of float
        LCPL exponents.
    reference_eV : float, optional
        ``E_ref``; default the geometric mean of the window energies.

    Returns
    -------
    BackgroundFit

    Examples
    --------
    >>> import numpy as np
    >>> e = np.linspace(40, 53, 44)
    >>> counts = np.random.default_rng(0).poisson(1e4 * (e / 45) ** -3.5, size=(3, 44))
    >>> fit = fit_background(counts, e)
    >>> np.round(fit.shape_parameter, 1)
    array([3.5, 3.5, 3.6])
    """
    _check_model(model, estimator)
    n = np.asarray(counts, dtype=float)
    e = np.asarray(energy, dtype=float)
    if n.shape[-1] != e.shape[-1] or e.ndim != 1:
        raise ValueError(f"counts (..., {n.shape[-1]}) and energy ({e.shape}) do not match")
    check_counts(
        n,
        "counts hold NaN or inf values in the background window",
        "counts are negative in the background window: Poisson fitting needs "
        "counts >= 0 (clip or offset dark-subtracted data first)",
    )
    if np.any(e <= 0) and model != "exponential":
        raise ValueError("power-law models need positive energies in the window")
    n_par = len(exponents) if model == "lcpl" else 2
    if e.size < n_par + 3:
        raise ValueError(f"the window has {e.size} channels; at least {n_par + 3} are needed")
    ref = default_reference_eV(e, model) if reference_eV is None else float(reference_eV)
    exps = tuple(float(r) for r in exponents) if model == "lcpl" else ()
    basis = model_basis(e, model, ref, exps)
    scale = 1.0 if model == "power_law" else 1.0 / ref
    bounds = (SHAPE_BOUNDS[0] * scale, SHAPE_BOUNDS[1] * scale)

    if shape is None:
        if model == "lcpl":
            params, info, converged = _fit_lcpl(n, basis, estimator)
        elif estimator == "ml":
            params, info, converged = _fit_loglinear_ml(n, basis, bounds)
        else:
            params, info, converged = _fit_loglinear_ls(n, basis, bounds)
        covariance = _invert(info)
    else:
        params, covariance, converged = _fit_amplitude(
            n, basis, model, estimator, shape, shape_covariance
        )
    # No counts in the windows: the background is 0 and its uncertainty undefined (NaN).
    covariance[~(n.sum(axis=-1) > 0)] = np.nan
    if model != "lcpl":
        bad = ~np.isfinite(params).all(axis=-1)
        params[bad] = [-np.inf, _DEFAULT_SHAPE[model]]
        converged = converged & ~bad
    mu = np.maximum(evaluate_background(params, e, model, ref, exps), 1e-300)
    deviance = poisson_deviance(n, mu)
    return BackgroundFit(model, ref, exps, params, covariance, deviance, e.size - n_par, converged)


def _fit_amplitude(
    n: NDArray,
    basis: NDArray,
    model: str,
    estimator: str,
    shape: ArrayLike,
    shape_covariance: ArrayLike | None,
) -> tuple[NDArray, NDArray, NDArray]:
    n_sum = n.sum(axis=-1)
    w = 1.0 / np.maximum(n, 1.0)
    if model == "lcpl":
        weights = np.asarray(shape, dtype=float)
        g = weights @ basis.T
        if estimator == "ml":
            amp = n_sum / g.sum(axis=-1)
            var_amp = amp / g.sum(axis=-1)
        else:
            amp = (w * n * g).sum(-1) / (w * g * g).sum(-1)
            var_amp = 1.0 / (w * g * g).sum(-1)
        params = amp[..., None] * weights
        covariance = var_amp[..., None, None] * weights[..., :, None] * weights[..., None, :]
        return params, covariance, n_sum > 0
    s = np.broadcast_to(np.asarray(shape, dtype=float), n_sum.shape)
    var_s = (
        np.zeros_like(s)
        if shape_covariance is None
        else np.broadcast_to(np.asarray(shape_covariance, dtype=float), s.shape)
    )
    g = np.exp(-s[..., None] * basis)
    if estimator == "ml":
        a, da_ds = _ml_amplitude(n_sum, s, basis)
        var_a_stat = 1.0 / np.maximum(n_sum, 1e-300)
    else:
        num, den = (w * n * g).sum(-1), (w * g * g).sum(-1)
        amp = num / den
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.log(amp)
            # a = ln(num) - ln(den), with d g / d s = -x g
            da_ds = 2 * (w * g * g * basis).sum(-1) / den - (w * n * g * basis).sum(-1) / num
        var_a_stat = 1.0 / np.maximum(amp**2 * (w * g * g).sum(-1), 1e-300)
    covariance = np.empty((*s.shape, 2, 2))
    covariance[..., 0, 0] = var_a_stat + da_ds**2 * var_s
    covariance[..., 0, 1] = covariance[..., 1, 0] = da_ds * var_s
    covariance[..., 1, 1] = var_s
    return np.stack([a, s], axis=-1), covariance, n_sum > 0


def window_sum_variance(fit: BackgroundFit, energy: ArrayLike) -> NDArray:
    """Variance of the background summed over the channels ``energy`` (errors fully correlated).

    Summing :meth:`BackgroundFit.variance` over channels would treat the channels as
    independent and underestimate the error of an integrated edge signal; this uses the
    gradient of the sum instead.
    """
    basis = model_basis(energy, fit.model, fit.reference_eV, fit.exponents)
    if fit.model == "lcpl":
        grad = np.broadcast_to(basis.sum(axis=0), fit.params.shape)
    else:
        mu = fit.evaluate(energy)
        grad = np.stack([mu.sum(-1), -(mu * basis).sum(-1)], axis=-1)
    return np.einsum("...k,...kl,...l->...", grad, fit.covariance, grad)
