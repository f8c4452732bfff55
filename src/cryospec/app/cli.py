"""The ``cryospec`` command line."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cryospec import __version__
from cryospec.app.atomic import (
    atomic_write,
    atomic_write_text,
    refuse_overwriting_inputs,
    strict_json,
)
from cryospec.app.console import each_message_once, progress_lines

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from cryospec.app.demo import run_demo

    started = time.perf_counter()
    summary = run_demo(
        args.out,
        shape=tuple(args.shape),
        seed=args.seed,
        show_progressbar=args.progress,
        progress=_to_stderr,
    )
    print(
        f"wrote {args.out}/index.html (report), {args.out}/truth.html and "
        f"{args.out}/summary.json "
        f"in {time.perf_counter() - started:.1f} s"
    )
    print(
        f"dose per pixel: {summary['dose']['e_per_A2_per_pixel']:.0f} e/Å²; "
        f"interphase thickness (truth): {summary['truth']['interphase_thickness_nm']:.0f} nm"
    )
    return 0


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _steps(total: int):
    """Numbered progress lines on stderr (:func:`cryospec.app.console.progress_lines`)."""
    return progress_lines(total, _to_stderr)


def _cmd_quantify(args: argparse.Namespace) -> int:
    from cryospec.signals.io import read_errors_named

    outputs = [args.out / "quantification.hspy", args.out / "quantification.json"]
    refuse_overwriting_inputs(outputs, [args.input, args.low_loss])
    step = _steps(3)
    step(f"reading {args.input}")
    core_loss, low_loss, edges = _load_inputs(args)
    step(f"quantifying {', '.join(edges)} on every pixel")
    microscope = {
        "beam_energy": args.beam_energy,
        "convergence_angle": args.convergence_angle,
        "collection_angle": args.collection_angle,
    }
    given = {k: v for k, v in microscope.items() if v is not None}
    if given:
        core_loss.set_microscope_parameters(**given)
    with read_errors_named({args.input: core_loss, args.low_loss: low_loss}):
        result = core_loss.quantify(
            edges,
            low_loss=low_loss,
            method=args.method,
            detector_gain=args.detector_gain,
            count_target=args.count_target,
            cross_section=args.cross_section,
            fit_ranges=args.fit_ranges,
            negative=args.negative,
            read_noise=args.read_noise,
        )
    out = args.out
    step("writing the maps and the numbers")
    maps = result.stack()
    atomic_write(out / "quantification.hspy", lambda p: maps.save(p, overwrite=True))
    summary = {
        "input": str(args.input),
        "low_loss": str(args.low_loss) if args.low_loss else None,
        "edges": edges,
        "near_edge_eV": result.near_edge_eV,
        **result.summary(),
    }
    atomic_write_text(out / "quantification.json", strict_json(summary))
    print(f"wrote {out / 'quantification.hspy'} and {out / 'quantification.json'}")
    health = summary.get("fit_health", {}).get("elements", {})
    among = ", ".join(summary["atomic_fraction_among"])
    for element, values in summary["elements"].items():
        state = health.get(element, {})
        if state.get("detected") is False:
            print(
                f"{element:3} not detected: mean areal density below {state['upper_limit']:.3g} "
                f"({result.units}, 95 % upper limit)"
            )
            continue
        print(
            f"{element:3} areal density {values['areal_density_mean']:10.1f} ({result.units}), "
            f"median standard error {values['areal_density_median_standard_error']:.3g}, "
            f"spread over the map {values['areal_density_std']:.3g}; atomic fraction "
            f"{values['atomic_fraction_mean']:.3f} (among {among})"
        )
    for message in summary.get("fit_health", {}).get("warnings", []):
        if "not detected" not in message:
            print(f"warning: {message}")
    for note in summary.get("notes", []):
        print(f"note: {note}")
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from cryospec.app.figures import element_profiles, plot_profiles
    from cryospec.signals.io import read_errors_named

    line = args.line
    if line is None and not args.auto:
        raise ValueError("give --line X0,Y0,X1,Y1 with --width, or --auto")
    if line is not None and args.width is None:
        raise ValueError("--line needs --width (the line's width, calibrated units)")
    refuse_overwriting_inputs(
        [args.out / "profile.json", args.out / "profile.png"], [args.input, args.low_loss]
    )
    step = _steps(3)
    step(f"reading {args.input}")
    core_loss, low_loss, edges = _load_inputs(args)
    step(f"quantifying {', '.join(edges)} on every pixel")
    with read_errors_named({args.input: core_loss, args.low_loss: low_loss}):
        result = core_loss.quantify(edges, low_loss=low_loss, detector_gain=args.detector_gain)
    layers = None if args.layers == 0 else args.layers
    step(f"profiles and their fits ({args.model})")
    profiles = element_profiles(
        result,
        quantity=args.quantity,
        line=line,
        width=args.width,
        n_stripes=args.stripes,
        model=args.model,
        n_layers=layers,
    )
    out = args.out
    document = {
        "input": str(args.input),
        "edges": edges,
        "quantity": args.quantity,
        "mode": "line" if line else "auto",
        "line": list(line) if line else None,
        "width": args.width,
        "model": args.model,
        "step_convention": "c(x) = c0 + (c1 - c0) * (1 + erf((x - x0) / (sqrt(2) * sigma))) / 2",
        "intervals": "95 %: profile likelihood for parameters, delta method for derived values",
        **profiles["elements"],
    }
    atomic_write_text(out / "profile.json", strict_json(document))
    fig = plot_profiles(profiles, title=f"{args.quantity} profiles ({args.model})")

    def save(path):
        fig.savefig(path, format="png", dpi=110)

    atomic_write(out / "profile.png", save)
    print(f"wrote {out / 'profile.json'} and {out / 'profile.png'}")
    for element, summary in profiles["elements"].items():
        position, ci = summary.get("position_nm"), summary.get("position_ci_nm")
        model = (summary.get("selection") or {}).get("chosen", summary.get("model"))
        g = summary.get("goodness") or {}
        fit_text = (
            f"{model}, chi2/dof {g['reduced_chi2']:.2f} (p {g['chi2_p_value']:.2g}), "
            f"runs p {g['runs_p_value']:.2g}: {summary.get('status')}"
            if g
            else str(model)
        )
        if summary.get("position_status"):
            print(f"{element:3} {summary['position_status']}  [{fit_text}]")
        elif position is not None and ci:
            print(
                f"{element:3} position {position:8.2f} nm  (95 %: {ci[0]:.2f} - {ci[1]:.2f})"
                f"  [{fit_text}]"
            )
        for note in summary.get("notes", []):
            print(f"    {note}")
    return 0


@contextlib.contextmanager
def _scheduler(args: argparse.Namespace):
    """A Dask client for the command when ``--scheduler ADDRESS`` is given (its workers must
    see the same files); Dask's threads otherwise."""
    if not getattr(args, "scheduler", None):
        yield None
        return
    for path in (args.input, args.low_loss):
        if path is not None and Path(path).suffix != ".zspy":
            raise ValueError(
                f"{path}: on a Dask cluster the workers read the data themselves, which needs "
                "Zarr (.zspy); HDF5 and the other formats cannot be shared. Convert once: "
                "hs.load(path, lazy=True).save('map.zspy')"
            )
    from cryospec._chunks import connect

    with connect(args.scheduler) as client:
        yield client


def _load_inputs(args: argparse.Namespace):
    """Core loss, optional low loss and the edge list of the quantify and profile commands."""
    from cryospec.signals import io

    lazy = bool(args.lazy or args.scheduler)
    budget = None if args.memory_budget is None else int(args.memory_budget * 2**20)
    core_loss = _load_eels(io, args.input, lazy, budget)
    low_loss = _load_eels(io, args.low_loss, lazy, budget) if args.low_loss else None
    edges = [e.strip() for e in args.edges.split(",") if e.strip()]
    return core_loss, low_loss, edges


def _load_eels(io, path, lazy=False, memory_budget=None):
    from cryospec.signals.metadata import set_cryo_signal_type

    signal = io.load(path, lazy=lazy, memory_budget=memory_budget if lazy else None)
    if isinstance(signal, list):
        raise ValueError(f"{path} holds {len(signal)} signals; give a file with one spectrum image")
    if signal.axes_manager.signal_dimension != 1:
        raise ValueError(
            f"{path} is not a spectrum (image): signal dimension "
            f"{signal.axes_manager.signal_dimension}"
        )
    set_cryo_signal_type(signal, "CryoEELS")
    return signal


def _cmd_report(args: argparse.Namespace) -> int:
    from cryospec.app.report import run_report

    started = time.perf_counter()
    records = run_report(
        args.inputs,
        args.out,
        config_file=args.config,
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        show_progressbar=not args.no_progress,
        low_loss_pattern=args.low_loss_pattern,
    )
    done = sum(r["status"] == "done" for r in records)
    print(
        f"wrote {args.out}/index.html and {args.out}/summary.csv: {done} of {len(records)} "
        f"datasets done in {time.perf_counter() - started:.1f} s"
    )
    failed = [record for record in records if record["status"] != "done"]
    for record in failed:
        print(f"  {record['name']}: {record['status']}: {record.get('reason')}")
    # a batch job must see that a dataset failed: the summary is written all the same
    return 1 if failed else 0


def _cmd_edges(args: argparse.Namespace) -> int:
    from cryospec.edges import get_edge, list_edges

    names = list(args.names)
    for element in args.element or []:
        names += list_edges(element)
    names = names or list_edges()
    print(f"{'edge':8} {'onset':>7}  {'background (eV)':18} {'integration':14} overlaps; source")
    for name in names:
        e = get_edge(name)
        bg = ", ".join(f"{lo:g}-{hi:g}" for lo, hi in e.background_windows_eV)
        lo, hi = e.integration_window_eV
        print(
            f"{e.name:8} {e.onset_eV:7.1f}  {bg:18} {f'{lo:g}-{hi:g}':14} "
            f"{', '.join(e.overlaps) or '-'}; {e.onset_source}"
        )
    return 0


def _positive(kind: type, zero: bool = False):
    """An argparse type: a number of ``kind`` above zero (or at least zero), refused at parse
    time with the option's value in the message."""
    what = "a non-negative" if zero else "a positive"
    name = "integer" if kind is int else "number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} {name}") from None
        if not np.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} {name}")
        return value

    parse.__name__ = f"{'non-negative' if zero else 'positive'} {name}"
    return parse


def _line(text: str) -> tuple[float, float, float, float]:
    """An argparse type: four finite numbers X0,Y0,X1,Y1, refused at parse time."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not X0,Y0,X1,Y1 (four numbers)") from None
    if len(values) != 4 or not all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(f"{text!r} is not X0,Y0,X1,Y1 (four numbers)")
    return values  # type: ignore[return-value]


def _add_dask_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lazy", action="store_true", help="read the data out of core (Dask), chunk by chunk"
    )
    parser.add_argument(
        "--memory-budget",
        type=_positive(float),
        metavar="MB",
        help="memory per chunk for --lazy (default: from the available memory)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster (tcp://host:8786); implies --lazy",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cryospec`` command."""
    parser = argparse.ArgumentParser(
        prog="cryospec",
        description="Dose-aware EELS/EDX spectrum imaging of beam-sensitive battery interphases.",
    )
    parser.add_argument("--version", action="version", version=f"cryospec {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    _add_demo_command(sub)
    _add_quantify_command(sub)
    _add_profile_command(sub)
    _add_report_command(sub)
    _add_edges_command(sub)
    return parser


def _add_demo_command(sub) -> None:
    demo = sub.add_parser(
        "demo",
        help="run the pipeline on the built-in synthetic Li | interphase | LiPON dataset",
        description="Generate the built-in synthetic Li | interphase | LiPON EELS and EDX "
        "spectrum images into DIR/inputs, write the batch report over them (DIR/index.html, "
        "DIR/summary.csv, as cryospec report does) and their check against the ground truth "
        "(DIR/truth.html with figures, DIR/summary.json with the numbers and their truth).",
    )
    demo.add_argument("--out", required=True, metavar="DIR", help="output folder")
    demo.add_argument(
        "--shape",
        type=_positive(int),
        nargs=2,
        default=(24, 64),
        metavar=("ROWS", "COLUMNS"),
        help="spectrum-image size: rows along the interphase, columns across it (default 24 64)",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    demo.add_argument("--progress", action="store_true", help="show progress bars")
    demo.set_defaults(func=_cmd_demo)


def _add_quantify_command(sub) -> None:
    quantify = sub.add_parser(
        "quantify",
        help="areal densities and atomic fractions of a core-loss spectrum image",
        description="Quantify the given edges of a core-loss spectrum image (any file HyperSpy "
        "reads) and write DIR/quantification.hspy (all maps, with their standard errors) and "
        "DIR/quantification.json (per element: mean and spread over the map). The input is "
        "never modified.",
    )
    _add_input_arguments(quantify)
    quantify.add_argument("--method", choices=("model", "integration"), default="model")
    quantify.add_argument(
        "--cross-section",
        choices=("hartree-slater", "hydrogenic"),
        default="hartree-slater",
        help="edge cross-sections: hartree-slater (the default, computed offline for every "
        "shell) or hydrogenic (K and L2,3 only)",
    )
    quantify.add_argument(
        "--fit-ranges",
        choices=("global", "local"),
        default="global",
        help="model fit: one joint fit of every edge (the default), or each edge over its own "
        "range, below the next edge",
    )
    quantify.add_argument(
        "--count-target", type=_positive(float), help="dose-aware background target"
    )
    quantify.add_argument(
        "--negative",
        choices=("shift", "clip", "raise"),
        default="shift",
        help="negative counts (a dark-subtracted detector): fitted with the read noise as "
        "shifted Poisson (the default), set to 0 (biased), or an error",
    )
    quantify.add_argument(
        "--read-noise",
        type=_positive(float, zero=True),
        metavar="COUNTS",
        help="read-noise standard deviation per channel, in counts (default: estimated from "
        "the negative counts, with a warning)",
    )
    quantify.add_argument("--beam-energy", type=_positive(float), help="keV, if the file lacks it")
    quantify.add_argument(
        "--convergence-angle", type=_positive(float, zero=True), help="mrad, if the file lacks it"
    )
    quantify.add_argument(
        "--collection-angle", type=_positive(float), help="mrad, if the file lacks it"
    )
    quantify.set_defaults(func=_cmd_quantify, on_scheduler=True)


def _add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The spectrum images, edges, gain, output folder and Dask options of quantify and profile."""
    parser.add_argument("input", type=Path, help="core-loss spectrum image")
    parser.add_argument("--low-loss", type=Path, help="matching low-loss spectrum image")
    parser.add_argument(
        "--edges", required=True, help="comma-separated edge names, e.g. Li_K,P_L23,O_K"
    )
    parser.add_argument("--detector-gain", type=_positive(float), help="counts per electron")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    _add_dask_arguments(parser)


def _add_profile_command(sub) -> None:
    profile = sub.add_parser(
        "profile",
        help="element profiles across an interphase, with gradient fits",
        description="Quantify the edges, take each element's profile (along --line with "
        "--width, or --auto across the interface found in the map) and fit a gradient model; "
        "write DIR/profile.json (per element: the model chosen, position_nm, position_ci_nm, "
        "sigma_nm, sigma_ci_nm, width_10_90_nm; multilayer: interfaces_nm, thickness_nm with "
        "intervals; goodness of fit, status and notes on unresolved steps) "
        "and DIR/profile.png.",
    )
    _add_input_arguments(profile)
    profile.add_argument("--line", type=_line, help="X0,Y0,X1,Y1 in the map's calibrated units")
    profile.add_argument("--width", type=_positive(float), help="line width, calibrated units")
    profile.add_argument("--auto", action="store_true", help="find the interface direction")
    profile.add_argument(
        "--model",
        default="auto",
        choices=("auto", "erf", "multilayer", "diffusion", "exponential"),
    )
    profile.add_argument(
        "--layers",
        type=_positive(int, zero=True),
        default=1,
        help="multilayer steps (0: choose 1-4 by BIC)",
    )
    profile.add_argument("--stripes", type=_positive(int), default=1, help="parallel profiles")
    profile.add_argument(
        "--quantity", default="atomic_fraction", choices=("atomic_fraction", "areal_density")
    )
    profile.set_defaults(func=_cmd_profile, on_scheduler=True)


def _add_report_command(sub) -> None:
    report = sub.add_parser(
        "report",
        help="run the pipeline over many spectrum images and write a browsable report",
        description="Run dose, background, quantification, profiles (and NMF) over every "
        "EELS and EDX spectrum image among the inputs; write DIR/index.html with a page per "
        "dataset, DIR/summary.csv and DIR/run_log.json (versions, config, input checksums). "
        "A low loss is paired with the core loss it names: map7.hspy + map7_low_loss.hspy.",
    )
    report.add_argument("inputs", nargs="+", type=Path, help="files or folders")
    report.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    report.add_argument("--config", type=Path, metavar="FILE", help="TOML configuration")
    where = report.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=_positive(int), metavar="N", help="local Dask cluster of N workers"
    )
    where.add_argument("--scheduler", metavar="ADDRESS", help="existing Dask scheduler address")
    report.add_argument("--force", action="store_true", help="redo datasets already done")
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    report.add_argument(
        "--low-loss-pattern",
        type=_low_loss_pattern,
        metavar="PATTERN",
        help="the low loss's file name (without extension) from the core loss's, {core}: "
        "e.g. 'LL_{core}' pairs SI_3.dm4 with LL_SI_3.dm4 (the config's [pairs] come first)",
    )
    report.set_defaults(func=_cmd_report)


def _low_loss_pattern(text: str) -> str:
    """``--low-loss-pattern``, checked when parsed: one ``{core}`` and no other field."""
    try:
        name = text.format(core="CORE")
    except (KeyError, IndexError, ValueError) as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the only field is {{core}}, the core loss's file name ({exc})"
        ) from None
    if "{core}" not in text or name == text:
        raise argparse.ArgumentTypeError(f"{text!r} must hold {{core}}, e.g. '{{core}}_LL'")
    return text


def _add_edges_command(sub) -> None:
    edges = sub.add_parser(
        "edges",
        help="list the edge database",
        description="Print onsets, default windows, overlaps and the onset's source of the edge "
        "database: every shell of Z = 3..92 between 10 eV and 3 keV.",
    )
    edges.add_argument("names", nargs="*", help="edge names (default: all), e.g. Li_K P_L2,3")
    edges.add_argument(
        "--element",
        action="extend",
        nargs="+",
        metavar="SYMBOL",
        help="every edge of these elements, e.g. Ti La",
    )
    edges.set_defaults(func=_cmd_edges)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cryospec`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    each_message_once()
    try:
        if getattr(args, "on_scheduler", False):
            with _scheduler(args):
                return args.func(args)
        return args.func(args)
    except (ValueError, KeyError, OSError) as exc:
        print(f"cryospec {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
