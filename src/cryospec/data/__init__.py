"""Built-in synthetic datasets with known ground truth.

:func:`li_lipon` simulates a cryo-STEM-EELS spectrum image of a cross-section through
Li metal | interphase | LiPON, :func:`li_lipon_eds` the matching EDX spectrum image; both return
their signals beside a truth object (:mod:`.specimen`) that holds every number that went into
them. The forward model is described in :mod:`.li_lipon`.
"""

from cryospec.data.li_lipon import li_lipon
from cryospec.data.li_lipon_eds import li_lipon_eds
from cryospec.data.specimen import (
    EELS_EDGES,
    ELEMENTS,
    PHASES,
    InterphaseGeometry,
    LiLiPONEDSTruth,
    LiLiPONTruth,
    Phase,
    SyntheticEDS,
    SyntheticEELS,
)

__all__ = [
    "EELS_EDGES",
    "ELEMENTS",
    "PHASES",
    "InterphaseGeometry",
    "LiLiPONEDSTruth",
    "LiLiPONTruth",
    "Phase",
    "SyntheticEDS",
    "SyntheticEELS",
    "li_lipon",
    "li_lipon_eds",
]
