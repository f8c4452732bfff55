"""What every figure of the demo and the report shares: PNG files written atomically, map
extents in nm, and the grid of value maps beside their standard-error maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cryospec.app.atomic import atomic_write
from cryospec.signals.axis_checks import length_to_nm

__all__ = [
    "FigureBook",
    "dose_map",
    "length_to_nm",
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


def _scale_bar(ax, extent, unit: str) -> None:
    """A bar of a round length (1, 2 or 5 times a power of ten, at most a quarter of the map's
    width) in the lower left."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    width = abs(extent[1] - extent[0])
    if width <= 0:
        return
    target = width / 4
    decade = 10 ** np.floor(np.log10(target))
    length = max(m * decade for m in (1, 2, 5) if m * decade <= target)
    bar = AnchoredSizeBar(
        ax.transData, length, f"{length:g} {unit}", "lower left", pad=0.3, color="white",
        frameon=False, size_vertical=abs(extent[2] - extent[3]) / 40, fontproperties={"size": 9},
    )  # fmt: skip
    ax.add_artist(bar)


def _fraction_limits(values: np.ndarray) -> tuple[float, float, str]:
    """Colour limits of a fraction map: its 1-99 % range within 0-1, and the colour bar's
    ``extend`` where values lie beyond it (noise takes single pixels below 0 or above 1)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0, "neither"
    lo, hi = np.percentile(finite, [1, 99])
    lo, hi = max(float(lo), 0.0), min(float(hi), 1.0)
    if hi <= lo:
        lo, hi = 0.0, 1.0
    below, above = finite.min() < lo, finite.max() > hi
    extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (bool(below), bool(above)), "neither"
    )
    return lo, hi, extend


def value_error_grid(
    maps: dict[str, tuple[np.ndarray, np.ndarray]],
    extent,
    title: str = "",
    by_rows: bool = False,
    unit: str = "",
    vmin: float | None = None,
    fraction: bool = False,
    length_unit: str = "nm",
):
    """Each key's value map beside its standard-error map: one column per key (value on top),
    or with ``by_rows`` one row per key (value on the left). Axes in ``length_unit`` with a
    scale bar on each value map; colour bars labelled with ``unit`` (``fraction``: the
    colours span the 1-99 % range within 0-1, the bar's arrows mark values beyond it)."""
    import matplotlib.pyplot as plt

    keys = list(maps)
    if by_rows:
        fig, axes = plt.subplots(len(keys), 2, figsize=(11, 2.4 * len(keys)), squeeze=False)
    else:
        # at least 7 inches: a map or two must not cut the title
        width = max(3.6 * len(keys), 7.0)
        fig, axes = plt.subplots(2, len(keys), figsize=(width, 5.4), squeeze=False)
        axes = axes.T
    for (ax_value, ax_error), key in zip(axes, keys, strict=True):
        value, error = maps[key]
        for ax, data, label, cmap, is_value in (
            (ax_value, value, key, "viridis", True),
            (ax_error, error, f"{key} standard error", "magma", False),
        ):
            options = {"vmin": vmin}
            extend = "neither"
            bar_label = unit or ("atomic fraction" if fraction else "")
            if fraction and is_value:
                options["vmin"], options["vmax"], extend = _fraction_limits(data)
                if extend != "neither":
                    bar_label = "atomic fraction (1-99 % range)"
            if not is_value:
                bar_label = f"standard error {f'({unit})' if unit else ''}".strip()
            im = ax.imshow(np.atleast_2d(data), extent=extent, aspect="auto", cmap=cmap, **options)
            bar = fig.colorbar(im, ax=ax, extend=extend)
            bar.set_label(bar_label, fontsize=9)
            bar.ax.tick_params(labelsize=8)
            ax.set_title(label, fontsize=11)
            ax.tick_params(labelsize=9)
            if is_value and np.atleast_2d(data).shape[0] > 1:
                _scale_bar(ax, extent, length_unit)
    for ax in axes[:, 1] if not by_rows else axes[-1]:
        ax.set_xlabel(f"x ({length_unit})", fontsize=10)
    for ax in axes[0] if not by_rows else axes[:, 0]:
        ax.set_ylabel(f"y ({length_unit})", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def dose_map(dose: np.ndarray, extent, flags: dict | None = None, length_unit: str = "nm"):
    """The dose per pixel, with the share of pixels above each flagged critical dose (a
    uniform dose is said in words: one flat colour shows nothing)."""
    import matplotlib.pyplot as plt

    dose = np.atleast_2d(dose)
    fig, ax = plt.subplots(figsize=(7, 3))
    im = ax.imshow(dose, extent=extent, aspect="auto", cmap="magma")
    bar = fig.colorbar(im, ax=ax)
    bar.set_label("dose (e/Å²)", fontsize=9)
    text = "; ".join(
        f"{species}: {100 * info['flagged_fraction']:.0f} % of pixels above "
        f"{info['critical_dose_e_per_A2']:g} e/Å²"
        for species, info in (flags or {}).items()
    )
    if np.ptp(dose) <= 1e-9 * np.max(np.abs(dose)):
        ax.text(
            0.5, 0.5, f"uniform: {float(dose.flat[0]):.4g} e/Å² in every pixel",
            transform=ax.transAxes, ha="center", va="center", color="white", fontsize=11,
        )  # fmt: skip
    ax.set_title(f"dose per pixel\n{text}" if text else "dose per pixel", fontsize=11)
    ax.set(xlabel=f"x ({length_unit})", ylabel=f"y ({length_unit})")
    fig.tight_layout()
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
            im = axl.imshow(
                np.atleast_2d(loadings[k]), extent=extent, aspect="auto", cmap="viridis"
            )
            fig.colorbar(im, ax=axl).set_label("loading", fontsize=9)
        axl.set_title(f"loading {names[k]}", fontsize=10)
        axl.set(xlabel="x (nm)", ylabel="y (nm)" if k == 0 else "")
    fig.tight_layout()
    return fig
