"""Blind unmixing of a cryo signal: KL-NMF (Poisson maximum likelihood) into HyperSpy's
``learning_results``, component labels from phase maps, and the choice of the component number
(:class:`DecompositionMethods`; the factorisations are in :mod:`cryospec.core.decompose`)."""

from __future__ import annotations

import warnings

import numpy as np

from cryospec._chunks import iterate_row_blocks
from cryospec.core.decompose import choose_n_components, kl_nmf, kl_nmf_blocks, kl_nmf_shifted
from cryospec.core.phases import label_by_maps
from cryospec.signals.axis_checks import energy_axis
from cryospec.signals.count_validation import check_counts_in_memory
from cryospec.signals.io import names_read_errors
from cryospec.signals.quantify_noise import (
    NEGATIVE_CHOICES,
    negative_count_sums,
    resolve_count_noise,
)

__all__ = ["DecompositionMethods"]


class DecompositionMethods:
    """KL-NMF methods shared by the cryo EELS and EDX signal classes."""

    def _energy_mask(self, signal_range: tuple[float, float] | None) -> np.ndarray:
        """Channels inside ``signal_range`` (all when None); a range off the axis is an error."""
        energy = energy_axis(self, unit=None)  # EDX (keV) too
        if signal_range is None:
            return np.ones(energy.size, dtype=bool)
        lo, hi = signal_range
        if lo < energy[0] or hi > energy[-1] or not lo < hi:
            raise ValueError(
                f"signal_range {signal_range} is not inside the axis "
                f"[{energy[0]:g}, {energy[-1]:g}]"
            )
        keep = (energy >= lo) & (energy <= hi)
        if not keep.any():
            raise ValueError(f"signal_range {signal_range} holds no channel")
        return keep

    @names_read_errors
    def decomposition_kl(
        self,
        n_components: int,
        signal_range: tuple[float, float] | None = None,
        max_iter: int = 500,
        n_epochs: int = 20,
        random_state: int = 0,
        navigation_mask=None,
        negative: str = "shift",
        read_noise: float | None = None,
    ) -> None:
        """NMF with the Kullback-Leibler loss (Poisson maximum likelihood), into
        ``learning_results``.

        After it, HyperSpy's ``get_decomposition_factors()``, ``get_decomposition_loadings()``,
        ``plot_decomposition_results()`` and ``get_decomposition_model()`` work as after
        ``decomposition()``. A lazy signal is factorised out of core (mini-batches over its Dask
        blocks, :func:`cryospec.decompose.kl_nmf_blocks`).

        Parameters
        ----------
        n_components : int
            Number of components.
        signal_range : (float, float), optional
            Energy range to factorise (e.g. the Li K region); the factors are zero outside it.
        max_iter : int
            Iterations of the in-memory solver.
        n_epochs : int
            Passes over the blocks of the out-of-core solver.
        random_state : int
            Seed of the initialisation.
        navigation_mask : array of bool or BaseSignal, optional
            Pixels to leave out (True, HyperSpy's convention), e.g. vacuum or a damaged area;
            their loadings are NaN.
        negative : {"shift", "clip", "raise"}
            Negative values (after a dark-reference subtraction): fitted with the read noise as
            shifted Poisson (``"shift"``, in memory only: ``x + s`` Poisson with mean
            ``W H + s``, ``s`` the read-noise variance over the detector gain, 1 when none is
            recorded; see :mod:`cryospec.signals.quantify_noise`), set to zero (``"clip"``, a
            bias of the order of the read noise), or an error. Never decompose
            background-subtracted data: decompose the raw counts.
        read_noise : float, optional
            With ``negative="shift"``: the read-noise standard deviation in counts (default:
            the one of ``set_noise_model``, else estimated from the negative values, with a
            warning).

        Raises
        ------
        ValueError
            Negative (unless clipped), NaN or inf counts; a range outside the axis or holding no
            channel; more components than pixels or channels; a mask that leaves no pixel.
        """
        from hyperspy.learn import LearningResults

        if negative not in NEGATIVE_CHOICES:
            raise ValueError(f"negative must be one of {NEGATIVE_CHOICES}, got {negative!r}")
        axis = self.axes_manager.signal_axes[0]
        energy = np.asarray(axis.axis)
        keep = self._energy_mask(signal_range)
        n_channels = int(keep.sum())
        data = self.data.reshape(-1, energy.size)[:, keep]
        n_pixels = data.shape[0]
        gain = _gain_or_one(self)
        if not self._lazy:  # out of core each block is checked as it is read
            check_counts_in_memory(self.data[..., keep], energy[keep], gain, "the signal range")
        if navigation_mask is None:
            use = np.ones(n_pixels, dtype=bool)
        else:
            mask = getattr(navigation_mask, "data", navigation_mask)
            mask = np.asarray(mask, dtype=bool)
            if mask.size != n_pixels:
                raise ValueError(f"navigation_mask has {mask.size} pixels, the signal {n_pixels}")
            use = ~mask.ravel()
            if not use.any():
                raise ValueError("navigation_mask leaves no pixel to decompose")
        if not 1 <= n_components <= min(int(use.sum()), n_channels):
            raise ValueError(
                f"n_components must lie in 1..{min(int(use.sum()), n_channels)} "
                f"({int(use.sum())} pixels, {n_channels} channels), got {n_components}"
            )

        def prepare(block):
            block = np.asarray(block, dtype=float)
            check_counts_in_memory(block, energy[keep], gain, "the signal range", whole=False)
            if negative == "shift" and np.any(block < 0):
                raise ValueError(
                    "negative values: the out-of-core KL-NMF takes counts >= 0; decompose in "
                    "memory (s.compute()) to fit them with the read noise, or pass "
                    "negative='clip'"
                )
            return np.clip(block, 0.0, None) if negative == "clip" else block

        noise = None
        if self._lazy:

            def blocks():
                for first, stop, block in iterate_row_blocks(data):
                    yield prepare(block)[use[first:stop]]

            pieces, factors = kl_nmf_blocks(blocks, n_components, n_epochs, random_state)
            used = np.concatenate(pieces, axis=0)
        else:
            values = np.asarray(data, dtype=float)[use]
            noise = _count_noise(self, values, negative, read_noise)
            if noise.read_noise > 0:
                offset = noise.read_noise**2 / noise.gain
                used, factors = kl_nmf_shifted(values, n_components, offset, max_iter, random_state)
            else:
                if noise.negative == "clip":
                    values = np.maximum(values, 0.0)
                used, factors = kl_nmf(values, n_components, max_iter, random_state)
        loadings = np.full((n_pixels, n_components), np.nan)
        loadings[use] = used
        full = np.zeros((energy.size, n_components))
        full[keep] = factors.T
        results = LearningResults()
        results.factors = full
        results.loadings = loadings
        results.decomposition_algorithm = "cryospec KL-NMF"
        results.poissonian_noise_normalized = False
        results.output_dimension = n_components
        results.signal_mask = ~keep if n_channels < energy.size else None
        results.navigation_mask = None if use.all() else ~use
        self.learning_results = results
        self.metadata.set_item(
            "CryoSpec.Decomposition",
            {
                "algorithm": "KL-NMF",
                "n_components": int(n_components),
                "signal_range": list(signal_range) if signal_range else None,
                "out_of_core": bool(self._lazy),
                "masked_pixels": int((~use).sum()),
                "noise": noise.record() if noise is not None else {"negative": negative},
            },
        )

    def label_components(self, phases) -> list[tuple[str, float]]:
        """Name the KL-NMF components by the phase maps their loadings resemble.

        Parameters
        ----------
        phases : PhaseMapResult
            Reference-fit maps of the same pixels (:meth:`CryoEELSSpectrum.phase_maps`).

        Returns
        -------
        list of (str, float)
            Per component: the phase whose amount map correlates best with its loadings, and
            that Pearson correlation (the match score). Also stored in
            ``metadata.CryoSpec.Decomposition.labels`` and ``.scores``.
        """
        results = self.learning_results
        if results.loadings is None or results.decomposition_algorithm != "cryospec KL-NMF":
            raise ValueError("run decomposition_kl() first")
        amounts = np.stack(
            [np.asarray(phases.amount[name].data, dtype=float).ravel() for name in phases.names],
            axis=-1,
        )
        if amounts.shape[0] != results.loadings.shape[0]:
            raise ValueError("the phase maps and the decomposition cover different pixels")
        bad = ~np.all(np.isfinite(results.loadings), axis=1) | ~np.all(np.isfinite(amounts), axis=1)
        labels = label_by_maps(
            np.nan_to_num(results.loadings), np.nan_to_num(amounts), phases.names, mask=bad
        )
        self.metadata.set_item("CryoSpec.Decomposition.labels", [name for name, _ in labels])
        self.metadata.set_item("CryoSpec.Decomposition.scores", [score for _, score in labels])
        return labels

    def choose_n_components_kl(
        self,
        max_components: int = 6,
        signal_range: tuple[float, float] | None = None,
        max_iter: int = 300,
        random_state: int = 0,
    ) -> dict:
        """KL-NMF with 1..``max_components`` components: deviance, BIC and a suggestion.

        See :func:`cryospec.decompose.choose_n_components` (in memory: compute a lazy signal's
        energy range first if it is large).
        """
        energy = np.asarray(self.axes_manager.signal_axes[0].axis)
        keep = self._energy_mask(signal_range)
        data = self.data.reshape(-1, energy.size)[:, keep]
        if self._lazy:
            data = data.compute()
        return choose_n_components(np.asarray(data), max_components, max_iter, random_state)


def _count_noise(signal, values: np.ndarray, negative: str, read_noise):
    """The noise treatment of the counts to decompose (:mod:`cryospec.signals.quantify_noise`),
    its warnings issued; the read-noise offset is in counts, through the recorded detector gain
    (1 when none is recorded)."""
    gain = 1.0
    if signal.metadata.has_item("CryoSpec.Acquisition.detector_gain"):
        gain = float(signal.detector_gain())
    n_negative, square_sum, _ = negative_count_sums(values)
    noise = resolve_count_noise(signal, negative, read_noise, gain, n_negative, square_sum)
    for message in noise.warnings:
        warnings.warn(message, UserWarning, stacklevel=3)
    return noise


def _gain_or_one(signal) -> float:
    """Counts per electron, when recorded (1 otherwise: the count checks' smallest count)."""
    try:
        return float(signal.detector_gain())
    except (KeyError, AttributeError, ValueError):
        return 1.0
