"""HyperSpy model components of gradients across interphases (usable in any ``Model1D``)."""

from cryospec.components.gradient_components import (
    DiffusionProfile,
    ErfStep,
    ExponentialDecay,
    MultilayerProfile,
)

__all__ = ["DiffusionProfile", "ErfStep", "ExponentialDecay", "MultilayerProfile"]
