"""HyperSpy signal classes registered by cryospec, and the result types of their methods."""

from cryospec.signals.cryo_eds import CryoEDSTEMSpectrum, LazyCryoEDSTEMSpectrum
from cryospec.signals.cryo_eels import CryoEELSSpectrum, LazyCryoEELSSpectrum
from cryospec.signals.cryo_profile import CryoProfile, auto_profile, line_profile
from cryospec.signals.results import (
    BackgroundResult,
    DoseSeriesResult,
    PhaseMapResult,
    ProfileFit,
    QuantificationResult,
)

__all__ = [
    "BackgroundResult",
    "CryoEDSTEMSpectrum",
    "CryoEELSSpectrum",
    "CryoProfile",
    "DoseSeriesResult",
    "LazyCryoEDSTEMSpectrum",
    "LazyCryoEELSSpectrum",
    "PhaseMapResult",
    "ProfileFit",
    "QuantificationResult",
    "auto_profile",
    "line_profile",
]
