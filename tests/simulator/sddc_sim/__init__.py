"""SDDC Manager (VMware Cloud Foundation) API simulator for the vcf.sddc_manager tests.

``Simulator`` serves the token, credentials-task and task endpoints over HTTPS
from a scenario; ``SimControl`` drives its ``/_sim`` control endpoints.
See ../README.md.
"""

from .control import SimControl, SimControlError
from .errors import ScenarioError
from .server import Simulator

__all__ = ["Simulator", "SimControl", "SimControlError", "ScenarioError"]
