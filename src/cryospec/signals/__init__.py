"""HyperSpy signal classes registered by cryospec."""

from .cryo_eds import CryoEDSTEMSpectrum, LazyCryoEDSTEMSpectrum
from .cryo_eels import CryoEELSSpectrum, LazyCryoEELSSpectrum

__all__ = [
    "CryoEDSTEMSpectrum",
    "CryoEELSSpectrum",
    "LazyCryoEDSTEMSpectrum",
    "LazyCryoEELSSpectrum",
]
