"""smrplan: where should small reactors (land or floating) power isolated places, and at what cost
against diesel, solar + battery mini-grids and grid extension?"""

from smrplan.api import Plan, plan, run
from smrplan.version import __version__

__all__ = ["Plan", "plan", "run", "__version__"]
