"""The demo: the built-in Li | interphase | LiPON dataset through the pipeline available so far.

It generates the synthetic EELS (core loss and low loss) and EDX spectrum images, computes the
dose map from the metadata, the relative thickness from the low loss (exspy), background-
subtracted edge-signal maps (exspy's power-law background in the edge database's windows),
their depth profiles against the true interface positions, and EDX line maps; then writes
``truth.html`` with the figures and ``summary.json`` with the numbers, each next to its truth.
Finally it saves the datasets as files and runs ``cryospec report`` over them: ``index.html``.
"""

from __future__ import annotations

import html
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_write, atomic_write_text
from .datasets import EELS_EDGES, li_lipon, li_lipon_eds
from .edges import get_edge

__all__ = ["run_demo"]

_logger = logging.getLogger(__name__)


def _figure_writer(fig):
    def write(path: Path) -> None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        path.write_bytes(buffer.getvalue())

    return write


def _save(fig, out: Path, name: str, figures: list[tuple[str, str]], caption: str) -> None:
    import matplotlib.pyplot as plt

    atomic_write(out / "figures" / name, _figure_writer(fig))
    plt.close(fig)
    figures.append((f"figures/{name}", caption))


COUNT_TARGET = 4000.0  # counts the background windows of a pooled neighbourhood must hold


def _edge_signals(core_loss, low_loss) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per edge: the dose-aware Poisson-ML background subtraction and its integrated signal.

    P L2,3 sits on the Li K tail: its background includes that tail (with plural scattering).
    """
    results, maps = {}, {}
    for edge_name in EELS_EDGES.values():
        extra = {"preceding_edges": "Li_K", "low_loss": low_loss} if edge_name == "P_L23" else {}
        subtracted, fit = core_loss.subtract_background(
            edge_name, count_target=COUNT_TARGET, return_fit=True, **extra
        )
        window = _integration_mask(subtracted.axes_manager.signal_axes[0].axis, edge_name)
        results[edge_name] = (subtracted, fit)
        maps[edge_name] = subtracted._get_navigation_signal(
            data=subtracted.data[..., window].sum(-1)
        )
    return results, maps


def _integration_mask(energy, edge_name: str):
    lo, hi = get_edge(edge_name).integration_window_eV
    return (energy >= lo) & (energy <= hi)


def _li_k_fit_figure(core_loss, truth, fit_result, subtracted):
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


def _phase_section(core_loss, low_loss, truth, extent, out: Path, figures: list) -> dict:
    """Phase-fraction maps from the references, KL-NMF of the Li K region, labels; figures."""
    import matplotlib.pyplot as plt

    phases = core_loss.phase_maps(truth.phase_references(), low_loss=low_loss)
    names = phases.names
    fig, axes = plt.subplots(2, len(names), figsize=(13, 4.2), sharex=True, sharey=True)
    correlation = {}
    for i, name in enumerate(names):
        fraction = phases.fraction[name].data
        true = truth.li_environment_fractions[..., i]
        correlation[name] = float(np.corrcoef(fraction.ravel(), true.ravel())[0, 1])
        for ax, data, label, cmap in (
            (axes[0, i], fraction, f"{name} fraction", "viridis"),
            (axes[1, i], phases.fraction_se[name].data, "standard error", "magma"),
        ):
            im = ax.imshow(data, extent=extent, aspect="auto", cmap=cmap, vmin=0)
            fig.colorbar(im, ax=ax)
            ax.set_title(label, fontsize=9)
        axes[1, i].set_xlabel("depth x (nm)")
    _save(
        fig,
        out,
        "phase_fractions.png",
        figures,
        "Phase fractions of the Li atoms (top) and their standard errors (bottom): the phases' "
        "Li K reference spectra, convolved with each pixel's low loss, fitted with a power law "
        "to every pixel (Poisson maximum likelihood).",
    )

    nmf = core_loss.deepcopy()
    nmf.decomposition_kl(4, signal_range=(40.0, 90.0))
    labels = nmf.label_components(phases)
    factors = nmf.get_decomposition_factors()
    loadings = nmf.get_decomposition_loadings()
    energy = factors.axes_manager.signal_axes[0].axis
    fig = plt.figure(figsize=(13, 5.2))
    grid = fig.add_gridspec(2, 4)
    ax = fig.add_subplot(grid[0, :])
    keep = (energy >= 40.0) & (energy <= 90.0)
    for k, (label, score) in enumerate(labels):
        ax.plot(energy[keep], factors.data[k][keep], label=f"{k}: {label} ({score:.2f})")
    ax.set(xlabel="energy loss (eV)", ylabel="factor", title="KL-NMF factors, Li K region")
    ax.legend(fontsize=8)
    for k, (label, score) in enumerate(labels):
        axl = fig.add_subplot(grid[1, k])
        axl.imshow(loadings.data[k], extent=extent, aspect="auto", cmap="viridis")
        axl.set_title(f"loading {k}: {label} (r = {score:.2f})", fontsize=9)
        axl.set_xlabel("depth x (nm)")
    fig.tight_layout()
    _save(
        fig,
        out,
        "nmf.png",
        figures,
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


def run_demo(
    out_dir: str | Path,
    shape: tuple[int, int] = (24, 64),
    seed: int = 0,
    show_progressbar: bool = False,
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

    Returns
    -------
    dict
        The content of ``summary.json``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    figures: list[tuple[str, str]] = []

    core_loss, low_loss, truth = li_lipon(shape=shape, seed=seed)
    eds, eds_truth = li_lipon_eds(shape=shape, seed=seed)
    x = truth.x_nm
    g = truth.geometry
    extent = [x[0], x[-1], truth.y_nm[-1], truth.y_nm[0]]

    # Dose from the metadata.
    dose = core_loss.dose_per_pixel()
    fig, ax = plt.subplots(figsize=(7, 3))
    im = ax.imshow(dose.data, extent=extent, aspect="auto", cmap="magma")
    fig.colorbar(im, ax=ax, label="dose (e/Å²)")
    ax.set(xlabel="depth x (nm)", ylabel="y (nm)", title="Dose per pixel (from metadata.CryoSpec)")
    _save(
        fig,
        out,
        "dose.png",
        figures,
        "Electron dose per pixel, computed from beam current, "
        "dwell time and pixel size stored in metadata.CryoSpec.Acquisition.",
    )

    # Relative thickness from the low loss, with exspy.
    t_over_lambda = low_loss.estimate_thickness(threshold=3.0).data
    tau_error = float(np.median(np.abs(t_over_lambda - truth.t_over_lambda)))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3), sharey=True)
    vmin, vmax = truth.t_over_lambda.min(), truth.t_over_lambda.max()
    for ax, data, title in zip(
        axes, (t_over_lambda, truth.t_over_lambda), ("exspy log-ratio", "truth"), strict=True
    ):
        im = ax.imshow(data, extent=extent, aspect="auto", vmin=vmin, vmax=vmax, cmap="viridis")
        ax.set(xlabel="depth x (nm)", title=f"t/λ, {title}")
    axes[0].set_ylabel("y (nm)")
    fig.colorbar(im, ax=axes, label="t/λ")
    _save(
        fig,
        out,
        "thickness.png",
        figures,
        "Relative thickness t/λ from the low loss (exspy estimate_thickness) next to the truth.",
    )

    # Mean spectra of the three regions, with the edge database's onsets.
    regions = {
        "Li metal": x < g.li_interface_nm - 3 * g.li_width_nm,
        "interphase": (x > g.li_interface_nm + 3 * g.li_width_nm)
        & (x < g.lipon_interface_nm - 3 * g.lipon_width_nm),
        "LiPON": x > g.lipon_interface_nm + 3 * g.lipon_width_nm,
    }
    energy = truth.energy_eV
    fig, ax = plt.subplots(figsize=(9, 4))
    for name, columns in regions.items():
        ax.plot(energy, core_loss.data[:, columns].mean(axis=(0, 1)), label=name, lw=1)
    for edge_name in EELS_EDGES.values():
        onset = get_edge(edge_name).onset_eV
        ax.axvline(onset, color="0.6", ls=":", lw=1)
        ax.text(
            onset,
            0.9,
            edge_name,
            rotation=90,
            transform=ax.get_xaxis_transform(),
            fontsize=8,
            va="top",
        )
    ax.set(
        yscale="log",
        xlabel="energy loss (eV)",
        ylabel="counts / channel",
        title="Mean core-loss spectra of the three regions",
    )
    ax.legend()
    _save(
        fig,
        out,
        "spectra.png",
        figures,
        "Region-averaged core-loss spectra; dotted lines: onsets from the cryospec edge database.",
    )

    # Spikes, then the dose-aware Poisson-ML background of every edge.
    core_loss, replaced = core_loss.remove_spikes()
    flagged = {
        species: core_loss.flag_damage(species).metadata.CryoSpec.Damage.as_dictionary()
        for species in ("Li metal", "Li2CO3", "Li2CO3 (room temperature)")
    }
    results, maps = _edge_signals(core_loss, low_loss)
    li_sub, li_fit = results["Li_K"]
    _save(
        fig=_li_k_fit_figure(core_loss, truth, li_fit, li_sub),
        out=out,
        name="li_k_background.png",
        figures=figures,
        caption="Left: Li K in the LiPON region, with the dose-aware Poisson maximum-likelihood "
        "power-law background (window shaded), the true background, the subtracted signal and "
        "the true Li K. Right: the fitted exponent against the truth, and the neighbourhood "
        f"grown to hold {COUNT_TARGET:.0f} counts in the window.",
    )
    accuracy = {}
    for edge_name in results:
        w = _integration_mask(energy, edge_name)
        true = truth.edges[edge_name][..., w].sum(-1)
        element = edge_name.split("_")[0]
        present = truth.areal_density[element] > 0.2 * truth.areal_density[element].max()
        error = (maps[edge_name].data - true)[present] / true[present].mean()
        accuracy[edge_name] = {
            "bias_percent": float(100 * error.mean()),
            "spread_percent": float(100 * error.std()),
        }
    fig, axes = plt.subplots(2, 2, figsize=(11, 5), sharex=True, sharey=True)
    for ax, (edge_name, m) in zip(axes.flat, maps.items(), strict=True):
        im = ax.imshow(m.data, extent=extent, aspect="auto", cmap="inferno")
        fig.colorbar(im, ax=ax, label="counts")
        ax.set_title(f"{edge_name} signal (Poisson-ML background)")
    for ax in axes[-1]:
        ax.set_xlabel("depth x (nm)")
    _save(
        fig,
        out,
        "edge_maps.png",
        figures,
        "Integrated edge signals in the edge database's default windows after cryospec's "
        "dose-aware Poisson maximum-likelihood power-law background subtraction.",
    )

    fig, ax = plt.subplots(figsize=(9, 4))
    profiles = {}
    for edge_name, m in maps.items():
        element = edge_name.split("_")[0]
        measured = m.data.mean(axis=0) / truth.thickness_nm.mean(axis=0)
        expected = truth.number_density[element].mean(axis=0)
        scale = float(np.sum(measured * expected) / np.sum(expected**2))
        profiles[edge_name] = {
            "x_nm": x.tolist(),
            "signal_per_nm": measured.tolist(),
            "fitted_scale_to_truth": scale,
        }
        line = ax.plot(x, measured / scale, lw=1.5, label=f"{edge_name} (scaled to truth)")[0]
        ax.plot(x, expected, color=line.get_color(), ls="--", lw=1)
    for position in (g.li_interface_nm, g.lipon_interface_nm):
        ax.axvline(position, color="k", lw=0.8)
    ax.set(
        xlabel="depth x (nm)",
        ylabel="atoms / nm³",
        title="Depth profiles (row means / thickness); dashed: truth",
    )
    ax.legend(fontsize=8)
    _save(
        fig,
        out,
        "profiles.png",
        figures,
        "Row-averaged edge signals divided by the thickness "
        "and scaled by one factor each, against the true number densities (dashed); vertical "
        "lines: the true interfaces.",
    )

    # Quantification: model fit with the low loss (plural scattering in the model).
    quant = core_loss.quantify(list(EELS_EDGES.values()), low_loss=low_loss)
    elements = list(EELS_EDGES)
    fig, axes = plt.subplots(len(elements), 2, figsize=(11, 2.2 * len(elements)), sharex=True)
    quant_truth = {}
    for row, element in zip(axes, elements, strict=True):
        density = quant.areal_density[element].data
        error = quant.areal_density_std[element].data
        im = row[0].imshow(density, extent=extent, aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=row[0], label="atoms/nm²")
        row[0].set_title(f"{element} areal density")
        im = row[1].imshow(error, extent=extent, aspect="auto", cmap="magma")
        fig.colorbar(im, ax=row[1], label="atoms/nm²")
        row[1].set_title(f"{element} standard error")
        n = truth.areal_density[element]
        present = n > 0.2 * n.max()
        z = (density - n)[present] / error[present]
        quant_truth[element] = {
            "measured_over_true": float(density[present].sum() / n[present].sum()),
            "error_over_standard_error_std": float(z.std()),
        }
    for ax in axes[-1]:
        ax.set_xlabel("depth x (nm)")
    _save(
        fig,
        out,
        "quantification.png",
        figures,
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

    # Gradients: atomic-fraction profiles across the interphase, erf fits with intervals,
    # and the interphase thickness from the O profile (multilayer, layers chosen by BIC).
    from .gradient_report import element_profiles, plot_profiles

    steps = element_profiles(quant, ["P", "N", "O"], quantity="atomic_fraction", n_stripes=1)
    layered = element_profiles(
        quant, ["O"], quantity="atomic_fraction", model="multilayer", n_layers=None
    )
    _save(
        plot_profiles(steps, title="atomic-fraction profiles across the interphase (erf fits)"),
        out,
        "gradients.png",
        figures,
        "Atomic-fraction profiles (the map collapsed along the interface found automatically) "
        "with error bars, the fitted error-function steps and their 95 % confidence bands; "
        "dotted: the fitted positions.",
    )
    gradients = {el: s for el, s in steps["elements"].items()}
    thickness = layered["elements"]["O"]

    # Phases: reference fit per pixel, KL-NMF components named by the phase maps.
    phase_summary = _phase_section(core_loss, low_loss, truth, extent, out, figures)

    # EDX: line maps with exspy.
    line_maps = eds.get_lines_intensity(plot_result=False)
    fig, axes = plt.subplots(1, len(line_maps), figsize=(12, 2.8), sharey=True)
    for ax, m in zip(np.atleast_1d(axes), line_maps, strict=True):
        im = ax.imshow(m.data, extent=extent, aspect="auto", cmap="cividis")
        fig.colorbar(im, ax=ax)
        ax.set(title=f"{m.metadata.Sample.xray_lines[0]} window counts", xlabel="depth x (nm)")
    _save(
        fig,
        out,
        "edx_lines.png",
        figures,
        "EDX line-window counts (exspy get_lines_intensity, no background subtraction yet: "
        "the N Ka window also holds bremsstrahlung and the tail of O Ka) of the matching "
        "synthetic EDX dataset. There is no Li line in EDX.",
    )

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
            "t_over_lambda_median_abs_error": tau_error,
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
        "gradients": {"erf_steps": gradients, "O_multilayer": thickness},
        "quantification": {
            **quant.summary(),
            "vs_truth": quant_truth,
            "atomic_ratios_O_plateau": ratios,
        },
        "edx_line_window_counts_mean": {
            m.metadata.Sample.xray_lines[0]: float(m.data.mean()) for m in line_maps
        },
        "edx_truth_k_factors": eds_truth.k_factors,
        "phases": phase_summary,
        "runtime_s": round(time.perf_counter() - started, 2),
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float))
    atomic_write_text(out / "truth.html", _html(summary, figures))
    _write_report(out, shape, seed, eds_truth.k_factors, show_progressbar)
    return summary


def _write_report(out: Path, shape, seed: int, k_factors: dict, show_progressbar: bool) -> None:
    """The built-in datasets as files in ``out/inputs``, then ``cryospec report`` over them."""
    from ._atomic import atomic_write
    from .report import run_report

    inputs = out / "inputs"
    core_loss, low_loss, truth = li_lipon(shape=shape, seed=seed)
    eds, _ = li_lipon_eds(shape=shape, seed=seed)
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
    run_report(
        [inputs],
        out,
        show_progressbar=show_progressbar,
        config_overrides={
            "edx": {"lines": ["N_Ka", "O_Ka", "P_Ka"], "k_factors": dict(k_factors)},
            "nmf": {"n_components": 4, "references": references},
        },
        extra_links=[("truth.html", "The same data against the ground truth of the simulation")],
    )


def _html(summary: dict[str, Any], figures: list[tuple[str, str]]) -> str:
    truth = summary["truth"]
    rows = [
        (
            "dose per pixel (e/Å²)",
            f"{summary['dose']['e_per_A2_per_pixel']:.1f}",
            f"{summary['dose']['truth_e_per_A2']:.1f}",
        ),
        (
            "mean t/λ (exspy log-ratio)",
            f"{summary['thickness']['t_over_lambda_mean']:.3f}",
            f"{summary['thickness']['truth_t_over_lambda_mean']:.3f}",
        ),
        ("Li | interphase interface (nm)", "—", f"{truth['li_interface_nm']:.1f}"),
        ("interphase | LiPON interface (nm)", "—", f"{truth['lipon_interface_nm']:.1f}"),
        ("interphase thickness (nm)", "—", f"{truth['interphase_thickness_nm']:.1f}"),
    ]
    for edge, acc in summary["background"]["edge_signal_vs_truth"].items():
        rows.append(
            (
                f"{edge} integrated signal: bias / spread vs truth (%)",
                f"{acc['bias_percent']:+.1f} / {acc['spread_percent']:.1f}",
                "0",
            )
        )
    for pair, value in summary["quantification"]["atomic_ratios_O_plateau"].items():
        rows.append(
            (
                f"{pair} atomic ratio (model fit, O-rich region)",
                f"{value['measured']:.3f}",
                f"{value['truth']:.3f}",
            )
        )
    for element, fit in summary["gradients"]["erf_steps"].items():
        ci = fit.get("position_ci_nm") or [float("nan")] * 2
        rows.append(
            (
                f"{element} step position [95 % interval], sigma (nm)",
                f"{fit['position_nm']:.1f} [{ci[0]:.1f}, {ci[1]:.1f}], {fit['sigma_nm']:.1f}",
                "{:.1f}, {:.1f}".format(
                    truth["gradients"][element]["erf_position_nm"],
                    truth["gradients"][element]["erf_sigma_nm"],
                ),
            )
        )
    layered = summary["gradients"]["O_multilayer"]
    if layered.get("thickness_nm") is not None:
        ci = layered["thickness_ci_nm"]
        rows.append(
            (
                "interphase thickness from the O profile (nm), 95 % interval",
                f"{layered['thickness_nm']:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]",
                f"{truth['interphase_thickness_nm']:.1f}",
            )
        )
    for name, r in summary["phases"]["fraction_correlation_with_truth"].items():
        rows.append((f"{name} phase-fraction map: correlation with truth", f"{r:.3f}", "1"))
    labels = ", ".join(f"{e['label']} ({e['score']:.2f})" for e in summary["phases"]["nmf_labels"])
    rows.append(("KL-NMF component labels (match score)", labels, "-"))
    rows.append(("spike channels replaced", str(summary["spikes_replaced"]), "0"))
    for species, flag in summary["damage_flags"].items():
        rows.append(
            (
                f"pixels above the {species} critical dose "
                f"({flag['critical_dose_e_per_A2']:g} e/Å², {flag['source'][:40]}...)",
                f"{100 * flag['flagged_fraction']:.0f} %",
                "—",
            )
        )
    for element, grad in truth["gradients"].items():
        rows.append(
            (
                f"{element} gradient 50 % position / 10-90 % width (nm)",
                "—",
                f"{grad['position_nm']:.1f} / {grad['width_10_90_nm']:.1f}",
            )
        )
    table = "\n".join(
        f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
        for a, b, c in rows
    )
    figs = "\n".join(
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}">'
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for src, cap in figures
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cryospec demo</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;}}
img{{max-width:100%;}} table{{border-collapse:collapse;}}
td,th{{border:1px solid #ccc;padding:4px 8px;}} figcaption{{color:#444;font-size:90%;}}</style>
</head><body>
<h1>cryospec demo: Li | interphase | LiPON (synthetic)</h1>
<p><a href="index.html">The report of these datasets</a>
(as <code>cryospec report</code> writes it)</p>
<p>The built-in synthetic cryo-STEM-EELS and EDX spectrum images (seed {summary["dataset"]["seed"]},
shape {summary["dataset"]["shape"]}) through the pipeline available so far. Run time
{summary["runtime_s"]} s. All numbers are in <a href="summary.json">summary.json</a>.</p>
<table><tr><th>quantity</th><th>measured</th><th>truth</th></tr>
{table}
</table>
{figs}
</body></html>
"""
