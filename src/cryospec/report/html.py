"""HTML of the report: a page per dataset and the index. Static files, no external resources.

Every page carries a small script that, once loaded, records in ``<body>`` the images that did
not load (``data-missing-images``) and any script error (``data-script-errors``); the browser
test reads them back.
"""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["dataset_page", "index_page"]

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


def dataset_page(results: dict[str, Any]) -> str:
    """The page of one dataset: derived quantities with intervals, then the figures."""
    name = results["dataset"]
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
    note = (results.get("quantification") or {}).get("note")
    if note:
        parts.append(f"<p>{html.escape(note)}</p>")
    dose = results.get("dose", {})
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
    quant = results.get("quantification", {})
    if quant.get("elements"):
        with_density = results["kind"] == "EELS"
        header = ["element"]
        if with_density:
            header += [
                f"areal density mean ({quant.get('units', '')})",
                "areal density std over map",
            ]
        header += ["atomic fraction mean", "atomic fraction std over map"]
        rows = []
        for el, v in quant["elements"].items():
            row = [el]
            if with_density:
                row += [v.get("areal_density_mean"), v.get("areal_density_std")]
            row += [v.get("atomic_fraction_mean"), v.get("atomic_fraction_std")]
            rows.append(row)
        title = "Quantification" if with_density else "Quantification (Cliff-Lorimer)"
        parts.append(f"<h2>{title}</h2>")
        parts.append(_table(header, rows))
    profiles = results.get("profiles", {})
    if profiles.get("elements"):
        rows = []
        for el, v in profiles["elements"].items():
            if "error" in v:
                rows.append([el, "fit failed: " + v["error"], "–", "–", "–"])
                continue
            length_key = next((k for k in v if k.endswith("length_nm")), None)
            rows.append(
                [
                    el,
                    _with_interval(v, "position_nm"),
                    _with_interval(v, "sigma_nm"),
                    _with_interval(v, "width_10_90_nm"),
                    _with_interval(v, length_key) if length_key else "–",
                ]
            )
        parts.append("<h2>Gradients (95 % intervals)</h2>")
        parts.append(
            _table(
                [
                    "element",
                    "position (nm)",
                    "sigma (nm)",
                    "10-90 % width (nm)",
                    "diffusion/decay length (nm)",
                ],
                rows,
            )
        )
        layer = profiles.get("interphase") or {}
        if layer.get("thickness_nm") is not None:
            parts.append(
                f"<p>Interphase thickness from the {html.escape(layer['element'])} profile "
                f"(multilayer fit): {_with_interval(layer, 'thickness_nm')} nm.</p>"
            )
    phases = results.get("phases")
    if phases:
        parts.append("<h2>Phases (reference fit)</h2>")
        parts.append(
            _table(
                ["phase", "mean fraction", "std over map", "median standard error"],
                [
                    [
                        name,
                        v["fraction_mean"],
                        v["fraction_std"],
                        v["fraction_median_standard_error"],
                    ]
                    for name, v in phases.items()
                ],
            )
        )
    labels = (results.get("nmf") or {}).get("labels")
    if labels:
        parts.append("<h2>KL-NMF components</h2>")
        parts.append(
            _table(
                ["component", "label", "match score (correlation)"],
                [[k, e["label"], e["score"]] for k, e in enumerate(labels)],
            )
        )
    for src, caption in results.get("figures", []):
        parts.append(
            f'<figure><img src="{html.escape(src)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return _page(f"cryospec report: {name}", "\n".join(parts))


def index_page(
    records: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    log: dict[str, Any],
    figure: str | None,
    extra_links: list[tuple[str, str]] | None = None,
) -> str:
    """The summary page: every dataset with its status, the table across datasets, the plot."""
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
    columns = [
        c
        for c in dict.fromkeys(k for row in rows for k in row)
        if c not in ("kind", "status", "reason")
    ]
    parts.append("<h2>Across datasets</h2>")
    parts.append(
        '<div style="overflow-x: auto">'
        + _table(columns, [[row.get(c) for c in columns] for row in rows])
        + "</div>"
    )
    if figure:
        parts.append(
            f'<figure><img src="{html.escape(figure)}" alt="interface positions">'
            "<figcaption>Interface positions with 95 % intervals per dataset and element"
            "</figcaption></figure>"
        )
    parts.append(
        "<h2>Configuration</h2><pre>" + html.escape(json.dumps(log["config"], indent=2)) + "</pre>"
    )
    return _page("cryospec report", "\n".join(parts))
