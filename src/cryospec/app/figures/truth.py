"""The figures of the demo's truth page: each measured map or profile next to its ground truth."""

from __future__ import annotations

import numpy as np

__all__ = [
    "depth_profiles",
    "edge_maps",
    "edx_lines",
    "li_k_background",
    "region_spectra",
    "thickness_pair",
]


def thickness_pair(measured: np.ndarray, true: np.ndarray, extent):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3), sharey=True)
    vmin, vmax = true.min(), true.max()
    for ax, data, title in zip(axes, (measured, true), ("exspy log-ratio", "truth"), strict=True):
        im = ax.imshow(data, extent=extent, aspect="auto", vmin=vmin, vmax=vmax, cmap="viridis")
        ax.set(xlabel="depth x (nm)", title=f"t/λ, {title}")
    axes[0].set_ylabel("y (nm)")
    fig.colorbar(im, ax=axes, label="t/λ")
    return fig


def region_spectra(energy: np.ndarray, spectra: dict[str, np.ndarray], onsets: dict[str, float]):
    """Mean spectra of named regions on a log scale, the edge onsets marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    for name, spectrum in spectra.items():
        ax.plot(energy, spectrum, label=name, lw=1)
    for edge_name, onset in onsets.items():
        ax.axvline(onset, color="0.6", ls=":", lw=1)
        ax.text(
            onset, 0.9, edge_name, rotation=90, transform=ax.get_xaxis_transform(), fontsize=8,
            va="top",
        )  # fmt: skip
    ax.set(
        yscale="log",
        xlabel="energy loss (eV)",
        ylabel="counts / channel",
        title="Mean core-loss spectra of the three regions",
    )
    ax.legend()
    return fig


def li_k_background(core_loss, truth, fit_result, subtracted):
    """Region-averaged Li K: data, fitted and true backgrounds, and the edge left over."""
    import matplotlib.pyplot as plt

    energy = truth.energy_eV
    view = (energy > 36) & (energy < 90)
    columns = truth.x_nm > truth.geometry.lipon_interface_nm + 15
    data = core_loss.data[:, columns].mean(axis=(0, 1))
    background = fit_result.fit.evaluate(energy)[:, columns].mean(axis=(0, 1))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    ax = axes[0]
    ax.plot(energy[view], data[view], color="0.3", lw=1, label="data (LiPON region mean)")
    ax.plot(energy[view], background[view], lw=1.5, label="Poisson-ML background (dose-aware)")
    ax.plot(
        energy[view],
        truth.background[:, columns].mean(axis=(0, 1))[view],
        ls="--",
        lw=1,
        label="true background",
    )
    ax.plot(
        energy[view],
        subtracted.data[:, columns].mean(axis=(0, 1))[view],
        lw=1.5,
        label="background-subtracted",
    )
    ax.plot(
        energy[view],
        truth.edges["Li_K"][:, columns].mean(axis=(0, 1))[view],
        ls=":",
        color="k",
        lw=1.2,
        label="true Li K",
    )
    for lo, hi in fit_result.windows_eV:
        ax.axvspan(lo, hi, color="C0", alpha=0.1)
    ax.set(xlabel="energy loss (eV)", ylabel="counts / channel", title="Li K background fit")
    ax.legend(fontsize=8)
    ax = axes[1]
    x = truth.x_nm
    ax.plot(x, fit_result.shape.data.mean(axis=0), label="fitted exponent r (row mean)")
    ax.plot(x, truth.background_exponent.mean(axis=0), ls="--", label="true r")
    ax2 = ax.twinx()
    ax2.plot(
        x,
        fit_result.neighbourhood_radius.data.mean(axis=0),
        color="C2",
        lw=1,
        label="neighbourhood half-width",
    )
    ax2.set_ylabel("neighbourhood half-width (pixels)", color="C2")
    ax.set(
        xlabel="depth x (nm)",
        ylabel="power-law exponent r",
        title="Background shape across the interphase",
    )
    ax.legend(fontsize=8, loc="upper right")
    return fig


def edge_maps(maps: dict[str, np.ndarray], extent):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 5), sharex=True, sharey=True)
    for ax, (edge_name, data) in zip(axes.flat, maps.items(), strict=True):
        im = ax.imshow(data, extent=extent, aspect="auto", cmap="inferno")
        fig.colorbar(im, ax=ax, label="counts")
        ax.set_title(f"{edge_name} signal (Poisson-ML background)")
    for ax in axes[-1]:
        ax.set_xlabel("depth x (nm)")
    return fig


def depth_profiles(x: np.ndarray, curves: dict[str, tuple], interfaces: tuple[float, ...]):
    """Per edge: (measured, expected) depth profiles; the interfaces as vertical lines."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    for edge_name, (measured, expected) in curves.items():
        line = ax.plot(x, measured, lw=1.5, label=f"{edge_name} (scaled to truth)")[0]
        ax.plot(x, expected, color=line.get_color(), ls="--", lw=1)
    for position in interfaces:
        ax.axvline(position, color="k", lw=0.8)
    ax.set(
        xlabel="depth x (nm)",
        ylabel="atoms / nm³",
        title="Depth profiles (row means / thickness); dashed: truth",
    )
    ax.legend(fontsize=8)
    return fig


def edx_lines(line_maps, extent):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(line_maps), figsize=(12, 2.8), sharey=True)
    for ax, m in zip(np.atleast_1d(axes), line_maps, strict=True):
        im = ax.imshow(m.data, extent=extent, aspect="auto", cmap="cividis")
        fig.colorbar(im, ax=ax)
        ax.set(title=f"{m.metadata.Sample.xray_lines[0]} window counts", xlabel="depth x (nm)")
    return fig
