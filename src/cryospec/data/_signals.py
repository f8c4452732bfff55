"""HyperSpy signals of the built-in datasets: axes, acquisition metadata, provenance tags."""

from __future__ import annotations

from numpy.typing import NDArray


def acquisition_record(
    beam_current_pA: float,
    dwell_time_s: float,
    pixel_size_nm: float,
    n_frames: int,
    detector_gain: float,
) -> dict[str, float | int]:
    """The metadata.CryoSpec.Acquisition fields of a synthetic acquisition (at 100 K)."""
    return {
        "beam_current_pA": float(beam_current_pA),
        "dwell_time_s": float(dwell_time_s),
        "pixel_size_nm": float(pixel_size_nm),
        "n_frames": int(n_frames),
        "detector_gain": float(detector_gain),
        "temperature_K": 100.0,
    }


def tag_synthetic(signal, name: str, seed: int, acquisition: dict, **extra) -> None:
    """Write the acquisition fields and the ``CryoSpec.Dataset`` provenance node."""
    signal.set_acquisition_parameters(**acquisition)
    dataset = {"name": name, "seed": int(seed), "synthetic": True, **extra}
    signal.metadata.set_item("CryoSpec.Dataset", dataset)


def navigation_axes(pixel_size_nm: float, ny: int, nx: int) -> list[dict]:
    return [
        {
            "name": "y",
            "size": ny,
            "offset": 0.0,
            "scale": pixel_size_nm,
            "units": "nm",
            "navigate": True,
        },
        {
            "name": "x",
            "size": nx,
            "offset": 0.0,
            "scale": pixel_size_nm,
            "units": "nm",
            "navigate": True,
        },
    ]


def make_eels_signal(data: NDArray, offset: float, step: float, title: str, common: dict):
    from cryospec.signals import CryoEELSSpectrum

    *frames, ny, nx, n = data.shape
    frame_axes = [
        {"name": "frame", "size": f, "offset": 0.0, "scale": 1.0, "units": "", "navigate": True}
        for f in frames
    ]
    axes = [
        *frame_axes,
        *navigation_axes(common["nav"][2], ny, nx),
        {
            "name": "Energy loss",
            "size": n,
            "offset": float(offset),
            "scale": float(step),
            "units": "eV",
            "navigate": False,
        },
    ]
    s = CryoEELSSpectrum(data, axes=axes)
    s.metadata.General.title = title
    s.set_microscope_parameters(
        beam_energy=common["beam_energy"],
        convergence_angle=common["convergence_angle"],
        collection_angle=common["collection_angle"],
    )
    tag_synthetic(s, "li_lipon", common["seed"], common["acquisition"])
    s.metadata.set_item("Sample.description", "Li metal | interphase | LiPON cross-section")
    return s
