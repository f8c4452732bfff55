"""The report's configuration: TOML sections with defaults, validated, written into the report.

Example ``report.toml``::

    [eels]
    edges = ["Li_K", "P_L23", "O_K", "N_K"]
    method = "model"                 # or "integration"
    background_model = "power_law"   # integration: or "exponential", "lcpl"
    cross_section = "hartree-slater" # computed offline, every shell; or "hydrogenic" (K, L2,3)
    fit_ranges = "global"            # model fit: one joint fit; or "local" (each edge apart)
    background_windows = [[40.0, 53.0]]   # default: the edge database's windows
    fit_range = [40.0, 600.0]        # model fit range (default: the whole axis)
    count_target = 4000.0            # integration: dose-aware background (counts to pool)
    negative = "shift"               # negative counts: shifted Poisson; or "clip", "raise"

    [acquisition]                    # used only where a file lacks the value
    beam_current_pA = 40.0
    dwell_time_s = 0.005
    pixel_size_nm = 2.5
    read_noise = 4.0                 # counts per channel (default: from the negative counts)
    beam_energy_keV = 300.0
    convergence_mrad = 10.0
    collection_mrad = 20.0

    [profile]
    mode = "auto"                    # or "line" with line = [x0, y0, x1, y1] and width
    quantity = "atomic_fraction"
    model = "auto"                   # chosen by BIC and goodness of fit; or erf, diffusion,
                                     # exponential, multilayer (layers chosen by BIC)
    stripes = 1
    elements = ["P", "N", "O"]       # default: every quantified element
    thickness_element = "auto"       # multilayer fit giving the interphase thickness: "auto"
                                     # takes Li when quantified, else O ("" : none)

    [nmf]
    n_components = 4                 # 0: no decomposition
    signal_range = [40.0, 90.0]
    # phase reference spectra (files HyperSpy reads, one spectrum each): phase-fraction maps
    # by a per-pixel fit, and the NMF components labelled by them
    references = { Li2O = "refs/li2o.msa", LiPON = "refs/lipon.msa" }

    [edx]
    lines = ["N_Ka", "O_Ka", "P_Ka"]
    k_factors = { N = 2.0, O = 1.5, P = 1.0 }   # default: theoretical, from X-ray physics
    detector = "polymer"             # window preset: "windowless", "polymer" or "Si3N4";
                                     # default: what the file says, else "polymer"

    [pairs]                          # core loss = its low loss, where the names do not say so
    "coreloss_spectrum.msa" = "lowloss_spectrum.msa"

    [files."coreloss_spectrum.msa"]  # [acquisition] values for one file (and its low loss)
    beam_energy_keV = 100.0
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import tomllib

from cryospec.app.report.config_values import check_acquisition, checked_value

__all__ = ["DEFAULTS", "config_hash", "load_config"]

DEFAULTS: dict[str, dict[str, Any]] = {
    "eels": {
        "edges": ["Li_K", "P_L23", "O_K", "N_K"],
        "method": "model",
        "background_model": "power_law",
        "cross_section": "hartree-slater",
        "fit_ranges": "global",
        "background_windows": None,
        "fit_range": None,
        "count_target": None,
        "negative": "shift",
        "damage_species": ["Li metal"],
    },
    "acquisition": {
        "beam_current_pA": None,
        "dwell_time_s": None,
        "pixel_size_nm": None,
        "n_frames": None,
        "detector_gain": None,
        "read_noise": None,
        "beam_energy_keV": None,
        "convergence_mrad": None,
        "collection_mrad": None,
    },
    "profile": {
        "mode": "auto",
        "line": None,
        "width": None,
        "quantity": "atomic_fraction",
        "model": "auto",
        "stripes": 1,
        "elements": None,
        "thickness_element": "auto",
    },
    "nmf": {"n_components": 0, "signal_range": [40.0, 90.0], "references": {}},
    "edx": {"lines": None, "k_factors": None, "detector": None},
    # core-loss file name -> its low-loss file name (without folders; the extension optional),
    # for pairs the NAME / NAME_low_loss rule does not find
    "pairs": {},
    # file name (extension optional) -> [acquisition] values for that file alone
    "files": {},
}
_FREE_SECTIONS = ("pairs", "files")

_CHOICES = {
    ("eels", "method"): ("model", "integration"),
    ("eels", "background_model"): ("power_law", "exponential", "lcpl"),
    ("eels", "cross_section"): ("hydrogenic", "hartree-slater"),
    ("eels", "fit_ranges"): ("global", "local"),
    ("eels", "negative"): ("shift", "clip", "raise"),
    ("profile", "mode"): ("auto", "line"),
    ("profile", "quantity"): ("atomic_fraction", "areal_density"),
    ("profile", "model"): ("auto", "erf", "diffusion", "exponential", "multilayer"),
}


def load_config(
    path: str | Path | None = None, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """The effective configuration: the defaults, updated with a TOML file's values, then with
    ``overrides`` (same layout). Every value is checked for its type and range; an edge list
    may be given as one comma-separated string (``"Li_K, O_K"``), as on the command line.

    Raises
    ------
    ValueError
        An unreadable file, an unknown section or key, a value of the wrong type or outside
        its range or choices; the message names the file, the section and the key.
    """
    config = copy.deepcopy(DEFAULTS)
    layers = []
    if path is not None:
        try:
            with open(path, "rb") as handle:
                layers.append((f"the config {path}", tomllib.load(handle)))
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"cannot read the config {path}: it is not TOML text (not UTF-8: {exc.reason} "
                f"at byte {exc.start})"
            ) from exc
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the config {path}: {exc}") from exc
    if overrides:
        layers.append(("the overrides", overrides))
    for origin, given in layers:
        try:
            _apply_layer(config, given)
        except ValueError as exc:
            raise ValueError(f"{origin}: {exc}") from exc
    profile = config["profile"]
    if profile["mode"] == "line" and (profile["line"] is None or profile["width"] is None):
        raise ValueError("[profile] mode = 'line' needs line = [x0, y0, x1, y1] and width")
    _check_consistency(config, f"the config {path}: " if path is not None else "")
    return config


def _check_consistency(config: dict[str, dict[str, Any]], where: str) -> None:
    """Keys that must agree with each other: windows only with the model fit, profiled
    elements among those quantified."""
    eels = config["eels"]
    if eels["method"] == "integration":
        for key in ("background_windows", "fit_range"):
            if eels[key] is not None:
                raise ValueError(
                    f"{where}[eels] {key} applies to method = 'model'; the integration method "
                    "takes each edge's windows from the edge database"
                )
    quantified = {name.split("_")[0] for name in eels["edges"]}
    quantified |= {line.split("_")[0] for line in config["edx"]["lines"] or []}
    profile = config["profile"]
    unknown = [el for el in profile["elements"] or [] if el not in quantified]
    if unknown:
        raise ValueError(
            f"{where}[profile] elements names {', '.join(unknown)}, not among the quantified "
            f"elements ({', '.join(sorted(quantified))}: [eels] edges and [edx] lines)"
        )
    chosen = profile["thickness_element"]
    if chosen not in ("auto", "") and chosen not in quantified:
        raise ValueError(
            f"{where}[profile] thickness_element = {chosen!r} is not among the quantified "
            f'elements ({", ".join(sorted(quantified))}); "auto" or "" (none)'
        )


def _apply_layer(config: dict[str, dict[str, Any]], given: dict[str, Any]) -> None:
    for section, values in given.items():
        if section not in config:
            raise ValueError(f"unknown config section [{section}]; known: {', '.join(config)}")
        if not isinstance(values, dict):
            raise ValueError(f"[{section}] must be a table")
        if section in _FREE_SECTIONS:
            _check_free_section(section, values)
            config[section].update(copy.deepcopy(values))
            continue
        for key, value in values.items():
            if key not in config[section]:
                raise ValueError(
                    f"unknown key {key!r} in [{section}]; known: {', '.join(config[section])}"
                )
            choices = _CHOICES.get((section, key))
            if choices and value not in choices:
                raise ValueError(f"[{section}] {key} must be one of {choices}, got {value!r}")
            config[section][key] = checked_value(section, key, copy.deepcopy(value))


def _check_free_section(section: str, values: dict[str, Any]) -> None:
    """``[pairs]``: file name -> low-loss file name; ``[files."NAME"]``: acquisition keys."""
    for key, value in values.items():
        if section == "pairs":
            if not isinstance(value, str) or not value:
                raise ValueError(f"[pairs] {key!r} must name a low-loss file, got {value!r}")
            continue
        if not isinstance(value, dict):
            raise ValueError(f'[files."{key}"] must be a table of [acquisition] keys')
        unknown = set(value) - set(DEFAULTS["acquisition"])
        if unknown:
            raise ValueError(
                f'unknown key {sorted(unknown)[0]!r} in [files."{key}"]; known: '
                f"{', '.join(DEFAULTS['acquisition'])}"
            )
        for name, given in value.items():
            check_acquisition(f'[files."{key}"] {name}', name, given)


def config_hash(config: dict[str, Any]) -> str:
    """A short digest of the effective configuration (a dataset is redone when it changes)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
