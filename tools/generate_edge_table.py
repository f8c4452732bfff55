"""Write ``edges/generated/periodic_table.yaml``: each edge of Z = 3..92 between 10 eV and 3 keV.

Run ``python tools/generate_edge_table.py`` after a change of the rules below or of the source
tables; ``tests/core/test_edge_table.py`` checks that the committed file is what this script
writes (it needs exspy and xraydb, both cryospec dependencies).

Rules
-----
* Shells: K, L1, L2,3, M1, M2,3, M4,5, N1, N2,3, N4,5, N6,7, O1, O2,3, O4,5, P1, P2,3 (spin-orbit
  partners combined, as EELS sees them), of the levels that xraydb tabulates for the element,
  except those of its outermost (valence) shell, whose principal quantum number is the
  element's period.
* Onset: the EELS onset of exspy's binding-energy table (the literature values of the EELS
  atlases) where it has the shell, else the X-ray binding energy of the shell's lower-energy
  level from xraydb (Elam, Ravel and Sieber, Radiat. Phys. Chem. 63 (2002) 121). Only shells
  whose onset lies in [10, 3000] eV are kept. Each record names its source.
* Windows: a background window ending ``gap = clip(0.02 E0, 1, 10)`` eV below the onset ``E0``,
  ``clip(0.15 E0, 5, 100)`` eV wide (starting at 2 eV at the lowest); an integration window from
  the onset, ``clip(0.1 E0, 10, 100)`` eV wide.
* Overlaps: left empty. Which edges overlap depends on the sample's elements: at run time
  ``cryospec.edges.edges_in_range(lo, hi, elements)`` finds them (the curated records list the
  overlaps that matter for battery materials).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

OUT = Path(__file__).resolve().parents[1] / "edges" / "generated" / "periodic_table.yaml"
LETTERS = "KLMNOP"
SHELLS = {
    "K": ("K",),
    "L1": ("L1",),
    "L23": ("L3", "L2"),
    "M1": ("M1",),
    "M23": ("M3", "M2"),
    "M45": ("M5", "M4"),
    "N1": ("N1",),
    "N23": ("N3", "N2"),
    "N45": ("N5", "N4"),
    "N67": ("N7", "N6"),
    "O1": ("O1",),
    "O23": ("O3", "O2"),
    "O45": ("O5", "O4"),
    "P1": ("P1",),
    "P23": ("P3", "P2"),
}
# exspy's keys for a combined shell, in order of preference (its onset is the lower level's).
EXSPY_KEYS = {
    "L23": ("L2,3", "L3"),
    "M23": ("M2,3", "M3"),
    "M45": ("M4,5", "M5"),
    "N23": ("N2,3", "N3"),
    "N45": ("N4,5", "N5"),
    "N67": ("N6,7", "N7"),
    "O23": ("O2,3", "O3"),
    "O45": ("O4,5", "O5"),
    "P23": ("P2,3", "P3"),
}
LOW, HIGH = 10.0, 3000.0


def period(z: int) -> int:
    return next(p for p, last in enumerate((2, 10, 18, 36, 54, 86, 118), start=1) if z <= last)


def _windows(onset: float) -> tuple[list[float], list[float]]:
    gap = float(np.clip(0.02 * onset, 1.0, 10.0))
    width = float(np.clip(0.15 * onset, 5.0, 100.0))
    hi = round(onset - gap, 1)
    lo = round(max(hi - width, 2.0), 1)
    span = float(np.clip(0.1 * onset, 10.0, 100.0))
    return [lo, hi], [round(onset, 1), round(onset + span, 1)]


def records() -> list[dict]:
    import exspy
    import xraydb
    from exspy.material import elements as exspy_elements

    exspy_source = f"exspy {exspy.__version__} binding-energy table (EELS onset)"
    xraydb_source = (
        f"xraydb {xraydb.__version__} X-ray binding energy of the {{level}} level "
        "(Elam, Ravel and Sieber, Radiat. Phys. Chem. 63 (2002) 121)"
    )
    out = []
    for z in range(3, 93):
        symbol = xraydb.atomic_symbol(z)
        levels = xraydb.xray_edges(symbol)
        try:
            eels = exspy_elements[symbol].Atomic_properties.Binding_energies.as_dictionary()
        except (AttributeError, KeyError):
            eels = {}
        for shell, parts in SHELLS.items():
            valence = LETTERS.index(shell[0]) + 1 == period(z)
            if valence or not any(p in levels for p in parts):
                continue
            keys = EXSPY_KEYS.get(shell, (shell,))
            key = next((k for k in keys if k in eels), None)
            if key is not None:
                onset, source, subshell = float(eels[key]["onset_energy (eV)"]), exspy_source, key
            else:
                level = next(p for p in parts if p in levels)
                onset = float(levels[level].energy)
                source = xraydb_source.format(level=level)
                subshell = keys[0]
            if not LOW <= onset <= HIGH:
                continue
            background, integration = _windows(onset)
            out.append(
                {
                    "name": f"{symbol}_{shell}",
                    "element": symbol,
                    "shell": shell,
                    "exspy_subshell": subshell,
                    "onset_eV": round(onset, 1),
                    "onset_source": source,
                    "background_windows_eV": [background],
                    "integration_window_eV": integration,
                    "overlaps": [],
                    "fine_structure": {},
                }
            )
    return sorted(out, key=lambda r: (r["onset_eV"], r["name"]))


def document() -> str:
    header = (
        "# Generated by tools/generate_edge_table.py (rules in its docstring); do not edit by\n"
        "# hand: curated records in edges/*.yaml override these, user files override both.\n"
    )
    return header + yaml.safe_dump(
        {"edges": records()}, sort_keys=False, width=100, default_flow_style=None
    )


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(document(), encoding="utf-8")
    print(f"wrote {OUT} ({len(records())} edges)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
