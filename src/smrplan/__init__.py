"""smrplan: where should small reactors (land or floating) power isolated places, and at what cost
against diesel, solar + battery mini-grids and grid extension?"""

__version__ = "0.1.0"

from smrplan.api import Plan, plan, run  # noqa: E402

__all__ = ["Plan", "plan", "run", "__version__"]
