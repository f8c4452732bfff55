"""The edge database: the one loader of the YAML edge records and the damage thresholds.

The data are the repository's ``edges/`` folder (shipped inside the wheel as
``cryospec/edges/database``): one curated YAML file per edge, and ``generated/`` with every
shell of Z = 3..92 between 10 eV and 3 keV. :mod:`.records` reads and validates them (and the
user's own files), :mod:`.damage` reads the critical doses of ``edges/damage/thresholds.yaml``.
"""

from cryospec.edges.damage import DamageThreshold, damage_thresholds
from cryospec.edges.records import (
    Edge,
    EdgeDatabaseError,
    FineStructureMarker,
    canonical_edge_name,
    edge_database_path,
    edges_in_range,
    get_edge,
    list_edges,
    load_edge_database,
    use_user_edges,
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
    "edges_in_range",
    "get_edge",
    "list_edges",
    "load_edge_database",
    "use_user_edges",
    "validate_edge_record",
]
