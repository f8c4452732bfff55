"""The layers import one way: kernels use no HyperSpy and no Dask, only ``_chunks`` uses Dask,
and nothing below the applications imports them (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cryospec"
FRAMEWORKS = ("hyperspy", "exspy", "rsciio", "dask", "distributed", "matplotlib")


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py")) if folder else sorted(PACKAGE.glob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions, as absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["cryospec", *path.relative_to(PACKAGE).parent.parts]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            else:
                names.add(node.module)
    return names


def _offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in paths
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_core_and_edges_use_no_framework_and_no_upper_layer():
    upper = ("cryospec.signals", "cryospec.components", "cryospec.data", "cryospec.app")
    paths = _modules("core") + _modules("edges")
    assert _offending(paths, (*FRAMEWORKS, "cryospec._chunks", *upper)) == []


def test_only_chunks_imports_dask():
    paths = [p for p in PACKAGE.rglob("*.py") if p.name != "_chunks.py"]
    assert _offending(paths, ("dask", "distributed")) == []


@pytest.mark.parametrize("layer", ["signals", "components", "data", "edges", "core"])
def test_layers_below_the_app_do_not_import_it(layer):
    assert _offending(_modules(layer), ("cryospec.app",)) == []


def test_core_does_not_import_the_data_layer_or_signals():
    assert _offending(_modules("core"), ("cryospec.data", "cryospec.signals")) == []


def test_importing_the_kernels_loads_no_framework():
    code = (
        "import sys, pkgutil, importlib, cryospec.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('cryospec.core.' + m.name)\n"
        "import cryospec.edges\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FRAMEWORKS!r}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_no_module_over_600_lines():
    long = [
        f"{p.relative_to(PACKAGE)}: {n} lines"
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    ]
    assert long == []
