"""The gradient model a profile holds: erf, erfc (diffusion), exponential or 2-4 steps.

:func:`choose_model` fits every candidate, keeps those that pass the goodness-of-fit tests
(:mod:`.gradient_quality`) and among them the one with the lowest BIC
(:func:`.layer_count.lowest_bic`), then computes its intervals; the comparison and the
reason are in ``GradientFit.selection``.
"""

from __future__ import annotations

from numpy.typing import NDArray

from cryospec.core.gradients import GradientFit, fit_gradient
from cryospec.core.layer_count import lowest_bic, multilayer_candidates

__all__ = ["choose_model", "describe"]


def describe(fit: GradientFit) -> str:
    """``"erf"``, ``"multilayer (3 interfaces)"``..."""
    if fit.model == "multilayer":
        return f"multilayer ({fit.n_layers} interface{'s' if fit.n_layers > 1 else ''})"
    return f"{fit.model} (source at low x)" if fit.mirrored else fit.model


def choose_model(
    x: NDArray, y: NDArray, variance: NDArray, probe_sigma: float = 0.0, max_layers: int = 4
) -> GradientFit:
    """Fit the candidate models and return the chosen one, with its intervals.

    Candidates: ``erf`` (one step), ``diffusion`` (erfc) and ``exponential`` with the source
    at high x, and ``multilayer`` with 2..``max_layers`` interfaces (one interface is the
    erf). An explicit ``fit_gradient(model="diffusion")`` fits both orientations.

    Raises
    ------
    ValueError
        When no candidate converges.
    """
    fits: list[GradientFit] = []
    for model in ("erf", "diffusion", "exponential"):
        try:
            # One orientation of the one-sided models (source at high x): with both, a fall in
            # two steps whose second is weak (Li on exspy-made data at 80 e/A^2) was taken for
            # a decay from the low-x side, its half-height point between the two interfaces.
            fit = fit_gradient(
                x, y, variance, model=model, probe_sigma=probe_sigma, intervals=False,
                side="high",
            )  # fmt: skip
        except ValueError:
            continue
        if fit.converged:
            fits.append(fit)
    fits += [
        f for f in multilayer_candidates(x, y, variance, max_layers, probe_sigma) if f.n_layers > 1
    ]
    if not fits:
        raise ValueError("no gradient model converged on the profile")
    chosen = lowest_bic(fits)
    best = fit_gradient(
        x, y, variance, model=chosen.model, n_layers=chosen.n_layers, probe_sigma=probe_sigma,
        start=chosen._vector(), side="high",
    )  # fmt: skip
    lowest = chosen.bic
    if chosen.acceptable:
        reason = "lowest BIC among the models that pass the goodness-of-fit tests"
    else:
        reason = "no candidate passes the goodness-of-fit tests: the lowest BIC is shown, flagged"
    best.selection = {
        "chosen": describe(best),
        "criterion": "BIC",
        "reason": reason,
        "candidates": [
            {
                "model": describe(f),
                "bic": float(f.bic),
                "delta_bic": float(f.bic - lowest),
                "reduced_chi2": float(f.reduced_chi2),
                "passed": bool(f.acceptable),
            }
            for f in sorted(fits, key=lambda f: f.bic)
        ],
    }
    return best
