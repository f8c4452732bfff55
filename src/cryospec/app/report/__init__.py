"""Batch reports: many spectrum images through the pipeline, one browsable report.

``run_report(inputs, out_dir, config_file=None, workers=None, scheduler=None, force=False)``;
the configuration format is in :mod:`cryospec.report.config`.
"""

from __future__ import annotations

from cryospec.app.report.config import DEFAULTS, load_config
from cryospec.app.report.runner import discover, process_dataset, run_report

__all__ = ["DEFAULTS", "discover", "load_config", "process_dataset", "run_report"]
