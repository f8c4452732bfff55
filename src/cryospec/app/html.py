"""The one HTML writer: the report's page per dataset and its index, and the demo's truth page.
Static files, no external resources.

Every page carries a small script that, once loaded, records in ``<body>`` the images that did
not load (``data-missing-images``) and any script error (``data-script-errors``); the browser
test reads them back.
"""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["SPECTRUM_FIGURE", "dataset_page", "index_page", "truth_page"]

SPECTRUM_FIGURE = "spectrum.png"

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; max-width: 1300px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: left; }
th { background: #eee; }
.failed { color: #a00; }
figure { margin: 1em 0; }
img { max-width: 100%; }
"""

_CHECK = """
<script>
window.cryospecErrors = [];
window.addEventListener("error", function (e) {
  if (e.message) { window.cryospecErrors.push(String(e.message)); }
});
window.addEventListener("load", function () {
  var missing = [];
  for (var i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    if (!(img.complete && img.naturalWidth > 0)) { missing.push(img.getAttribute("src")); }
  }
  document.body.setAttribute("data-missing-images", missing.join(" "));
  document.body.setAttribute("data-script-errors", window.cryospecErrors.join(" | "));
  document.body.setAttribute("data-checked", "yes");
});
</script>
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>{_CHECK}</head>\n"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _with_interval(values: dict[str, Any], key: str) -> str:
    value = values.get(key)
    if value is None:
        return "–"
    ci = values.get(key.replace("_nm", "_ci_nm"))
    if ci and None not in ci:
        return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"
    return f"{value:.2f}"


def _figure(src: str, caption: str) -> str:
    return (
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def dataset_page(results: dict[str, Any]) -> str:
    """The page of one dataset: derived quantities with intervals, then the figures."""
    parts = [
        '<p><a href="../../index.html">back to the summary</a> · '
        '<a href="results.json">results.json</a> (every number)</p>',
        f"<p>{html.escape(results['kind'])} · input <code>{html.escape(results['input'])}</code>"
        + (
            f" · low loss <code>{html.escape(results['low_loss'])}</code>"
            if results.get("low_loss")
            else ""
        )
        + f" · {results['runtime_s']} s</p>",
    ]
    for edge, reason in (results.get("skipped_edges") or {}).items():
        parts.append(f"<p>{html.escape(edge)} not quantified: {html.escape(reason)}</p>")
    for step, reason in (results.get("skipped_steps") or {}).items():
        parts.append(f"<p>{html.escape(step)} skipped: {html.escape(reason)}</p>")
    note = (results.get("quantification") or {}).get("note")
    if note:
        parts.append(f"<p>{html.escape(note)}</p>")
    for note in results.get("notes") or []:
        parts.append(f"<p>Note: {html.escape(note)}</p>")
    filled = results.get("filled_from_config")
    if filled is not None:
        source = (
            f"from the configuration, where the file lacks them: {', '.join(filled)}; every "
            "other acquisition value from the file"
            if filled
            else "all from the file"
        )
        parts.append(f"<p>Acquisition values {html.escape(source)}.</p>")
    figures = results.get("figures", [])
    # the spectrum and its fit come first: the numbers below are read off it
    first = [(src, caption) for src, caption in figures if src.endswith(SPECTRUM_FIGURE)]
    parts += [_figure(src, caption) for src, caption in first]
    parts += _low_loss_section(results.get("low_loss_properties"))
    parts += _dose_section(results.get("dose", {}))
    parts += _quantification_section(results.get("quantification", {}), results["kind"])
    parts += _gradient_section(results.get("profiles", {}))
    parts += _phase_section(results.get("phases"), (results.get("nmf") or {}).get("labels"))
    parts += [_figure(s, c) for s, c in figures if not s.endswith(SPECTRUM_FIGURE)]
    return _page(f"cryospec report: {results['dataset']}", "\n".join(parts))


_LOW_LOSS_QUANTITIES = {
    "t_over_lambda": "t/λ (log-ratio)",
    "plasmon_eV": "first plasmon above the zero-loss peak (eV)",
    "zero_loss_centre_eV": "zero-loss centre (eV)",
}


def _low_loss_section(values: dict[str, Any] | None) -> list[str]:
    if not values:
        return []
    rows = [
        [label, values.get(f"{key}_median"), values.get(f"{key}_mean"), values.get(f"{key}_std")]
        for key, label in _LOW_LOSS_QUANTITIES.items()
    ]
    header = ["quantity", "median over map", "mean", "std over map"]
    return ["<h2>Low loss</h2>", _table(header, rows)]


def _dose_section(dose: dict[str, Any]) -> list[str]:
    parts = []
    if "missing" in dose:
        parts.append(
            f"<p>No dose (maps are relative, no damage flags): {html.escape(dose['missing'])}</p>"
        )
    if "e_per_A2_mean" in dose:
        rows = [["mean dose per pixel (e/Å²)", dose["e_per_A2_mean"]]]
        for species, info in dose.get("damage", {}).items():
            rows.append(
                [
                    f"pixels above the {species} critical dose "
                    f"({info['critical_dose_e_per_A2']:g} e/Å²)",
                    f"{100 * info['flagged_fraction']:.0f} %",
                ]
            )
        parts.append(_table(["dose", "value"], rows))
    return parts


def _quantification_section(quant: dict[str, Any], kind: str) -> list[str]:
    if not quant.get("elements"):
        return []
    with_density = kind == "EELS"
    header = ["element"]
    if with_density:
        units = quant.get("units", "")
        header += [
            f"areal density mean ({units})",
            "median standard error",
            "std over map",
        ]
    header += ["atomic fraction mean", "median standard error", "std over map"]
    summed = any("atomic_fraction_summed_spectrum" in v for v in quant["elements"].values())
    if summed:
        header += ["summed spectrum", "its standard error"]
    detection = (quant.get("fit_health") or {}).get("elements", {})
    rows = []
    for el, v in quant["elements"].items():
        row = [el]
        if with_density:
            row += [
                v.get("areal_density_mean"),
                v.get("areal_density_median_standard_error"),
                v.get("areal_density_std"),
            ]
        row += [
            v.get("atomic_fraction_mean"),
            v.get("atomic_fraction_median_standard_error"),
            v.get("atomic_fraction_std"),
        ]
        if summed:
            row += [
                v.get("atomic_fraction_summed_spectrum"),
                v.get("atomic_fraction_summed_spectrum_standard_error"),
            ]
        info = detection.get(el) or {}
        if info.get("detected") is False and info.get("upper_limit") is not None:
            row[0] = f"{el} (not detected: below {info['upper_limit']:.3g}, 95 %)"
        rows.append(row)
    title = "Quantification" if with_density else "Quantification (Cliff-Lorimer)"
    parts = [f"<h2>{title}</h2>", _table(header, rows)]
    how = [f"method: {quant.get('method', '')}"]
    cross = quant.get("cross_section") or {}
    if cross.get("method"):
        how.append(f"cross-sections: {cross['method']}")
        windows = [
            f"{name} {info['partial_cross_section_barn']:.4g} barn over "
            f"{info['window_eV'][0]:g}-{info['window_eV'][1]:g} eV"
            for name, info in (cross.get("edges") or {}).items()
        ]
        if windows:
            how.append("partial cross-sections: " + "; ".join(windows))
    if quant.get("fit_ranges"):
        how.append(f"fit ranges: {quant['fit_ranges']}")
    if quant.get("k_factor_source"):
        how.append(_k_factor_text(quant))
    parts.append("<p>" + html.escape(" · ".join(how)) + "</p>")
    problems = [*(quant.get("fit_health") or {}).get("warnings", []), *quant.get("notes", [])]
    if problems:
        items = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems)
        parts.append(f"<p>What to know about these numbers:</p><ul>{items}</ul>")
    return parts


def _k_factor_text(quant: dict[str, Any]) -> str:
    """The k-factors, where they come from, the detector and the absorption correction."""
    spread = quant.get("k_factor_relative_uncertainty") or {}
    values = ", ".join(
        f"{el} {k:.3g}" + (f" (±{100 * spread[el]:.0f} %)" if spread.get(el) else "")
        for el, k in quant["k_factors"].items()
    )
    text = f"k-factors ({quant['k_factor_source']}): {values}"
    if quant.get("k_factor_reference_line"):
        text += f" relative to {quant['k_factor_reference_line']}"
    if quant.get("k_factor_ingredients"):
        text += f"; {quant['k_factor_ingredients']}"
    if quant.get("detector"):
        text += f"; detector {quant['detector']} ({quant.get('detector_from', '')})"
    return text + f"; absorption correction: {quant.get('absorption', 'none')}"


def _interfaces(v: dict[str, Any]) -> str:
    positions = v.get("interfaces_nm")
    if not positions:
        return "–"
    cis = v.get("interfaces_ci_nm") or [None] * len(positions)
    steps = v.get("steps") or [{}] * len(positions)
    out = []
    for value, ci, step in zip(positions, cis, steps, strict=False):
        text = f"{value:.1f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci and None not in ci else "")
        if step.get("status", "resolved") != "resolved":
            text += f" ({step['status']})"
        out.append(text)
    return "; ".join(out)


def _goodness(v: dict[str, Any]) -> str:
    g = v.get("goodness")
    if not g:
        return "–"
    verdict = "passed" if g["passed"] else "FAILED"
    return (
        f"χ²/dof {g['reduced_chi2']:.2f} (p {g['chi2_p_value']:.2g}), "
        f"runs p {g['runs_p_value']:.2g}: {verdict}"
    )


def _width(v: dict[str, Any]) -> str:
    """The 10-90 % width(s) of a fit: each interface's for a multilayer."""
    if v.get("model") == "multilayer":
        widths = v.get("widths_10_90_nm") or []
        cis = v.get("widths_10_90_ci_nm") or [None] * len(widths)
        steps = v.get("steps") or [{}] * len(widths)
        parts = [_step_width(w, c, s) for w, c, s in zip(widths, cis, steps, strict=False)]
        return "; ".join(parts) or "–"
    if v.get("width_10_90_upper_limit_nm") is not None:
        return f"< {v['width_10_90_upper_limit_nm']:.2f} (not resolved)"
    if v.get("width_status"):
        return f"not resolved ({v['width_status']})"
    return _with_interval(v, "width_10_90_nm")


def _gradient_section(profiles: dict[str, Any]) -> list[str]:
    if not profiles.get("elements"):
        return []
    rows, notes = [], []
    for el, v in profiles["elements"].items():
        if "error" in v:
            rows.append([el, "fit failed: " + v["error"], *["–"] * 6])
            continue
        if "not_profiled" in v:
            rows.append([el, "not profiled: " + v["not_profiled"], *["–"] * 6])
            continue
        length_key = next((k for k in v if k.endswith("length_nm")), None)
        position = v.get("position_status") or _with_interval(v, "position_nm")
        model = (v.get("selection") or {}).get("chosen", v.get("model", ""))
        rows.append(
            [
                el,
                model,
                position if v.get("model") != "multilayer" else _interfaces(v),
                _width(v),
                _with_interval(v, length_key) if length_key else "–",
                _with_interval(v, "thickness_nm") if v.get("model") == "multilayer" else "–",
                _goodness(v),
            ]
        )
        notes += [f"{el}: {n}" for n in v.get("notes", [])]
        if v.get("selection"):
            notes.append(f"{el}: {model} chosen, {v['selection']['reason']}")
    header = [
        "element",
        "model",
        "position / interfaces (nm)",
        "10-90 % width (nm)",
        "diffusion/decay length (nm)",
        "span of the interfaces (nm)",
        "goodness of fit",
    ]
    parts = ["<h2>Gradients (95 % intervals)</h2>", _table(header, rows)]
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        parts.append(f"<p>What to know about these fits:</p><ul>{items}</ul>")
    layer = profiles.get("interphase") or {}
    if layer.get("thickness_nm") is not None:
        flag = "" if layer.get("status", "ok") == "ok" else " (poor fit: see its notes)"
        parts.append(
            f"<p>Interphase thickness from the {html.escape(layer['element'])} profile "
            f"(multilayer fit, {layer.get('n_layers')} interfaces): "
            f"{_with_interval(layer, 'thickness_nm')} nm{flag}.</p>"
        )
    return parts


def _phase_section(phases: dict[str, Any] | None, labels: list | None) -> list[str]:
    parts = []
    if phases:
        rows = [
            [name, v["fraction_mean"], v["fraction_std"], v["fraction_median_standard_error"]]
            for name, v in phases.items()
        ]
        header = ["phase", "mean fraction", "std over map", "median standard error"]
        parts += ["<h2>Phases (reference fit)</h2>", _table(header, rows)]
    if labels:
        rows = [[k, e["label"], e["score"]] for k, e in enumerate(labels)]
        parts += [
            "<h2>KL-NMF components</h2>",
            _table(["component", "label", "match score (correlation)"], rows),
        ]
    return parts


def _index_tables(records: list[dict[str, Any]]) -> list[str]:
    """Per kind (EELS, EDX: their fractions and positions are different measurements), one
    row per dataset, element and quantity, the value with its 95 % interval or its verdict;
    the wide machine table is ``summary.csv``."""
    parts = ["<h2>Across datasets</h2>"]
    header = ["dataset", "element", "quantity", "value [95 % interval]", "fit"]
    for kind in ("EELS", "EDX", "EELS low loss"):
        rows = []
        for record in records:
            results = record.get("results") or {}
            if record["status"] != "done" or results.get("kind") != kind:
                continue
            for key, label in _LOW_LOSS_QUANTITIES.items():
                values = results.get("low_loss_properties") or {}
                if f"{key}_median" in values:
                    value = (
                        f"{values[f'{key}_median']:.3g} (SD over map {values[f'{key}_std']:.2g})"
                    )
                    rows.append([record["name"], "–", label, value, "–"])
            profiles = results.get("profiles") or {}
            for element, v in (profiles.get("elements") or {}).items():
                rows += [[record["name"], element, *row] for row in _element_rows(v)]
            layer = profiles.get("interphase") or {}
            if layer.get("thickness_nm") is not None:
                fit = "ok" if layer.get("status", "ok") == "ok" else "poor fit"
                value = _with_interval(layer, "thickness_nm")
                rows.append(
                    [record["name"], layer["element"], "interphase thickness (nm)", value, fit]
                )
        if rows:
            parts += [f"<h3>{kind}</h3>", _table(header, rows)]
    parts.append(
        '<p>Every number of every dataset, one column each: <a href="summary.csv">summary.csv'
        "</a>.</p>"
    )
    return parts


def _element_rows(v: dict[str, Any]) -> list[list[str]]:
    """The compact index's rows of one element's profile fit: (quantity, value, fit)."""
    if "error" in v:
        return [["profile", "fit failed: " + v["error"], "failed"]]
    if "not_profiled" in v:
        return [["profile", "not profiled: " + v["not_profiled"], "–"]]
    fit = "ok" if v.get("status", "ok") == "ok" else "poor fit"
    model = (v.get("selection") or {}).get("chosen", v.get("model", ""))
    if v.get("model") == "multilayer":
        position = _interfaces(v)
    else:
        position = v.get("position_status") or _with_interval(v, "position_nm")
    return [
        [f"interface position (nm), {model}", position, fit],
        ["10-90 % width (nm)", _width(v), fit],
    ]


def _step_width(value: float, ci, step: dict[str, Any]) -> str:
    """One interface's 10-90 % width: the value [interval], or the upper limit of a width
    the data do not resolve."""
    status = step.get("width_status", "resolved")
    if status == "upper limit" and ci and ci[1] is not None:
        return f"< {ci[1]:.1f} (not resolved)"
    if status != "resolved":
        return f"not resolved ({status})"
    return f"{value:.1f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci and None not in ci else "")


def index_page(
    records: list[dict[str, Any]],
    log: dict[str, Any],
    figure: str | None,
    extra_links: list[tuple[str, str]] | None = None,
) -> str:
    """The summary page: every dataset with its status, the compact table across datasets (per
    kind), the plot of the interface positions."""
    listing = []
    for record in records:
        page = record.get("page")
        name = html.escape(record["name"])
        link = f'<a href="{html.escape(page)}">{name}</a>' if page else name
        status = html.escape(record["status"])
        reason = html.escape(record.get("reason") or "")
        css = ' class="failed"' if record["status"] == "failed" else ""
        listing.append(
            f"<tr{css}><td>{link}</td><td>{html.escape(record['kind'])}</td>"
            f"<td>{status}</td><td>{reason}</td></tr>"
        )
    parts = [
        f"<p>{len(records)} datasets, "
        f"{sum(r['status'] == 'done' for r in records)} done. "
        '<a href="summary.csv">summary.csv</a> · <a href="run_log.json">run_log.json</a> '
        '(versions, configuration, input checksums) · <a href="config.json">config.json</a></p>',
    ]
    for href, text in extra_links or []:
        parts.append(f'<p><a href="{html.escape(href)}">{html.escape(text)}</a></p>')
    parts.append(
        "<table><tr><th>dataset</th><th>kind</th><th>status</th><th>reason</th></tr>"
        + "".join(listing)
        + "</table>"
    )
    parts += _index_tables(records)
    if figure:
        parts.append(
            _figure(figure, "Interface positions with 95 % intervals per dataset and element")
        )
    parts.append(
        "<h2>Configuration</h2><pre>" + html.escape(json.dumps(log["config"], indent=2)) + "</pre>"
    )
    return _page("cryospec report", "\n".join(parts))


def _layer_value(fit: dict[str, Any], index: int) -> str:
    """A multilayer fit's interface ``index`` with its 95 % interval, or "—" when the fit
    did not give it."""
    values, cis = fit.get("interfaces_nm") or [], fit.get("interfaces_ci_nm") or []
    if not values:
        return "—"
    value, ci = values[index], (cis[index] if cis else None)
    text = f"{value:.1f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci and None not in ci else "")
    return text if fit.get("status", "ok") == "ok" else f"{text} (poor fit)"


def truth_page(summary: dict[str, Any], figures: list[tuple[str, str]]) -> str:
    """The demo's page of every number next to its ground truth, then the figures."""
    truth = summary["truth"]
    layers = (summary.get("gradients") or {}).get("Li_multilayer") or {}
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
        (
            "Li | interphase interface (nm), first interface of the Li fraction",
            _layer_value(layers, 0),
            f"{truth['li_interface_nm']:.1f}",
        ),
        (
            "interphase | LiPON interface (nm), last interface of the Li fraction",
            _layer_value(layers, -1),
            f"{truth['lipon_interface_nm']:.1f}",
        ),
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
        position = (
            fit.get("position_status", "not resolved")
            if fit.get("position_nm") is None
            else f"{fit['position_nm']:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]"
        )
        sigma = fit.get("sigma_nm")
        sigma = fit.get("width_status", "not resolved") if sigma is None else f"{sigma:.1f}"
        flag = "" if fit.get("status", "ok") == "ok" else f" ({fit['status']})"
        rows.append(
            (
                f"{element} step position [95 % interval], sigma (nm): erf fit{flag}; "
                "truth: the erf fitted to the true profile",
                f"{position}, {sigma}",
                "{:.1f}, {:.1f}".format(
                    truth["gradients"][element]["erf_position_nm"],
                    truth["gradients"][element]["erf_sigma_nm"],
                ),
            )
        )
    layered = summary["gradients"]["Li_multilayer"]
    if layered.get("thickness_nm") is not None:
        ci = layered["thickness_ci_nm"]
        rows.append(
            (
                "interphase thickness from the Li profile (nm), 95 % interval",
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
        fit = summary["gradients"]["erf_steps"].get(element) or {}
        measured = "—"
        if fit.get("position_nm") is not None and fit.get("width_10_90_nm") is not None:
            measured = f"{fit['position_nm']:.1f} / {fit['width_10_90_nm']:.1f}"
        rows.append(
            (
                f"{element} 50 % position / 10-90 % width (nm): measured, the erf fit's; "
                "truth, the true profile's (which no erf need match)",
                measured,
                f"{grad['position_nm']:.1f} / {grad['width_10_90_nm']:.1f}",
            )
        )
    figures_html = "\n".join(_figure(src, caption) for src, caption in figures)
    dataset = summary["dataset"]
    body = (
        '<p><a href="index.html">The report of these datasets</a> '
        "(as <code>cryospec report</code> writes it)</p>\n"
        f"<p>The built-in synthetic cryo-STEM-EELS and EDX spectrum images (seed "
        f"{dataset['seed']}, shape {dataset['shape']}) through the pipeline. Run time "
        f'{summary["runtime_s"]} s. All numbers are in <a href="summary.json">summary.json</a>.'
        "</p>\n" + _table(["quantity", "measured", "truth"], [list(r) for r in rows]) + "\n"
        + figures_html
    )  # fmt: skip
    return _page("cryospec demo: Li | interphase | LiPON (synthetic)", body)
