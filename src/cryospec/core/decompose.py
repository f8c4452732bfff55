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

from cryospec.core.checks import check_counts

__all__ = ["choose_n_components", "kl_nmf", "kl_nmf_blocks", "poisson_deviance_total"]


def _check(x: NDArray) -> None:
    check_counts(
        x,
        "the data hold NaN or inf values",
        "KL-NMF needs non-negative counts: negative values found (background-subtracted "
        "data? decompose the raw counts, or clip them)",
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


def kl_nmf_shifted(
    x: NDArray,
    n_components: int,
    offset: float,
    max_iter: int = 500,
    random_state: int = 0,
    tol: float = 1e-6,
) -> tuple[NDArray, NDArray]:
    """KL-NMF of counts that carry Gaussian read noise (negative values allowed).

    The shifted-Poisson model: ``x + offset`` is Poisson with mean ``W H + offset``, where
    ``offset`` is the read-noise variance in the units of ``x`` (values still below zero after
    the shift count as 0). Started from :func:`kl_nmf` of ``max(x, 0)`` (a few iterations), then
    multiplicative updates of the shifted Kullback-Leibler loss, stopped when the deviance
    changes by less than ``tol`` of itself over 10 iterations.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("the data hold NaN or inf values")
    if not (np.isfinite(offset) and offset >= 0):
        raise ValueError(f"offset must be finite and >= 0, got {offset!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        w, h = kl_nmf(np.maximum(x, 0.0), n_components, max_iter=30, random_state=random_state)
    shifted = np.maximum(x + offset, 0.0)
    floor = 1e-12
    previous = np.inf
    for step in range(max_iter):
        ratio = shifted / (w @ h + offset + floor)
        h *= (w.T @ ratio) / (w.sum(axis=0)[:, None] + floor)
        ratio = shifted / (w @ h + offset + floor)
        w *= (ratio @ h.T) / (h.sum(axis=1)[None, :] + floor)
        if step % 10 == 9:
            current = poisson_deviance_total(shifted, w, h, offset)
            if abs(previous - current) <= tol * abs(current):
                break
            previous = current
    return w, h


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
            if block.shape[0] == 0:
                continue
            _check(block)
            model.partial_fit(block + 1e-12)
    loadings = [
        model.transform(np.asarray(block, dtype=float) + 1e-12)
        if len(block)
        else np.zeros((0, n_components))
        for block in blocks()
    ]
    return loadings, model.components_


def poisson_deviance_total(x: NDArray, w: NDArray, h: NDArray, offset: float = 0.0) -> float:
    """Total Poisson deviance ``2 sum(x ln(x / m) - (x - m))`` of the reconstruction
    ``m = W H + offset`` (``x`` already shifted by ``offset``, see :func:`kl_nmf_shifted`)."""
    m = np.maximum(w @ h + offset, 1e-12)
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(x > 0, x * np.log(x / m), 0.0)
    return float(2.0 * np.sum(term - (x - m)))


def choose_n_components(
    x: NDArray, max_components: int = 6, max_iter: int = 300, random_state: int = 0
) -> dict:
    """Fit 1..``max_components`` KL-NMF models and suggest a number of components.

    Each extra component adds ``p = n_pixels + n_channels`` parameters; fitted to noise alone
    it lowers the Poisson deviance by about ``p`` (a chi-square with ``p`` degrees of freedom,
    standard deviation ``sqrt(2p)``). The suggestion is the smallest ``k`` whose next component
    lowers the deviance by less than ``p + 8 sqrt(2p)`` (a likelihood-ratio rule; the absolute
    deviance is not used because at a fraction of a count per channel its expectation is below
    the degrees of freedom). The BIC is reported too; it over-penalises the per-pixel loadings.

    Returns
    -------
    dict
        ``n_components``, ``deviance``, ``deviance_drop``, ``bic`` (lists), ``threshold`` and
        ``suggested``.
    """
    x = np.asarray(x, dtype=float)
    n_pix, n_ch = x.shape
    p = n_pix + n_ch
    threshold = p + 8.0 * np.sqrt(2.0 * p)
    ks, deviances, bics = [], [], []
    for k in range(1, max_components + 1):
        w, h = kl_nmf(x, k, max_iter=max_iter, random_state=random_state)
        deviance = poisson_deviance_total(x, w, h)
        ks.append(k)
        deviances.append(deviance)
        bics.append(deviance + k * p * np.log(n_pix * n_ch))
    drops = [deviances[i] - deviances[i + 1] for i in range(len(ks) - 1)]
    suggested = ks[-1]
    for i, drop in enumerate(drops):
        if drop < threshold:
            suggested = ks[i]
            break
    return {
        "n_components": ks,
        "deviance": deviances,
        "deviance_drop": drops,
        "bic": bics,
        "threshold": float(threshold),
        "suggested": int(suggested),
    }
