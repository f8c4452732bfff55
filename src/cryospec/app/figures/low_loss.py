"""The figures of a low-loss dataset: its mean spectrum with the zero-loss peak and the
plasmon marked, and the maps of what it gives (t/lambda, plasmon energy)."""

from __future__ import annotations

import numpy as np

__all__ = ["low_loss_maps", "low_loss_spectrum"]


def low_loss_spectrum(energy, mean, centre_eV: float, plasmon_eV: float):
    """The mean low loss on a log scale, the zero-loss centre and the first plasmon marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    positive = mean[mean > 0]
    floor = float(positive.min()) if positive.size else 1.0
    ax.plot(energy, np.clip(mean, floor, None), color="0.3", lw=0.9, ds="steps-mid")
    ax.set_yscale("log")
    for x, label, color in (
        (centre_eV, f"zero-loss centre {centre_eV:+.2f} eV", "C0"),
        (centre_eV + plasmon_eV, f"plasmon {plasmon_eV:.1f} eV above it", "C3"),
    ):
        ax.axvline(x, color=color, lw=1, ls="--", label=label)
    ax.set_xlabel("energy loss (eV)", fontsize=11)
    ax.set_ylabel("counts per channel (mean pixel)", fontsize=11)
    ax.set_title("mean low-loss spectrum", fontsize=11)
    ax.legend(fontsize=9)
    ax.tick_params(labelsize=10)
    fig.tight_layout()
    return fig


def low_loss_maps(maps: dict[str, np.ndarray], extent, length_unit: str = "nm"):
    """One map per quantity (title: its name and unit), axes in ``length_unit``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(maps), figsize=(4.6 * len(maps), 3.4), squeeze=False)
    for ax, (label, values) in zip(axes[0], maps.items(), strict=True):
        im = ax.imshow(np.atleast_2d(values), extent=extent, aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax).set_label(label, fontsize=9)
        ax.set_title(label, fontsize=11)
        ax.set(xlabel=f"x ({length_unit})", ylabel=f"y ({length_unit})")
    fig.tight_layout()
    return fig
