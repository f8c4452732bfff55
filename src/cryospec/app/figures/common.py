"""What every figure of the demo and the report shares: PNG files written atomically, map
extents in nm, and the grid of value maps beside their standard-error maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cryospec.app.atomic import atomic_write

__all__ = [
    "FigureBook",
    "dose_map",
    "map_extent",
    "nmf_components",
    "save_png",
    "value_error_grid",
]


def save_png(fig, path: Path, dpi: int = 90, tight: bool = False) -> None:
    """Write ``fig`` to ``path`` as PNG (atomically) and close it."""
    import matplotlib.pyplot as plt

    options = {"format": "png", "dpi": dpi}
    if tight:
        options["bbox_inches"] = "tight"
    atomic_write(Path(path), lambda p: fig.savefig(p, **options))
    plt.close(fig)


class FigureBook:
    """The figures of one page: saved under ``folder`` (in ``prefix/`` when given) and listed
    with their captions, as the page links them."""

    def __init__(self, folder: Path, prefix: str = "", dpi: int = 90, tight: bool = False):
        self.folder, self.prefix, self.dpi, self.tight = Path(folder), prefix, dpi, tight
        self.figures: list[tuple[str, str]] = []

    def add(self, fig, name: str, caption: str) -> None:
        """Save ``fig`` as ``[prefix/]name`` and list it with ``caption``."""
        link = f"{self.prefix}/{name}" if self.prefix else name
        save_png(fig, self.folder / link, dpi=self.dpi, tight=self.tight)
        self.figures.append((link, caption))


def map_extent(x: np.ndarray, y: np.ndarray) -> list[float]:
    """``imshow`` extent of a map with columns at ``x`` and rows at ``y``."""
    return [float(x[0]), float(x[-1]), float(y[-1]), float(y[0])]


def value_error_grid(
    maps: dict[str, tuple[np.ndarray, np.ndarray]],
    extent,
    title: str = "",
    by_rows: bool = False,
    unit: str = "",
    vmin: float | None = None,
):
    """Each key's value map beside its standard-error map: one column per key (value on top),
    or with ``by_rows`` one row per key (value on the left)."""
    import matplotlib.pyplot as plt

    keys = list(maps)
    if by_rows:
        fig, axes = plt.subplots(len(keys), 2, figsize=(11, 2.2 * len(keys)), squeeze=False)
    else:
        fig, axes = plt.subplots(2, len(keys), figsize=(3.2 * len(keys), 4.6), squeeze=False)
        axes = axes.T
    for (ax_value, ax_error), key in zip(axes, keys, strict=True):
        value, error = maps[key]
        for ax, data, label, cmap in (
            (ax_value, value, key, "viridis"),
            (ax_error, error, f"{key} standard error", "magma"),
        ):
            im = ax.imshow(np.atleast_2d(data), extent=extent, aspect="auto", cmap=cmap, vmin=vmin)
            fig.colorbar(im, ax=ax, label=unit)
            ax.set_title(label, fontsize=9)
    for ax in axes[:, 1] if not by_rows else axes[-1]:
        ax.set_xlabel("x (nm)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def dose_map(dose: np.ndarray, extent, flags: dict | None = None):
    """The dose per pixel, with the share of pixels above each flagged critical dose."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    im = ax.imshow(np.atleast_2d(dose), extent=extent, aspect="auto", cmap="magma")
    fig.colorbar(im, ax=ax, label="dose (e/Å²)")
    text = "; ".join(
        f"{species}: {100 * info['flagged_fraction']:.0f} % of pixels above "
        f"{info['critical_dose_e_per_A2']:g} e/Å²"
        for species, info in (flags or {}).items()
    )
    ax.set_title(f"dose per pixel\n{text}" if text else "dose per pixel", fontsize=9)
    ax.set(xlabel="x (nm)", ylabel="y (nm)")
    return fig


def nmf_components(energy, factors, loadings, extent, signal_range, labels=None):
    """KL-NMF factors over ``signal_range`` on top and each loading map below, named by their
    labels and match scores when given (a map of one row or a line scan has no loading maps)."""
    import matplotlib.pyplot as plt

    n = len(factors)
    names = [
        f"{k}" if labels is None else f"{k}: {labels[k][0]} ({labels[k][1]:.2f})" for k in range(n)
    ]
    fig = plt.figure(figsize=(max(3.3 * n, 8), 5.2))
    grid = fig.add_gridspec(2, n)
    ax = fig.add_subplot(grid[0, :])
    keep = (energy >= signal_range[0]) & (energy <= signal_range[1])
    for k in range(n):
        ax.plot(energy[keep], factors[k][keep], label=names[k])
    ax.set(xlabel="energy loss (eV)", ylabel="factor", title="KL-NMF factors")
    ax.legend(fontsize=8)
    for k in range(n):
        axl = fig.add_subplot(grid[1, k])
        if extent is not None:
            axl.imshow(np.atleast_2d(loadings[k]), extent=extent, aspect="auto", cmap="viridis")
        axl.set_title(f"loading {names[k]}", fontsize=9)
        axl.set_xlabel("x (nm)")
    fig.tight_layout()
    return fig
