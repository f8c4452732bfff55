"""Gradient components for HyperSpy models on profiles.

The same functions as :mod:`cryospec.gradients`, as HyperSpy ``Expression`` components, so
that a profile can be fitted in a plain ``Model1D``, combined with other components (a
multilayer profile is a sum of ``ErfStep`` with one shared plateau, e.g. c1 = 0 but one).
Each class has a UUID ``_id_name``: the key under which ``hyperspy_extension.yaml`` registers
it, so saved models load back.
"""

from __future__ import annotations

from hyperspy._components.expression import Expression

__all__ = ["DiffusionProfile", "ErfStep", "ExponentialDecay", "MultilayerProfile"]


class _StepComponent(Expression):
    """Shared set-up of the single-step components: a named expression in ``x0``, a width-like
    parameter ``shape`` (bounded at 0), and the plateaus ``c0``, ``c1``."""

    _uuid = ""
    _expression = ""
    _shape = ""

    def _setup(self, x0, shape, c0, c1, module, kwargs):
        Expression.__init__(
            self,
            expression=self._expression,
            name=type(self).__name__,
            x0=x0,
            c0=c0,
            c1=c1,
            position="x0",
            module=module,
            autodoc=False,
            **{self._shape: shape},
            **kwargs,
        )
        self._id_name = self._uuid
        getattr(self, self._shape).bmin = 0.0


class ErfStep(_StepComponent):
    """Error-function step: ``c0 + (c1 - c0) * (1 + erf((x - x0) / (sqrt(2) sigma))) / 2``."""

    _uuid = "ee9fed0c-aa8f-4082-a911-8be95e3fd5a1"
    _expression = "c0 + (c1 - c0) * (1 + erf((x - x0) / (sqrt(2) * sigma))) / 2"
    _shape = "sigma"

    def __init__(self, x0=0.0, sigma=1.0, c0=0.0, c1=1.0, module="scipy", **kwargs):
        self._setup(x0, sigma, c0, c1, module, kwargs)


class DiffusionProfile(_StepComponent):
    """``c1`` above ``x0``; ``c0 + (c1 - c0) erfc((x0 - x) / length)`` below; length 2 sqrt(Dt)."""

    _uuid = "3c80757d-fa4d-471f-8d0c-8c2e82caf409"
    _expression = "c0 + (c1 - c0) * erfc(Max(x0 - x, 0) / length)"
    _shape = "length"

    def __init__(self, x0=0.0, length=1.0, c0=0.0, c1=1.0, module="scipy", **kwargs):
        self._setup(x0, length, c0, c1, module, kwargs)


class ExponentialDecay(_StepComponent):
    """``c1`` above ``x0``; ``c0 + (c1 - c0) exp(-(x0 - x) / length)`` below."""

    _uuid = "611e87e1-2997-4e6d-af2b-5a6ceed4df4f"
    _expression = "c0 + (c1 - c0) * exp(-Max(x0 - x, 0) / length)"
    _shape = "length"

    def __init__(self, x0=0.0, length=1.0, c0=0.0, c1=1.0, module="scipy", **kwargs):
        self._setup(x0, length, c0, c1, module, kwargs)


class MultilayerProfile(Expression):
    """``n_layers`` error-function steps: plateaus ``level_0 .. level_n``, steps at ``x0_k``
    with widths ``sigma_k`` (Li | layers | LiPON)."""

    _uuid = "ecc1e57a-17a8-4a11-94ad-a019c7c4ed9c"

    def __init__(self, n_layers=2, module="scipy", **kwargs):
        n = int(n_layers)
        if n < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        terms = " + ".join(
            f"(level_{k + 1} - level_{k}) * (1 + erf((x - x0_{k}) / (sqrt(2) * sigma_{k}))) / 2"
            for k in range(n)
        )
        defaults = {f"x0_{k}": float(k) for k in range(n)}
        defaults.update({f"sigma_{k}": 1.0 for k in range(n)})
        defaults.update({f"level_{k}": 0.0 for k in range(n + 1)})
        defaults.update({k: v for k, v in kwargs.items() if k in defaults})
        rest = {k: v for k, v in kwargs.items() if k not in defaults}
        super().__init__(
            expression=f"level_0 + {terms}",
            name="MultilayerProfile",
            module=module,
            autodoc=False,
            **defaults,
            **rest,
        )
        self._id_name = self._uuid
        self._whitelist["n_layers"] = ("init", n)
        for k in range(n):
            getattr(self, f"sigma_{k}").bmin = 0.0
