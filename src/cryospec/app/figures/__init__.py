"""The figures of the demo and the report: one place, NumPy and Matplotlib only (the numbers
come from the public API before a figure is drawn)."""

from cryospec.app.figures.common import (
    FigureBook,
    dose_map,
    length_to_nm,
    map_extent,
    nmf_components,
    save_png,
    value_error_grid,
)
from cryospec.app.figures.profiles import common_direction, element_profiles, plot_profiles

__all__ = [
    "FigureBook",
    "common_direction",
    "dose_map",
    "element_profiles",
    "length_to_nm",
    "map_extent",
    "nmf_components",
    "plot_profiles",
    "save_png",
    "value_error_grid",
]
