"""The edge database: the one loader of the YAML edge records and the damage thresholds.

The data are one YAML file per edge in the repository's ``edges/`` folder (shipped inside the
wheel as ``cryospec/edges/database``); :mod:`.records` reads and validates them,
:mod:`.damage` reads the critical doses of ``edges/damage/thresholds.yaml``.
"""

from cryospec.edges.damage import DamageThreshold, damage_thresholds
from cryospec.edges.records import (
    Edge,
    EdgeDatabaseError,
    FineStructureMarker,
    canonical_edge_name,
    edge_database_path,
    get_edge,
    list_edges,
    load_edge_database,
    validate_edge_record,
)

__all__ = [
    "DamageThreshold",
    "Edge",
    "EdgeDatabaseError",
    "FineStructureMarker",
    "canonical_edge_name",
    "damage_thresholds",
    "edge_database_path",
    "get_edge",
    "list_edges",
    "load_edge_database",
    "validate_edge_record",
]
