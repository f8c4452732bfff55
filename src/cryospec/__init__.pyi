# The public API of cryospec, for editors and type checkers; the names are loaded on first use
# (see __init__.py). Keep this list equal to __init__._ATTRIBUTES (a test checks it).
from cryospec import app as app
from cryospec import components as components
from cryospec import core as core
from cryospec import data as data
from cryospec import edges as edges
from cryospec import signals as signals
from cryospec.app.report import run_report as run_report
from cryospec.components import DiffusionProfile as DiffusionProfile
from cryospec.components import ErfStep as ErfStep
from cryospec.components import ExponentialDecay as ExponentialDecay
from cryospec.components import MultilayerProfile as MultilayerProfile
from cryospec.core.gradients import GradientFit as GradientFit
from cryospec.data import InterphaseGeometry as InterphaseGeometry
from cryospec.data import li_lipon as li_lipon
from cryospec.data import li_lipon_eds as li_lipon_eds
from cryospec.edges import get_edge as get_edge
from cryospec.edges import list_edges as list_edges
from cryospec.signals import BackgroundResult as BackgroundResult
from cryospec.signals import CryoEDSTEMSpectrum as CryoEDSTEMSpectrum
from cryospec.signals import CryoEELSSpectrum as CryoEELSSpectrum
from cryospec.signals import CryoProfile as CryoProfile
from cryospec.signals import DoseSeriesResult as DoseSeriesResult
from cryospec.signals import LazyCryoEDSTEMSpectrum as LazyCryoEDSTEMSpectrum
from cryospec.signals import LazyCryoEELSSpectrum as LazyCryoEELSSpectrum
from cryospec.signals import PhaseMapResult as PhaseMapResult
from cryospec.signals import ProfileFit as ProfileFit
from cryospec.signals import QuantificationResult as QuantificationResult
from cryospec.signals import auto_profile as auto_profile
from cryospec.signals import line_profile as line_profile
from cryospec.signals.io import load as load

__version__: str
__all__: list[str]
