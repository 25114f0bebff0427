"""smrplan: where should small reactors (land, micro or floating) power isolated places, and at what
cost against diesel, solar + battery mini-grids and grid extension?

The public face: `run`, `plan`, `roadmap`, `read_run`, `tornado`, `sweep`, `alternatives`, `load_scenario` and
the `Plan` and `Roadmap` they return (smrplan.api).
"""

from smrplan.api import (
    Plan,
    Roadmap,
    RunDirectory,
    alternatives,
    load_scenario,
    plan,
    read_run,
    roadmap,
    run,
    sweep,
    tornado,
)
from smrplan.version import __version__

__all__ = ["Plan", "Roadmap", "RunDirectory", "alternatives", "load_scenario", "plan", "read_run", "roadmap", "run",
           "sweep", "tornado", "__version__"]
