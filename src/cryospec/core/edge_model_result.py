"""What a model fit of edges returns: per-pixel areal densities with their covariance and fit
quality (:class:`EdgeModelResult`) and, for one spectrum, the fitted curves
(:class:`ModelCurves`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cryospec.core.poisson_fit import PowerLawEdgesFit

__all__ = ["EdgeModelResult", "ModelCurves", "model_curves"]


@dataclass
class ModelCurves:
    """The fitted model of one spectrum over one fit's range
    (:func:`cryospec.core.quantify.fit_edge_model` with ``keep_curves``), in the electrons of
    the fitted counts, per channel.

    Attributes
    ----------
    energy : ndarray (m,)
        The channels from the fit's first to its last (the left-out near-edge regions
        included, where the model is drawn but was not fitted).
    fitted : ndarray of bool (m,)
        The channels the fit used.
    background : ndarray (m,)
        The power law.
    edges : dict of ndarray (m,)
        Each edge's fitted contribution (quantified and nuisance edges), by edge name.
    """

    energy: NDArray
    fitted: NDArray
    background: NDArray
    edges: dict[str, NDArray]

    @property
    def model(self) -> NDArray:
        """The background plus every edge."""
        return self.background + sum(self.edges.values(), np.zeros_like(self.background))


@dataclass
class EdgeModelResult:
    """Result of :func:`fit_edge_model` (shapes (...), (..., J), (..., J, J)).

    Attributes
    ----------
    edges : tuple of str
        Edge names, the order of the last axes.
    areal_density, covariance : ndarray
        Atoms/nm² per edge (relative units when ``incident`` was 1), and their covariance.
    background_exponent : ndarray
        Fitted power-law exponent.
    reduced_deviance : ndarray
        Poisson deviance per degree of freedom over the fit channels.
    converged : ndarray of bool
    """

    edges: tuple[str, ...]
    areal_density: NDArray
    covariance: NDArray
    background_exponent: NDArray
    reduced_deviance: NDArray
    converged: NDArray
    overlaps: tuple[str, ...] = ()
    overlap_amplitude: NDArray | None = None
    deviance: NDArray | None = None
    # the fit of the map's summed spectrum, when the caller made one (the detection test)
    summed: EdgeModelResult | None = None
    # with ``keep_curves``: the fitted model of the one spectrum, one entry per fit range
    curves: list[ModelCurves] = field(default_factory=list)

    @property
    def standard_error(self) -> NDArray:
        """Standard error of each areal density."""
        return np.sqrt(np.clip(np.diagonal(self.covariance, axis1=-2, axis2=-1), 0, None))

    @staticmethod
    def packed_size(n_edges: int, n_overlaps: int = 0) -> int:
        """Length of the last axis of :meth:`pack` for ``n_edges`` edges and ``n_overlaps``
        nuisance edges."""
        return n_edges + n_edges * n_edges + 4 + n_overlaps

    def pack(self) -> NDArray:
        """Every per-pixel field on one last axis (a Dask block kernel returns one array):
        areal densities, the flattened covariance, the exponent, the reduced deviance, the
        deviance, the converged flag (0/1), then the overlap amplitudes."""
        j = len(self.edges)
        nav = self.areal_density.shape[:-1]
        overlap = self.overlap_amplitude
        if overlap is None:
            overlap = np.zeros((*nav, 0))
        deviance = np.full(nav, np.nan) if self.deviance is None else self.deviance
        return np.concatenate(
            [
                self.areal_density,
                self.covariance.reshape(*nav, j * j),
                self.background_exponent[..., None],
                self.reduced_deviance[..., None],
                np.broadcast_to(deviance, nav)[..., None],
                np.broadcast_to(self.converged, nav)[..., None].astype(float),
                overlap,
            ],
            axis=-1,
        )

    @classmethod
    def unpack(
        cls, packed: NDArray, edges: tuple[str, ...], overlaps: tuple[str, ...] = ()
    ) -> EdgeModelResult:
        """The result that :meth:`pack` gave ``packed`` (for the same edges and overlaps)."""
        j = len(edges)
        packed = np.asarray(packed)
        if packed.shape[-1] != cls.packed_size(j, len(overlaps)):
            raise ValueError(
                f"a packed edge-model result of {j} edges and {len(overlaps)} overlaps has "
                f"{cls.packed_size(j, len(overlaps))} values per pixel, got {packed.shape[-1]}"
            )
        rest = j + j * j
        return cls(
            edges=tuple(edges),
            areal_density=packed[..., :j],
            covariance=packed[..., j:rest].reshape(*packed.shape[:-1], j, j),
            background_exponent=packed[..., rest],
            reduced_deviance=packed[..., rest + 1],
            deviance=packed[..., rest + 2],
            converged=packed[..., rest + 3] > 0.5,
            overlaps=tuple(overlaps),
            overlap_amplitude=packed[..., rest + 4 :],
        )


def model_curves(
    result: PowerLawEdgesFit, energy: NDArray, fit: NDArray, shapes: NDArray, names
) -> ModelCurves:
    """The one spectrum's fitted background and edge contributions from its first to its
    last fit channel (``shapes`` on every channel of ``energy``)."""
    used = np.flatnonzero(fit)
    span = slice(used[0], used[-1] + 1)
    params = np.asarray(result.params).reshape(-1)
    shapes = np.asarray(shapes).reshape(-1, *np.shape(shapes)[-2:])[0][span]
    return ModelCurves(
        energy=energy[span].copy(),
        fitted=fit[span].copy(),
        background=np.asarray(result.power_law(energy[span])).reshape(-1),
        edges={name: shapes[:, k] * params[2 + k] for k, name in enumerate(names)},
    )
