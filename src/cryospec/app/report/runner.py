"""``cryospec report``: many inputs through the pipeline, one page each, an index and a table.

Inputs are classified by what they hold: EDX (signal type EDS or a keV axis), EELS low loss
(an eV axis that starts below 0 eV) or EELS core loss. A low loss is paired with the core loss
whose file name it extends by ``_low_loss``, ``_lowloss``, ``_ll``, ``-low-loss`` or ``-ll``
(``map7.hspy`` and ``map7_low_loss.hspy``). Every output is written atomically; inputs are only
read. A dataset whose ``results.json`` records the same input checksum and configuration is
skipped unless ``force``.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import logging
import platform
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryospec._chunks import run_on_cluster, threads_scheduler
from cryospec.app.atomic import atomic_write, atomic_write_text, strict_json
from cryospec.app.html import dataset_page, index_page
from cryospec.app.report.config import config_hash, load_config
from cryospec.app.report.multi_signal import LOW_LOSS_BELOW_EV, dual_eels, edx_spectrum
from cryospec.core.dose import MissingMetadataError

__all__ = ["discover", "process_dataset", "run_report"]

_logger = logging.getLogger(__name__)

EXTENSIONS = (
    ".hspy",
    ".hdf5",
    ".h5",
    ".zspy",
    ".dm3",
    ".dm4",
    ".emd",
    ".bcf",
    ".msa",
    ".ems",
    ".mas",
)
LOW_LOSS_SUFFIXES = ("_low_loss", "_lowloss", "_ll", "-low-loss", "-ll")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _inputs(paths: Sequence[str | Path]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        if path.is_dir() and path.suffix != ".zspy":
            for child in sorted(path.iterdir()):
                if child.name.startswith("."):
                    continue
                if child.suffix.lower() in EXTENSIONS:
                    found.append(child)
        else:
            found.append(path)
    return found


@contextmanager
def _quiet(name: str):
    """Silence the logger ``name`` (below CRITICAL) for the duration: a first try whose failure
    is handled, so only the fallback's messages are shown."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _classify(path: Path) -> tuple[str, str | None]:
    """("eels" | "low_loss" | "edx" | "unreadable", reason); reads the file lazily."""
    from cryospec.signals import io

    try:
        with _quiet("hyperspy.io"):  # its "report this error" lines when lazy is not supported
            signal = io.load(path, lazy=True)
    except OSError as exc:
        if "Lazy loading is not supported" not in str(exc):
            return "unreadable", f"{type(exc).__name__}: {exc}"
        try:  # formats read whole only (.msa): small files
            signal = io.load(path)
        except Exception as again:
            return "unreadable", f"{type(again).__name__}: {again}"
    except Exception as exc:
        return "unreadable", f"{type(exc).__name__}: {exc}"
    if isinstance(signal, list):
        if dual_eels(signal) is not None:
            return "dual_eels", None
        if edx_spectrum(signal) is not None:
            return "edx", None
        return "unreadable", (
            f"holds {len(signal)} signals: one spectrum image per file, or a Dual EELS pair (a "
            "low loss and a core loss of the same pixels)"
        )
    if signal.axes_manager.signal_dimension != 1:
        return "unreadable", (
            f"not a spectrum image (signal dimension {signal.axes_manager.signal_dimension})"
        )
    signal_type = str(signal.metadata.get_item("Signal.signal_type", ""))
    axis = signal.axes_manager.signal_axes[0]
    units = str(axis.units or "")
    if "EDS" in signal_type or units == "keV":
        return "edx", None
    if float(axis.axis[0]) < LOW_LOSS_BELOW_EV:
        return "low_loss", None
    return "eels", None


def _named(path: Path, name: str) -> bool:
    """Whether ``name`` (a file name, its extension optional) names ``path``."""
    return name in (path.name, path.stem)


def discover(
    paths: Sequence[str | Path],
    pairs: dict[str, str] | None = None,
    low_loss_pattern: str | None = None,
) -> list[dict[str, Any]]:
    """The datasets among ``paths`` (files or folders): one entry per core loss, low loss
    without a core loss, EDX map or unusable file, each with ``name``, ``kind``, ``input``,
    ``low_loss`` and ``reason``.

    A core loss and its low loss are paired by ``pairs`` (core-loss file name -> low-loss file
    name, the config's ``[pairs]``), else by ``low_loss_pattern`` (the low loss's file name
    without extension, ``{core}`` standing for the core loss's), else by the ``NAME`` /
    ``NAME_low_loss`` rule.
    """
    pairs = dict(pairs or {})
    files = _inputs(paths)
    if low_loss_pattern:
        for path in files:
            wanted = low_loss_pattern.format(core=path.stem)
            partner = next((p for p in files if p.stem == wanted and p != path), None)
            if partner is not None and not any(_named(path, k) for k in pairs):
                pairs[path.name] = partner.name
    kinds = {path: _classify(path) for path in files}
    low_losses = {path for path, (kind, _) in kinds.items() if kind == "low_loss"}
    entries, used_names = [], set()
    paired = set()
    for path, (kind, reason) in kinds.items():
        if kind == "low_loss":
            continue
        partner = None
        wanted = next((v for k, v in pairs.items() if _named(path, k)), None)
        if wanted is not None and kind == "eels":
            matches = [p for p in files if _named(p, wanted)]
            if not matches:
                kind, reason = "unreadable", f"[pairs] names {wanted!r}, not among the inputs"
            elif kinds[matches[0]][0] != "low_loss":
                kind, reason = (
                    "unreadable",
                    (
                        f"[pairs] names {wanted!r}, which is not a low loss (no zero-loss peak "
                        "region: its axis starts at or above 20 eV)"
                    ),
                )
            else:
                partner = matches[0]
                paired.add(partner)
        elif kind == "eels":
            for candidate in low_losses:
                stem = candidate.stem
                if candidate.parent == path.parent and any(
                    stem == path.stem + suffix for suffix in LOW_LOSS_SUFFIXES
                ):
                    partner = candidate
            if partner is not None:
                paired.add(partner)
        name = path.stem
        if name in used_names:
            name = f"{path.parent.name}_{path.stem}"
        used_names.add(name)
        entries.append(
            {
                "name": name,
                "kind": kind,
                "input": str(path),
                "low_loss": str(partner) if partner else None,
                "reason": reason,
            }
        )
    for path in sorted(low_losses - paired):
        entries.append(
            {
                "name": path.stem,
                "kind": "low_loss",
                "input": str(path),
                "low_loss": None,
                "reason": None,
            }
        )
    return entries


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _dataset_config(config: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """The configuration of one dataset: ``[acquisition]`` updated with its ``[files]`` entry
    (the core loss's file name, its extension optional), which applies to its low loss too."""
    path = Path(entry["input"])
    own = next((v for k, v in config["files"].items() if _named(path, k)), None)
    if not own:
        return config
    merged = {**config["acquisition"], **{k: v for k, v in own.items() if v is not None}}
    return {**config, "acquisition": merged}


def process_dataset(
    entry: dict[str, Any], config: dict[str, Any], out_dir: str, force: bool = False
) -> dict[str, Any]:
    """Run one dataset (in this process or on a Dask worker); returns its summary record.

    Never raises for a bad dataset: the record's ``status`` is ``"failed"`` with the reason.
    """
    from cryospec.app.report.analysis import analyse_edx, analyse_eels, analyse_low_loss
    from cryospec.signals import io

    folder = Path(out_dir) / "datasets" / entry["name"]
    record = {
        "name": entry["name"],
        "kind": entry["kind"],
        "input": entry["input"],
        "low_loss": entry["low_loss"],
        "page": f"datasets/{entry['name']}/index.html",
    }
    if entry["kind"] == "unreadable":
        return {**record, "status": "failed", "reason": entry["reason"], "page": None}
    config = _dataset_config(config, entry)
    try:
        checksums = {entry["input"]: _sha256(Path(entry["input"]))}
        if entry["low_loss"]:
            checksums[entry["low_loss"]] = _sha256(Path(entry["low_loss"]))
    except OSError as exc:
        return {**record, "status": "failed", "reason": f"cannot read: {exc}", "page": None}
    digest = config_hash(config)
    results_file = folder / "results.json"
    if results_file.exists() and not force:
        try:
            previous = json.loads(results_file.read_text(encoding="utf-8"))
            if previous.get("checksums") == checksums and previous.get("config_hash") == digest:
                return {**record, "status": "done", "cached": True, "results": previous}
        except (OSError, ValueError):
            pass
    started = time.perf_counter()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with threads_scheduler():
            if entry["kind"] == "edx":
                signal = io.load(entry["input"])
                note = None
                if isinstance(signal, list):
                    signal, note = edx_spectrum(signal)
                signal.set_signal_type("CryoEDS_TEM")
                numbers = analyse_edx(signal, config, folder)
                if note:
                    numbers.setdefault("notes", []).append(f"Read {note}")
            elif entry["kind"] == "low_loss":
                signal = io.load(entry["input"], signal_type="CryoEELS")
                numbers = analyse_low_loss(signal, config, folder)
            elif entry["kind"] == "dual_eels":
                core_loss, low_loss = dual_eels(io.load(entry["input"], signal_type="CryoEELS"))
                numbers = analyse_eels(core_loss, low_loss, config, folder)
                numbers.setdefault("notes", []).append(
                    "Dual EELS: the file's low loss and core loss, of the same pixels, paired"
                )
            else:
                core_loss = io.load(entry["input"], signal_type="CryoEELS")
                low_loss = (
                    io.load(entry["low_loss"], signal_type="CryoEELS")
                    if entry["low_loss"]
                    else None
                )
                numbers = analyse_eels(core_loss, low_loss, config, folder)
    except Exception as exc:
        _logger.warning("dataset %s failed: %s", entry["name"], exc)
        reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, MissingMetadataError) and exc.field:
            # the report's user sets it in the configuration, not by a Python call
            reason += (
                f" (in the report config: [acquisition] {exc.field} = ..., or "
                f'[files."{Path(entry["input"]).name}"] {exc.field} = ... for this file)'
            )
        return {
            **record,
            "status": "failed",
            "reason": reason,
            "page": None,
        }
    results = {
        "dataset": entry["name"],
        "kind": numbers["kind"],
        "input": entry["input"],
        "low_loss": entry["low_loss"],
        "checksums": checksums,
        "config_hash": digest,
        "runtime_s": round(time.perf_counter() - started, 2),
        **{k: v for k, v in numbers.items() if k != "kind"},
    }
    text = strict_json(results, default=_json_default)
    atomic_write_text(results_file, text)
    atomic_write_text(folder / "index.html", dataset_page(json.loads(text)))
    return {**record, "status": "done", "cached": False, "results": json.loads(text)}


def _flatten(prefix: str, value: Any, row: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}_{key}" if prefix else key, item, row)
    elif (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) or v is None for v in value)
    ):
        row[f"{prefix}_low"], row[f"{prefix}_high"] = value
    elif isinstance(value, (int, float, str)) or value is None:
        row[prefix] = value


def summary_row(record: dict[str, Any]) -> dict[str, Any]:
    """One line of ``summary.csv``: status, dose, per element the fitted profile quantities
    with their 95 % intervals and the mean atomic fraction, and the interphase thickness."""
    row: dict[str, Any] = {
        "dataset": record["name"],
        "kind": record["kind"],
        "status": record["status"],
        "reason": record.get("reason", ""),
    }
    results = record.get("results")
    if not results:
        return row
    row["dose_e_per_A2_mean"] = results.get("dose", {}).get("e_per_A2_mean")
    for element, values in results.get("quantification", {}).get("elements", {}).items():
        row[f"{element}_atomic_fraction_mean"] = values.get("atomic_fraction_mean")
        row[f"{element}_atomic_fraction_std"] = values.get("atomic_fraction_std")
    profiles = results.get("profiles", {})
    for element, values in profiles.get("elements", {}).items():
        for key, value in values.items():
            if key in ("model", "converged", "stripes", "selection", "steps"):
                continue
            if key == "notes":
                row[f"{element}_notes"] = "; ".join(value)
                continue
            _flatten(f"{element}_{key}", value, row)
    interphase = profiles.get("interphase") or {}
    if interphase.get("thickness_nm") is not None:
        row["interphase_thickness_nm"] = interphase["thickness_nm"]
        ci = interphase.get("thickness_ci_nm") or [None, None]
        row["interphase_thickness_nm_low"], row["interphase_thickness_nm_high"] = ci
    return row


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    buffer = _io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})
    atomic_write_text(path, buffer.getvalue())


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in (
        "cryospec",
        "hyperspy",
        "exspy",
        "rosettasciio",
        "numpy",
        "scipy",
        "scikit-learn",
        "dask",
        "distributed",
        "matplotlib",
    ):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def _comparison_figure(rows: list[dict[str, Any]], out: Path) -> str | None:
    """Interface positions with their 95 % intervals, one marker per dataset and element (fits
    that fail their goodness-of-fit tests and unresolved steps are left out)."""
    import matplotlib.pyplot as plt  # figures are saved and closed: any backend serves

    points = []
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key.endswith("_position_nm") and isinstance(value, (int, float)):
                element = key[: -len("_position_nm")]
                if row.get(f"{element}_status", "ok") != "ok":
                    continue  # a failed fit must not set the axes
                lo = row.get(f"{key[:-3]}_ci_nm_low")
                hi = row.get(f"{key[:-3]}_ci_nm_high")
                points.append((i, element, value, lo, hi))
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 2))
    elements = sorted({p[1] for p in points})
    for j, element in enumerate(elements):
        sel = [p for p in points if p[1] == element]
        y = [p[0] + 0.12 * (j - len(elements) / 2) for p in sel]
        x = [p[2] for p in sel]
        err = [
            [p[2] - p[3] if p[3] is not None else 0 for p in sel],
            [p[4] - p[2] if p[4] is not None else 0 for p in sel],
        ]
        ax.errorbar(x, y, xerr=err, fmt="o", ms=4, capsize=3, label=element)
    # EELS and EDX positions are different measurements: each row says which it is
    ax.set_yticks(
        range(len(rows)), [f"{row['dataset']} ({str(row.get('kind', '')).upper()})" for row in rows]
    )
    ax.set_xlabel("interface position (nm), 95 % interval")
    ax.legend(fontsize=8)
    fig.tight_layout()
    name = "summary_positions.png"
    atomic_write(out / name, lambda p: fig.savefig(p, format="png", dpi=90))
    plt.close(fig)
    return name


def run_report(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    config_file: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    show_progressbar: bool = True,
    config_overrides: dict[str, dict[str, Any]] | None = None,
    extra_links: list[tuple[str, str]] | None = None,
    low_loss_pattern: str | None = None,
) -> list[dict[str, Any]]:
    """Run every dataset among ``inputs`` and write the report into ``out_dir``.

    Parameters
    ----------
    inputs : sequence of path
        Files or folders (folders: every readable file directly inside).
    out_dir : path
        Report folder: ``index.html``, ``summary.csv``, ``run_log.json``, ``config.json`` and
        ``datasets/NAME/{index.html, results.json, *.png}``.
    config_file : path, optional
        TOML configuration (:mod:`cryospec.report.config`).
    workers : int, optional
        Run the datasets on a local Dask cluster of this many worker processes.
    scheduler : str, optional
        Address of an existing Dask scheduler (its workers must see the same file system).
    force : bool
        Redo datasets already done with the same inputs and configuration.
    show_progressbar : bool
        A progress bar over the datasets.
    config_overrides : dict, optional
        Settings applied over the file's (same sections and keys).
    extra_links : list of (href, text), optional
        Links shown at the top of the index (the demo links its ground-truth page).
    low_loss_pattern : str, optional
        Pairs each core loss with the low loss named by this pattern (:func:`discover`).

    Returns
    -------
    list of dict
        One record per dataset (``status`` ``"done"`` or ``"failed"`` with ``reason``).
    """
    from tqdm.auto import tqdm

    config = load_config(config_file, config_overrides)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    entries = discover(inputs, pairs=config["pairs"], low_loss_pattern=low_loss_pattern)
    if not entries:
        raise ValueError(f"no readable inputs among {[str(p) for p in inputs]}")
    started = time.time()
    records: list[dict[str, Any]] = []
    bar = tqdm(total=len(entries), desc="datasets", disable=not show_progressbar)
    if workers or scheduler:
        jobs = [(e, config, str(out), force) for e in entries]
        for record in run_on_cluster(process_dataset, jobs, workers, scheduler):
            records.append(record)
            bar.update()
    else:
        for entry in entries:
            records.append(process_dataset(entry, config, str(out), force))
            bar.update()
    bar.close()
    order = {e["name"]: i for i, e in enumerate(entries)}
    records.sort(key=lambda r: order[r["name"]])
    rows = [summary_row(r) for r in records]
    _write_csv(out / "summary.csv", rows)
    figure = _comparison_figure(rows, out)
    checksums = {}
    for record in records:
        checksums.update((record.get("results") or {}).get("checksums", {}))
    log = {
        "command": "cryospec report",
        "inputs": [str(p) for p in inputs],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "scheduler": scheduler or (f"LocalCluster({workers} workers)" if workers else "serial"),
        "versions": _versions(),
        "config": config,
        "config_hash": config_hash(config),
        "input_checksums_sha256": checksums,
        "datasets": [
            {
                **{k: r.get(k) for k in ("name", "kind", "status", "reason", "cached")},
                # where the acquisition values came from: the file, but these from the config
                "filled_from_config": (r.get("results") or {}).get("filled_from_config"),
            }
            for r in records
        ],
    }
    atomic_write_text(out / "run_log.json", strict_json(log, default=_json_default))
    atomic_write_text(out / "config.json", strict_json(config))
    atomic_write_text(out / "index.html", index_page(records, log, figure, extra_links))
    return records
