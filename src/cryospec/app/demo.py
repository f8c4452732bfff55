"""The demo: the built-in Li | interphase | LiPON dataset through the whole pipeline.

It generates the synthetic EELS (core loss and low loss) and EDX spectrum images, computes the
dose map from the metadata, the relative thickness from the low loss (exspy), background-
subtracted edge-signal maps (dose-aware Poisson maximum likelihood in the edge database's
windows), their depth profiles, the quantification, the gradient fits, the phase maps and the
EDX line maps; then writes ``truth.html`` with the figures and ``summary.json`` with the numbers,
each next to its truth. Finally it saves the datasets as files and runs ``cryospec report`` over
them: ``index.html``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cryospec.app.atomic import atomic_write, atomic_write_text, strict_json
from cryospec.app.console import progress_lines
from cryospec.app.figures import (
    FigureBook,
    dose_map,
    element_profiles,
    map_extent,
    nmf_components,
    plot_profiles,
    value_error_grid,
)
from cryospec.app.figures import truth as figures
from cryospec.app.html import truth_page
from cryospec.data import EELS_EDGES, li_lipon, li_lipon_eds
from cryospec.edges import get_edge

__all__ = ["run_demo"]

_logger = logging.getLogger(__name__)

COUNT_TARGET = 4000.0  # counts the background windows of a pooled neighbourhood must hold
NMF_RANGE_EV = (40.0, 90.0)  # the Li K region that the demo's KL-NMF factorises


def run_demo(
    out_dir: str | Path,
    shape: tuple[int, int] = (24, 64),
    seed: int = 0,
    show_progressbar: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the demo: the report of the built-in datasets, and their check against the truth.

    Writes ``index.html`` (the ``cryospec report`` of the built-in EELS and EDX datasets, saved
    in ``inputs/``), ``truth.html`` with ``figures/`` and ``summary.json`` (every number next to
    its ground truth).

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created if needed).
    shape : (int, int)
        (rows, columns) of the synthetic spectrum images.
    seed : int
        Seed of the synthetic data.
    show_progressbar : bool
        Show HyperSpy's progress bars.
    progress : callable, optional
        Called with one line per step as the demo goes (the command line prints them).

    Returns
    -------
    dict
        The content of ``summary.json``.
    """
    import matplotlib

    matplotlib.use("Agg")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    step = progress_lines(7, progress)

    book = FigureBook(out, prefix="figures", dpi=110, tight=True)
    step("simulating the Li | interphase | LiPON EELS and EDX spectrum images")
    core_loss, low_loss, truth = li_lipon(shape=shape, seed=seed)
    eds, eds_truth = li_lipon_eds(shape=shape, seed=seed)
    references = _write_inputs(out, core_loss, low_loss, eds, truth)
    extent = map_extent(truth.x_nm, truth.y_nm)

    dose = core_loss.dose_per_pixel()
    book.add(
        dose_map(dose.data, extent),
        "dose.png",
        "Electron dose per pixel, computed from beam current, "
        "dwell time and pixel size stored in metadata.CryoSpec.Acquisition.",
    )
    t_over_lambda = low_loss.estimate_thickness(threshold=3.0).data
    book.add(
        figures.thickness_pair(t_over_lambda, truth.t_over_lambda, extent),
        "thickness.png",
        "Relative thickness t/λ from the low loss (exspy estimate_thickness) next to the truth.",
    )
    _spectra_section(core_loss, truth, book)
    core_loss, replaced = core_loss.remove_spikes()
    flagged = {
        species: core_loss.flag_damage(species).metadata.CryoSpec.Damage.as_dictionary()
        for species in ("Li metal", "Li2CO3", "Li2CO3 (room temperature)")
    }
    step("background subtraction against the truth")
    accuracy, profiles = _background_section(core_loss, low_loss, truth, extent, book)
    step("quantification against the truth")
    quant, quantification = _quantification_section(core_loss, low_loss, truth, extent, book)
    step("gradient fits against the truth")
    gradients, thickness = _gradient_section(quant, book)
    step("phase maps against the truth")
    phase_summary = _phase_section(core_loss, low_loss, truth, extent, book)
    line_maps = eds.get_lines_intensity(plot_result=False)
    book.add(
        figures.edx_lines(line_maps, extent),
        "edx_lines.png",
        "EDX line-window counts of the matching synthetic EDX dataset from exspy's "
        "get_lines_intensity, which sums each window without subtracting the background (the "
        "N Ka window also holds bremsstrahlung and the tail of O Ka); the report's EDX page "
        "shows cryospec's background-subtracted line intensities. There is no Li line in EDX.",
    )
    g, energy = truth.geometry, truth.energy_eV
    summary = {
        "spikes_replaced": int(replaced.data.sum()),
        "damage_flags": flagged,
        "background": {
            "model": "power_law",
            "estimator": "Poisson maximum likelihood, dose-aware",
            "count_target": COUNT_TARGET,
            "edge_signal_vs_truth": accuracy,
        },
        "cryospec_demo": "Li | interphase | LiPON (synthetic)",
        "dataset": {
            "shape": list(shape),
            "seed": seed,
            "pixel_size_nm": core_loss.get_acquisition_parameter("pixel_size_nm"),
            "energy_range_eV": [float(energy[0]), float(energy[-1])],
        },
        "dose": {
            "e_per_A2_per_pixel": float(dose.data.mean()),
            "electrons_per_pixel": core_loss.electrons_per_pixel(),
            "truth_e_per_A2": truth.dose_e_per_A2,
        },
        "thickness": {
            "t_over_lambda_median_abs_error": float(
                np.median(np.abs(t_over_lambda - truth.t_over_lambda))
            ),
            "t_over_lambda_mean": float(t_over_lambda.mean()),
            "truth_t_over_lambda_mean": float(truth.t_over_lambda.mean()),
        },
        "truth": {
            "li_interface_nm": g.li_interface_nm,
            "lipon_interface_nm": g.lipon_interface_nm,
            "interphase_thickness_nm": truth.interphase_thickness_nm,
            "gradients": truth.gradients,
        },
        "edge_signal_profiles": profiles,
        "gradients": {"erf_steps": gradients, "Li_multilayer": thickness},
        "quantification": quantification,
        "edx_line_window_counts_mean": {
            m.metadata.Sample.xray_lines[0]: float(m.data.mean()) for m in line_maps
        },
        "edx_truth_k_factors": eds_truth.k_factors,
        "phases": phase_summary,
        "runtime_s": round(time.perf_counter() - started, 2),
    }
    atomic_write_text(out / "summary.json", strict_json(summary, default=float))
    atomic_write_text(out / "truth.html", truth_page(summary, book.figures))
    step("the report of the two datasets (cryospec report over their files)")
    _write_report(out, references, show_progressbar)
    step("done")
    return summary


def _integration_mask(energy, edge_name: str):
    lo, hi = get_edge(edge_name).integration_window_eV
    return (energy >= lo) & (energy <= hi)


def _spectra_section(core_loss, truth, book: FigureBook) -> None:
    """Mean spectra of the three regions, with the edge database's onsets."""
    x, g = truth.x_nm, truth.geometry
    regions = {
        "Li metal": x < g.li_interface_nm - 3 * g.li_width_nm,
        "interphase": (x > g.li_interface_nm + 3 * g.li_width_nm)
        & (x < g.lipon_interface_nm - 3 * g.lipon_width_nm),
        "LiPON": x > g.lipon_interface_nm + 3 * g.lipon_width_nm,
    }
    spectra = {name: core_loss.data[:, cols].mean(axis=(0, 1)) for name, cols in regions.items()}
    onsets = {name: get_edge(name).onset_eV for name in EELS_EDGES.values()}
    book.add(
        figures.region_spectra(truth.energy_eV, spectra, onsets),
        "spectra.png",
        "Region-averaged core-loss spectra; dotted lines: onsets from the cryospec edge database.",
    )


def _background_section(core_loss, low_loss, truth, extent, book: FigureBook):
    """The dose-aware Poisson-ML background of every edge (P L2,3 with the Li K tail, with
    plural scattering), the integrated edge maps against the truth, and their depth profiles."""
    energy = truth.energy_eV
    results, maps = {}, {}
    for edge_name in EELS_EDGES.values():
        extra = {"preceding_edges": "Li_K", "low_loss": low_loss} if edge_name == "P_L23" else {}
        subtracted, fit = core_loss.subtract_background(
            edge_name, count_target=COUNT_TARGET, return_fit=True, **extra
        )
        results[edge_name] = (subtracted, fit)
        maps[edge_name] = subtracted.data[..., _integration_mask(energy, edge_name)].sum(-1)
    li_sub, li_fit = results["Li_K"]
    book.add(
        figures.li_k_background(core_loss, truth, li_fit, li_sub),
        "li_k_background.png",
        "Left: Li K in the LiPON region, with the dose-aware Poisson maximum-likelihood "
        "power-law background (window shaded), the true background, the subtracted signal and "
        "the true Li K. Right: the fitted exponent against the truth, and the neighbourhood "
        f"grown to hold {COUNT_TARGET:.0f} counts in the window.",
    )
    accuracy = {}
    for edge_name, signal in maps.items():
        true = truth.edges[edge_name][..., _integration_mask(energy, edge_name)].sum(-1)
        element = edge_name.split("_")[0]
        present = truth.areal_density[element] > 0.2 * truth.areal_density[element].max()
        error = (signal - true)[present] / true[present].mean()
        accuracy[edge_name] = {
            "bias_percent": float(100 * error.mean()),
            "spread_percent": float(100 * error.std()),
        }
    book.add(
        figures.edge_maps(maps, extent),
        "edge_maps.png",
        "Integrated edge signals in the edge database's default windows after cryospec's "
        "dose-aware Poisson maximum-likelihood power-law background subtraction.",
    )
    profiles, curves = {}, {}
    for edge_name, signal in maps.items():
        element = edge_name.split("_")[0]
        measured = signal.mean(axis=0) / truth.thickness_nm.mean(axis=0)
        expected = truth.number_density[element].mean(axis=0)
        scale = float(np.sum(measured * expected) / np.sum(expected**2))
        profiles[edge_name] = {
            "x_nm": truth.x_nm.tolist(),
            "signal_per_nm": measured.tolist(),
            "fitted_scale_to_truth": scale,
        }
        curves[edge_name] = (measured / scale, expected)
    g = truth.geometry
    book.add(
        figures.depth_profiles(truth.x_nm, curves, (g.li_interface_nm, g.lipon_interface_nm)),
        "profiles.png",
        "Row-averaged edge signals divided by the thickness "
        "and scaled by one factor each, against the true number densities (dashed); vertical "
        "lines: the true interfaces.",
    )
    return accuracy, profiles


def _quantification_section(core_loss, low_loss, truth, extent, book: FigureBook):
    """The model fit with the low loss (plural scattering in the model) against the truth."""
    quant = core_loss.quantify(list(EELS_EDGES.values()), low_loss=low_loss)
    vs_truth, grid = {}, {}
    for element in EELS_EDGES:
        density = quant.areal_density[element].data
        error = quant.areal_density_se[element].data
        grid[f"{element} areal density"] = (density, error)
        n = truth.areal_density[element]
        present = n > 0.2 * n.max()
        z = (density - n)[present] / error[present]
        vs_truth[element] = {
            "measured_over_true": float(density[present].sum() / n[present].sum()),
            "error_over_standard_error_std": float(z.std()),
        }
    book.add(
        value_error_grid(grid, extent, by_rows=True, unit="atoms/nm²"),
        "quantification.png",
        "Areal densities (left) and their standard errors (right) from cryospec's model fit: "
        "power-law background and hydrogenic edges convolved with each pixel's low loss, "
        "Poisson maximum likelihood, errors from the Fisher information.",
    )
    o_true = truth.areal_density["O"]
    plateau = o_true > 0.5 * o_true.max()
    ratios = {}
    for element in ("Li", "P", "N"):
        measured = (
            quant.areal_density[element].data[plateau].sum()
            / quant.areal_density["O"].data[plateau].sum()
        )
        true = truth.areal_density[element][plateau].sum() / o_true[plateau].sum()
        ratios[f"{element}/O"] = {"measured": float(measured), "truth": float(true)}
    return quant, {**quant.summary(), "vs_truth": vs_truth, "atomic_ratios_O_plateau": ratios}


def _gradient_section(quant, book: FigureBook):
    """Atomic-fraction profiles across the interphase, erf fits with intervals, and the
    interphase thickness from the Li profile (multilayer, layers chosen by BIC: Li changes at
    both boundaries; the O profile's rise into LiPON is spread by the interphase's P and N
    gradients)."""
    steps = element_profiles(quant, ["P", "N", "O"], quantity="atomic_fraction", n_stripes=1)
    layered = element_profiles(
        quant, ["Li"], quantity="atomic_fraction", model="multilayer", n_layers=None
    )
    book.add(
        plot_profiles(steps, title="atomic-fraction profiles across the interphase (erf fits)"),
        "gradients.png",
        "Atomic-fraction profiles (the map collapsed along the interface found automatically) "
        "with error bars, the fitted error-function steps and their 95 % confidence bands; "
        "dotted: the fitted positions.",
    )
    return dict(steps["elements"].items()), layered["elements"]["Li"]


def _phase_section(core_loss, low_loss, truth, extent, book: FigureBook) -> dict:
    """Phase-fraction maps from the references, KL-NMF of the Li K region, labels."""
    phases = core_loss.phase_maps(truth.phase_references(), low_loss=low_loss)
    correlation, grid = {}, {}
    for i, name in enumerate(phases.names):
        fraction = phases.fraction[name].data
        true = truth.li_environment_fractions[..., i]
        correlation[name] = float(np.corrcoef(fraction.ravel(), true.ravel())[0, 1])
        grid[f"{name} fraction"] = (fraction, phases.fraction_se[name].data)
    book.add(
        value_error_grid(grid, extent, vmin=0),
        "phase_fractions.png",
        "Phase fractions of the Li atoms (top) and their standard errors (bottom): the phases' "
        "Li K reference spectra, convolved with each pixel's low loss, fitted with a power law "
        "to every pixel (Poisson maximum likelihood).",
    )
    nmf = core_loss.deepcopy()
    nmf.decomposition_kl(4, signal_range=NMF_RANGE_EV)
    labels = nmf.label_components(phases)
    factors = nmf.get_decomposition_factors()
    loadings = nmf.get_decomposition_loadings()
    book.add(
        nmf_components(
            factors.axes_manager.signal_axes[0].axis,
            factors.data,
            loadings.data,
            extent,
            NMF_RANGE_EV,
            labels,
        ),
        "nmf.png",
        "KL-NMF (Poisson maximum-likelihood NMF) of the raw Li K region in four components: "
        "factors and loadings, each labelled with the phase whose fitted map its loadings "
        "resemble most (in brackets the correlation, the match score).",
    )
    return {
        "fraction_correlation_with_truth": correlation,
        "fraction_median_standard_error": {
            n: v["fraction_median_standard_error"] for n, v in phases.summary().items()
        },
        "nmf_labels": [{"label": label, "score": score} for label, score in labels],
    }


def _write_inputs(out: Path, core_loss, low_loss, eds, truth) -> dict[str, str]:
    """The built-in datasets as files in ``out/inputs`` (as simulated: before any step of the
    demo touches them) and their phase references in ``out/references``; returns the
    references' paths by phase name."""
    inputs = out / "inputs"
    references = {}
    for name, ref in truth.phase_references().items():
        path = out / "references" / f"{name}.hspy"
        atomic_write(path, lambda p, r=ref: r.save(p, overwrite=True))
        references[name] = str(path)
    for name, signal in (
        ("li_lipon.hspy", core_loss),
        ("li_lipon_low_loss.hspy", low_loss),
        ("li_lipon_edx.hspy", eds),
    ):
        atomic_write(inputs / name, lambda p, s=signal: s.save(p, overwrite=True))
    return references


def _write_report(out: Path, references: dict[str, str], show_progressbar) -> None:
    """``cryospec report`` over the files of :func:`_write_inputs`."""
    from cryospec.app.report import run_report

    run_report(
        [out / "inputs"],
        out,
        show_progressbar=show_progressbar,
        config_overrides={
            # no k-factors: the theoretical ones of the detector the file records (as the
            # generator used)
            "edx": {"lines": ["N_Ka", "O_Ka", "P_Ka"]},
            "nmf": {"n_components": 4, "references": references},
        },
        extra_links=[("truth.html", "The same data against the ground truth of the simulation")],
    )
