"""Non-negative matrix factorisation with the Kullback-Leibler loss: the Poisson ML NMF.

``X ~ W H`` with ``X`` (pixels x channels) counts, ``W`` (pixels x k) loadings and ``H``
(k x channels) factors, all non-negative. Minimising the generalised Kullback-Leibler
divergence is maximum likelihood for Poisson counts (scikit-learn's ``beta_loss=
"kullback-leibler"``, multiplicative updates); the squared error that HyperSpy's
``decomposition(algorithm="NMF")`` minimises over-weights the bright pixels and channels at low
dose. Out of core, scikit-learn's ``MiniBatchNMF`` learns ``H`` from one Dask block at a time
and the loadings are then found block by block, so the full array is never gathered.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["kl_nmf", "kl_nmf_blocks"]


def _check(x: NDArray) -> None:
    if not np.all(np.isfinite(x)):
        raise ValueError("the data hold NaN or inf values")
    if np.any(x < 0):
        raise ValueError(
            "KL-NMF needs non-negative counts: negative values found (background-subtracted "
            "data? decompose the raw counts, or clip them)"
        )


def kl_nmf(
    x: NDArray, n_components: int, max_iter: int = 500, random_state: int = 0
) -> tuple[NDArray, NDArray]:
    """KL-NMF of a (pixels x channels) count matrix; returns ``(W, H)``."""
    from sklearn.decomposition import NMF

    x = np.asarray(x, dtype=float)
    _check(x)
    if not 1 <= n_components <= min(x.shape):
        raise ValueError(f"n_components must lie in 1..{min(x.shape)}, got {n_components}")
    model = NMF(
        n_components=n_components,
        beta_loss="kullback-leibler",
        solver="mu",
        init="nndsvda",
        max_iter=max_iter,
        random_state=random_state,
        tol=1e-6,
    )
    w = model.fit_transform(x + 1e-12)
    return w, model.components_


def kl_nmf_blocks(
    blocks, n_components: int, n_epochs: int = 20, random_state: int = 0
) -> tuple[list[NDArray], NDArray]:
    """Out-of-core KL-NMF over an iterable of (pixels x channels) blocks (called twice).

    ``blocks`` is a callable returning a fresh iterator of NumPy blocks; ``H`` is learnt by
    ``MiniBatchNMF.partial_fit`` over ``n_epochs`` passes, then each block's loadings by
    ``transform``. Returns the list of loadings blocks and ``H``.
    """
    from sklearn.decomposition import MiniBatchNMF

    model = MiniBatchNMF(
        n_components=n_components,
        beta_loss="kullback-leibler",
        init="nndsvda",
        random_state=random_state,
        fresh_restarts=False,
    )
    for _ in range(n_epochs):
        for block in blocks():
            block = np.asarray(block, dtype=float)
            _check(block)
            model.partial_fit(block + 1e-12)
    loadings = [model.transform(np.asarray(block, dtype=float) + 1e-12) for block in blocks()]
    return loadings, model.components_
