"""One dataset through the pipeline: the numbers (through the public API) and the figures."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from cryospec.app.figures import (
    FigureBook,
    dose_map,
    element_profiles,
    length_to_nm,
    map_extent,
    nmf_components,
    plot_profiles,
    value_error_grid,
)
from cryospec.app.figures.low_loss import low_loss_maps, low_loss_spectrum
from cryospec.app.html import SPECTRUM_FIGURE
from cryospec.core.dose import MissingMetadataError
from cryospec.core.low_loss import zero_loss_centre
from cryospec.edges import get_edge as _get_edge
from cryospec.signals.metadata import MICROSCOPE_FIELDS

__all__ = ["analyse_edx", "analyse_eels", "analyse_low_loss", "apply_acquisition"]

_MICROSCOPE = {field.key: field.argument for field in MICROSCOPE_FIELDS}
# acquisition settings passed to the methods, not written into the signal's metadata
_NOT_METADATA = ("read_noise",)


def apply_acquisition(signal, acquisition: dict[str, Any]) -> list[str]:
    """Fill dose and microscope fields that the file lacks from the config; names those set."""
    filled = []
    dose_fields = {
        k: v
        for k, v in acquisition.items()
        if k not in _MICROSCOPE and k not in _NOT_METADATA and v is not None
    }
    for name, value in dose_fields.items():
        try:
            signal.get_acquisition_parameter(name)
        except MissingMetadataError:
            signal.set_acquisition_parameters(**{name: value})
            filled.append(name)
    for field in MICROSCOPE_FIELDS:
        value = acquisition.get(field.key)
        recorded = signal.metadata.get_item(field.path, None)
        # DigitalMicrograph writes 0.0 for an angle it was not told: not a recorded value
        present = recorded is not None and np.isfinite(recorded) and recorded > 0
        if value is not None and not present:
            signal.set_microscope_parameters(**{field.argument: value})
            filled.append(field.key)
    return filled


def _extent(signal) -> list[float] | None:
    axes = signal.axes_manager.navigation_axes
    if len(axes) != 2:
        return None
    return map_extent(axes[0].axis, axes[1].axis)


def navigation_in_nm(signal) -> str:
    """Put the navigation axes of ``signal`` (the report's copy of a file) in nm, as every
    position, width and figure of the report is; returns the length unit the axes end in
    (the file's own where it is not a length unit: the page then says so)."""
    unit = "nm"
    for axis in signal.axes_manager.navigation_axes:
        factor = length_to_nm(axis.units)
        if factor is None:
            unit = str(axis.units)
            continue
        if factor != 1.0:
            axis.scale, axis.offset = axis.scale * factor, axis.offset * factor
        axis.units = "nm"
    return unit


def thickness_element(setting: str, elements: list[str]) -> str:
    """The element whose multilayer fit gives the interphase thickness: ``"auto"`` takes Li
    when quantified (its fraction changes at both boundaries, metal | interphase | LiPON),
    else O; any other value is taken as given ("" : none)."""
    if setting != "auto":
        return setting
    return next((el for el in ("Li", "O") if el in elements), "")


def _profiles(result, config: dict[str, Any], elements: list[str]) -> tuple[dict, Any]:
    """Erf (or chosen model) fits per element and the multilayer thickness; numbers + figure."""
    profile = config["profile"]
    line = tuple(profile["line"]) if profile["mode"] == "line" else None
    where = {"quantity": profile["quantity"], "line": line, "width": profile["width"]}
    numbers: dict[str, Any] = {}
    fitted = {"elements": {}, "profiles": {}, "fits": {}}
    health = getattr(result, "fit_health", None) or {}
    if health.get("elements") and not any(r["detected"] for r in health["elements"].values()):
        # a profile of amounts none of which is there would fit noise
        reason = "no quantified element is detected over the map"
        return {
            "elements": {el: {"not_profiled": reason} for el in elements},
            "interphase": None,
        }, None
    for element in profile["elements"] or elements:
        try:
            one = element_profiles(
                result,
                [element],
                n_stripes=int(profile["stripes"]),
                model=profile["model"],
                n_layers=None if profile["model"] == "multilayer" else 1,
                **where,
            )
        except Exception as exc:  # one element's failed fit must not sink the dataset
            numbers[element] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        numbers[element] = one["elements"][element]
        for key in fitted:
            fitted[key][element] = one[key][element]
    thickness = None
    element = thickness_element(profile["thickness_element"], elements)
    if element and (numbers.get(element) or {}).get("model") == "multilayer":
        # the element's own fit chose the multilayer: the lowest BIC among the multilayer
        # fits too (its BIC is below the erf's, the one-step multilayer), so it is the same fit
        thickness = {"element": element, **numbers[element]}
    elif element and element in elements:
        try:
            layered = element_profiles(
                result, [element], model="multilayer", n_layers=None, **where
            )
            thickness = {"element": element, **layered["elements"][element]}
        except Exception as exc:
            thickness = {"element": element, "error": f"{type(exc).__name__}: {exc}"}
    figure = (
        plot_profiles(fitted, title=f"{profile['quantity']} profiles ({profile['model']} fits)")
        if fitted["elements"]
        else None
    )
    return {"elements": numbers, "interphase": thickness}, figure


def _references(paths: dict[str, str]) -> dict[str, Any]:
    """Reference spectra from files, one spectrum each, keyed by phase name."""
    import hyperspy.api as hs

    refs = {}
    for name, path in paths.items():
        try:
            ref = hs.load(path)
        except Exception as exc:
            raise ValueError(f"cannot read the {name} reference {path}: {exc}") from exc
        if isinstance(ref, list) or ref.axes_manager.navigation_dimension != 0:
            raise ValueError(f"the {name} reference {path} must hold one spectrum")
        refs[name] = ref
    return refs


def _edges_on_axis(signal, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """The configured edges whose onset and integration window lie on the energy axis (a batch
    mixes Li K maps and O K maps); the others with the reason."""
    from cryospec.core.quantify import edge_off_axis
    from cryospec.edges import get_edge

    energy = signal.axes_manager.signal_axes[0].axis
    kept, skipped = [], {}
    for name in names:
        entry = get_edge(name)
        reason = edge_off_axis(entry, energy)
        if reason:
            skipped[entry.name] = reason
        else:
            kept.append(entry.name)
    if not kept:
        raise ValueError(
            f"none of the edges {names} lies on the energy axis [{energy[0]:g}, "
            f"{energy[-1]:g}] eV; set [eels] edges in the config"
        )
    return kept, skipped


def analyse_eels(core_loss, low_loss, config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Dose, damage flags, quantification, profiles and (optionally) KL-NMF of one EELS map.

    Returns the dataset's numbers and writes its figures into ``folder``; the figure file names
    are under ``"figures"``.
    """
    book, unit, extent, numbers = _start(core_loss, config, folder, "EELS")
    numbers["dose"] = _dose_numbers(core_loss, config, extent, book, unit)
    alignment = None
    if low_loss is not None:
        apply_acquisition(low_loss, config["acquisition"])
        navigation_in_nm(low_loss)
        core_loss, low_loss, alignment = _aligned_pair(core_loss, low_loss)
    eels = config["eels"]
    windows = eels["background_windows"]
    edges, skipped = _edges_on_axis(core_loss, eels["edges"])
    if skipped:
        numbers["skipped_edges"] = skipped
    result = core_loss.quantify(
        edges,
        low_loss=low_loss,
        method=eels["method"],
        background_model=eels["background_model"],
        cross_section=eels["cross_section"],
        fit_ranges=eels["fit_ranges"],
        count_target=eels["count_target"],
        negative=eels["negative"],
        read_noise=config["acquisition"]["read_noise"],
        background_windows_eV=[tuple(w) for w in windows] if windows else None,
        fit_range_eV=tuple(eels["fit_range"]) if eels["fit_range"] else None,
        show_progressbar=False,
    )
    if alignment:
        result.notes.append(alignment)
    book.add(
        result.spectrum_fit.plot(),
        SPECTRUM_FIGURE,
        "Mean spectrum with what was fitted to it: "
        + (
            "the model of the summed spectrum and its background (the per-pixel fits use the "
            "same model)"
            if result.method == "model"
            else "each edge's background fitted in its windows (integration method)"
        ),
    )
    numbers["quantification"] = result.summary()
    elements = list(result.atomic_fraction)
    if result.t_over_lambda is not None:
        numbers["t_over_lambda_mean"] = float(np.mean(result.t_over_lambda.data))
    if extent is not None:
        density = {
            el: (result.areal_density[el].data, result.areal_density_se[el].data) for el in elements
        }
        fraction = {
            el: (result.atomic_fraction[el].data, result.atomic_fraction_se[el].data)
            for el in elements
        }
        title = f"areal density ({result.units}) and standard error"
        fig = value_error_grid(density, extent, title, unit=result.units, length_unit=unit)
        book.add(fig, "areal_density.png", "Areal densities")
        title = f"atomic fraction among {', '.join(elements)} and standard error"
        fig = value_error_grid(fraction, extent, title, fraction=True, length_unit=unit)
        book.add(fig, "atomic_fraction.png", "Atomic fractions")
        numbers["profiles"], fig = _profiles(result, config, elements)
        if fig is not None:
            book.add(fig, "profiles.png", "Profiles and fits")
    phases = None
    skipped = {}
    li_k = _get_edge("Li_K")
    phase_range = (li_k.background_windows_eV[0][0], li_k.integration_window_eV[1] + 10.0)
    references = config["nmf"]["references"]
    if references and _covers(core_loss, phase_range, "phase maps", skipped):
        phases = core_loss.phase_maps(_references(references), low_loss=low_loss)
        numbers["phases"] = phases.summary()
        if extent is not None:
            fig = value_error_grid(
                {n: (phases.fraction[n].data, phases.fraction_se[n].data) for n in phases.names},
                extent,
                "phase fractions (reference fit) and standard error",
                fraction=True,
                length_unit=unit,
            )
            book.add(fig, "phase_fractions.png", "Phase fractions")
    nmf_range = tuple(config["nmf"]["signal_range"])
    if int(config["nmf"]["n_components"]) > 0 and _covers(core_loss, nmf_range, "NMF", skipped):
        numbers["nmf"] = _nmf_numbers(core_loss, phases, config["nmf"], extent, book)
    if skipped:
        numbers["skipped_steps"] = skipped
    numbers["figures"] = book.figures
    return numbers


def _covers(signal, energy_range, step: str, skipped: dict[str, str]) -> bool:
    """Whether the signal's energy axis holds ``energy_range``; if not, the optional ``step``
    is skipped with its reason in ``skipped`` (the dataset goes on)."""
    axis = signal.axes_manager.signal_axes[0]
    lo, hi = (float(v) for v in energy_range)
    if axis.low_value <= lo < hi <= axis.high_value:
        return True
    skipped[step] = (
        f"its range {lo:g}-{hi:g} eV lies outside this file's energy axis "
        f"({axis.low_value:g}-{axis.high_value:g} eV)"
    )
    return False


def _aligned_pair(core_loss, low_loss):
    """The pair with its zero-loss peak at 0 eV: a report's user cannot call
    ``align_zero_loss``, so a peak more than one channel off is aligned here (pixel by pixel,
    the core loss shifted with it), with a note; a low loss of other pixels is left as it is
    (``quantify`` then says what is wrong)."""
    if low_loss.axes_manager.navigation_shape != core_loss.axes_manager.navigation_shape:
        return core_loss, low_loss, None
    axis = low_loss.axes_manager.signal_axes[0]
    energy = np.asarray(axis.axis, dtype=float)
    data = np.asarray(low_loss.data, dtype=float).reshape(-1, axis.size)
    peak = float(energy[np.argmax(np.median(data, axis=0))])
    # a zero-loss peak to align on: the spectrum's maximum, within 10 eV of 0, on an axis that
    # starts below 0 eV and 2 eV below it (a low loss cut above its zero-loss peak is not
    # aligned on its plasmon, 7.5 eV in Li metal, or on its cut edge)
    if not (abs(peak) <= 10.0 and energy[0] < min(0.0, peak - 2.0)):
        return core_loss, low_loss, None
    centre = float(np.median(zero_loss_centre(data, energy)))
    if not np.isfinite(centre) or abs(centre) <= abs(axis.scale):
        return core_loss, low_loss, None
    core, low, _ = core_loss.align_zero_loss(low_loss)
    note = (
        f"the low loss's zero-loss peak sat at {centre:+.2f} eV: both spectra were shifted "
        "with it, pixel by pixel, to put it at 0 eV (align_zero_loss)"
    )
    return core, low, note


def _blank_note(fractions: dict, lines: list[str]) -> str | None:
    """Why part of an EDX fraction map is blank: no counts in any line there."""
    blank = np.zeros(np.shape(next(iter(fractions.values())).data), dtype=bool)
    for m in fractions.values():
        blank |= ~np.isfinite(np.asarray(m.data, dtype=float))
    if not blank.any():
        return None
    return (
        f"{100 * blank.mean():.0f} % of the pixels are blank in the fraction maps: none of the "
        f"lines {', '.join(lines)} holds counts there, so the fractions are undefined (in Li "
        "metal this is expected: lithium has no usable X-ray line)"
    )


def _start(signal, config: dict[str, Any], folder: Path, kind: str):
    """What every dataset's analysis starts with: its figure book, the config's values where
    the file lacks them, the map in nm, and its numbers (kind, values filled, unit note)."""
    filled = apply_acquisition(signal, config["acquisition"])
    unit = navigation_in_nm(signal)
    numbers: dict[str, Any] = {"kind": kind, "filled_from_config": filled}
    _say_length_unit(numbers, unit)
    return FigureBook(folder), unit, _extent(signal), numbers


def _missing_in_config(exc: MissingMetadataError) -> str:
    """A missing acquisition value, with the config key that gives it (the report's user
    writes a config, not a Python call)."""
    text = str(exc).strip("'\"")
    if getattr(exc, "field", None):
        text += f" (in the report config: [acquisition] {exc.field} = ...)"
    return text


def _say_length_unit(numbers: dict[str, Any], unit: str) -> None:
    """A note on a page whose map is not calibrated in a length unit."""
    if unit != "nm":
        numbers.setdefault("notes", []).append(
            f"the map's axes are in {unit!r}, not a length unit: positions and widths are in "
            "those units, not nm (calibrate the navigation axes to correct it)"
        )


def _dose_numbers(
    signal, config: dict[str, Any], extent, book: FigureBook, unit: str = "nm"
) -> dict[str, Any]:
    """Mean dose and damage flags (with the dose map), or why there is no dose."""
    try:
        dose = signal.dose_per_pixel()
    except MissingMetadataError as exc:
        # Without the dose the maps are relative, and no damage can be flagged: say so.
        return {"missing": _missing_in_config(exc)}
    flags = {}
    for species in config["eels"]["damage_species"]:
        flag = signal.flag_damage(species)
        flags[species] = flag.metadata.CryoSpec.Damage.as_dictionary()
    if extent is not None:
        book.add(dose_map(dose.data, extent, flags, length_unit=unit), "dose.png", "Dose")
    return {
        "e_per_A2_mean": float(np.mean(dose.data)),
        "electrons_per_pixel": float(signal.electrons_per_pixel()),
        "damage": flags,
    }


def _nmf_numbers(core_loss, phases, nmf: dict[str, Any], extent, book: FigureBook) -> dict:
    """KL-NMF of the configured range, its components labelled by the phase maps if any."""
    n_components = int(nmf["n_components"])
    s = core_loss.deepcopy()
    s.decomposition_kl(n_components, signal_range=tuple(nmf["signal_range"]))
    labels = s.label_components(phases) if phases is not None else None
    factors = s.get_decomposition_factors()
    loadings = s.get_decomposition_loadings()
    fig = nmf_components(
        factors.axes_manager.signal_axes[0].axis,
        factors.data,
        loadings.data,
        extent,
        tuple(nmf["signal_range"]),
        labels,
    )
    book.add(fig, "nmf.png", "KL-NMF components")
    return {
        "n_components": n_components,
        "signal_range": list(nmf["signal_range"]),
        "labels": None
        if labels is None
        else [{"label": name, "score": score} for name, score in labels],
    }


def _nan_stat(statistic, values) -> float | None:
    """A NaN-ignoring statistic, None where every value is NaN (no warning)."""
    values = np.asarray(values, dtype=float)
    return float(statistic(values)) if np.isfinite(values).any() else None


def _summed_fractions(eds, lines, k_factors, config, absorption) -> dict[str, dict[str, float]]:
    """Fractions of the spectrum summed over the map (defined even where single pixels hold too
    few counts), with their standard errors; the same absorption as the map's."""
    if eds.axes_manager.navigation_dimension == 0:
        return {}
    summed = eds.sum(tuple(range(eds.axes_manager.navigation_dimension)))
    rho_t = absorption.get("mass_thickness_g_cm2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # said once already, for the map
        quant = summed.quantify_lines(
            summed.line_intensities(lines),
            k_factors,
            detector=config["edx"]["detector"],
            absorption="none" if rho_t is None else "auto",
            mass_thickness=None if rho_t is None else _nan_stat(np.nanmean, rho_t),
        )
    return {
        el: {
            "atomic_fraction_summed_spectrum": _nan_stat(np.nanmean, m.data),
            "atomic_fraction_summed_spectrum_standard_error": _nan_stat(
                np.nanmean, quant["atomic_fraction_se"][el].data
            ),
        }
        for el, m in quant["atomic_fraction"].items()
    }


def analyse_edx(eds, config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Line intensities, Cliff-Lorimer fractions with errors, and profiles of one EDX map."""
    book, unit, extent, numbers = _start(eds, config, folder, "EDX")
    try:
        dose = eds.dose_per_pixel()
        numbers["dose"] = {"e_per_A2_mean": float(np.mean(dose.data))}
        if extent is not None:
            book.add(dose_map(dose.data, extent, length_unit=unit), "dose.png", "Dose")
    except MissingMetadataError as exc:
        numbers["dose"] = {"missing": _missing_in_config(exc)}
    lines = config["edx"]["lines"]
    if not lines and not eds.metadata.get_item("Sample.xray_lines", None):
        if not eds.metadata.get_item("Sample.elements", None):
            peaks = "; ".join(
                f"{energy:g} keV ({', '.join(near) or 'no line within one FWHM'})"
                for energy, near in eds.suggest_lines()
            )
            raise ValueError(
                "no X-ray lines: set [edx] lines = [...] in the config, or the sample's elements "
                "in the file's metadata"
                + (f"; the strongest peaks of the summed spectrum: {peaks}" if peaks else "")
            )
        eds.add_lines()  # exspy: the lines of the elements in the metadata
    intensities = eds.line_intensities(lines)
    numbers["line_intensity_mean"] = {
        line: float(np.mean(m.data)) for line, m in intensities.items()
    }
    line_se = {
        line: np.sqrt(np.asarray(m.metadata.Signal.Noise_properties.variance.data))
        for line, m in intensities.items()
    }
    k_factors = config["edx"]["k_factors"] or "theoretical"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        quant = eds.quantify_lines(intensities, k_factors, detector=config["edx"]["detector"])
    for item in caught:
        if issubclass(item.category, UserWarning):
            numbers.setdefault("notes", []).append(str(item.message))
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    fractions, errors = quant["atomic_fraction"], quant["atomic_fraction_se"]
    quantity = "atomic fraction (Cliff-Lorimer)"
    elements = list(fractions)
    provenance = quant["k_factors"]
    summed = _summed_fractions(eds, lines, k_factors, config, quant["absorption"])
    numbers["quantification"] = {
        "method": "Cliff-Lorimer",
        "k_factors": dict(provenance["values"]),
        "k_factor_source": (
            "config ([edx] k_factors)" if provenance["source"] == "given" else "theoretical"
        ),
        "k_factor_relative_uncertainty": provenance.get("relative_uncertainty"),
        "k_factor_reference_line": provenance.get("reference_line"),
        "k_factor_ingredients": provenance.get("ingredients"),
        "detector": provenance.get("detector"),
        "detector_from": provenance.get("detector_from"),
        "absorption": quant["absorption"]["method"],
        "elements": {
            el: {
                "atomic_fraction_mean": _nan_stat(np.nanmean, fractions[el].data),
                "atomic_fraction_std": _nan_stat(np.nanstd, fractions[el].data),
                "atomic_fraction_median_standard_error": _nan_stat(np.nanmedian, errors[el].data),
                **summed.get(el, {}),
            }
            for el in elements
        },
    }
    if extent is not None:
        line_maps = {line: (m.data, line_se[line]) for line, m in intensities.items()}
        title = "line intensities (background subtracted) and standard error"
        fig = value_error_grid(line_maps, extent, title, unit="counts", length_unit=unit)
        book.add(fig, "line_intensities.png", "Line intensities")
    if extent is not None:
        fig = value_error_grid(
            {el: (fractions[el].data, errors[el].data) for el in elements},
            extent,
            f"{quantity} among {', '.join(elements)} and standard error",
            fraction=True,
            length_unit=unit,
        )
        book.add(fig, "atomic_fraction.png", "Atomic fractions")
        blank = _blank_note(fractions, list(intensities))
        if blank:
            numbers.setdefault("notes", []).append(blank)
    if extent is not None:
        result = SimpleNamespace(atomic_fraction=fractions, atomic_fraction_se=errors)
        # No thickness from EDX: the fractions are undefined in the Li metal (no N, O or P),
        # so the Li | interphase interface is not seen.
        edx_config = {
            **config,
            "profile": {
                **config["profile"],
                "quantity": "atomic_fraction",
                "thickness_element": "",
            },
        }
        numbers["profiles"], fig = _profiles(result, edx_config, elements)
        if fig is not None:
            book.add(fig, "profiles.png", "Profiles and fits")
    numbers["figures"] = book.figures
    return numbers


def analyse_low_loss(signal, config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A low loss without a core loss of its own: its t/lambda, first plasmon and zero-loss
    centre (:meth:`CryoEELSSpectrum.low_loss_properties`), with its spectrum and maps."""
    book, unit, extent, numbers = _start(signal, config, folder, "EELS low loss")
    numbers.setdefault("notes", []).append(
        "no core loss is paired with this low loss: its own numbers only; to quantify a core "
        'loss with it, pair them in the config ([pairs] "CORE" = "LOW_LOSS")'
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        maps = signal.low_loss_properties(show_progressbar=False)
    numbers["notes"] += [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    values = {k: np.asarray(m.data, dtype=float) for k, m in maps.items()}
    numbers["low_loss_properties"] = {
        f"{k}_{stat}": float(f(v)) for k, v in values.items() for stat, f in _STATS.items()
    }
    energy = signal.axes_manager.signal_axes[0].axis
    nav = signal.axes_manager.navigation_axes
    mean = signal.mean(nav) if nav else signal
    fig = low_loss_spectrum(
        energy,
        np.asarray(mean.data, dtype=float),
        float(np.median(values["zero_loss_centre_eV"])),
        float(np.median(values["plasmon_eV"])),
    )
    book.add(fig, SPECTRUM_FIGURE, "Mean low-loss spectrum, zero-loss centre and plasmon")
    if extent is not None:
        shown = {
            "t/λ (log-ratio)": values["t_over_lambda"],
            "plasmon energy (eV)": values["plasmon_eV"],
        }
        book.add(low_loss_maps(shown, extent, unit), "low_loss_maps.png", "t/λ and plasmon maps")
    numbers["figures"] = book.figures
    return numbers


# the map statistics of a low-loss dataset's numbers
_STATS = {"median": np.median, "mean": np.mean, "std": np.std}
