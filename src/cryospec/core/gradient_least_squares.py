"""The weighted least-squares problem of one gradient profile: the fit, with parameters
optionally held, and the profile-likelihood interval of a parameter."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from cryospec.core.gradient_models import ANALYTIC_JACOBIAN, evaluate_model, model_jacobian

__all__ = ["LeastSquares"]


class LeastSquares:
    """The weighted least-squares problem of one profile, with parameters optionally fixed."""

    def __init__(self, model, n_layers, x, y, weight, probe_sigma, lower, upper):
        self.model, self.n_layers, self.probe_sigma = model, n_layers, probe_sigma
        self.x, self.y, self.weight, self.lower, self.upper = x, y, weight, lower, upper

    def residual(self, p):
        return (evaluate_model(self.model, self.n_layers, self.x, p, self.probe_sigma) - self.y) * (
            self.weight
        )

    def solve(self, p_start, fixed=None, max_nfev=2000):
        """Minimise from ``p_start``, with ``fixed = (index, value)`` held; (p, chi2, result)."""
        free = np.ones(p_start.size, dtype=bool)
        if fixed is not None:
            free[fixed[0]] = False

        def full(q):  # every parameter, the free ones at q
            p = p_start.copy()
            p[free] = q
            if fixed is not None:
                p[fixed[0]] = fixed[1]
            return p

        def jac(q):
            jacobian = model_jacobian(self.model, self.n_layers, self.x, full(q), self.probe_sigma)
            return jacobian[:, free] * self.weight[:, None]

        out = optimize.least_squares(
            lambda q: self.residual(full(q)),
            p_start[free],
            jac=jac if self.model in ANALYTIC_JACOBIAN else "2-point",
            bounds=(self.lower[free], self.upper[free]),
            x_scale="jac",
            max_nfev=max_nfev,
        )
        return full(out.x), float(np.sum(out.fun**2)), out

    def interval(self, best, chi2, threshold, i, variance) -> tuple[float, float]:
        """Profile-likelihood interval of parameter ``i``: where chi-square, re-minimised over
        the others, rises by ``threshold`` (a bound of the parameter where it never does)."""
        se = np.sqrt(variance) if np.isfinite(variance) else abs(best[i]) + 1.0
        bounds = []
        for direction in (-1.0, 1.0):
            limit = self.lower[i] if direction < 0 else self.upper[i]

            def excess(value):
                try:
                    rise = self.solve(best, (i, value), max_nfev=200)[1] - chi2 - threshold
                except ValueError:  # the model overflows there: far beyond the interval
                    return 1e300
                return rise if np.isfinite(rise) else 1e300

            far = best[i] + direction * max(4.0 * se, 1e-9 * abs(best[i]) + 1e-12)
            far = float(np.clip(far, self.lower[i], self.upper[i])) if np.isfinite(limit) else far
            tries, rise = 0, excess(far)
            while rise < 0 and tries < 6:
                stepped = best[i] + 2.0 * (far - best[i])
                if np.isfinite(limit) and (stepped - limit) * direction > 0:
                    far = float(limit)
                    rise = excess(far)
                    break
                far, tries = stepped, tries + 1
                rise = excess(far)
            if rise < 0:
                bounds.append(float(limit) if np.isfinite(limit) else direction * np.inf)
                continue
            a, b = sorted((best[i], far))
            # an end to a thousandth of the standard error: far finer than it is known
            try:
                bounds.append(float(optimize.brentq(excess, a, b, xtol=1e-3 * (abs(se) + 1e-12))))
            except RuntimeError:  # a rugged chi-square: the bracket's far end, conservatively
                bounds.append(float(far))
        return bounds[0], bounds[1]
