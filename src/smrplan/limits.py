"""Sanity limits of input data (`data/data_checks.yaml`, each number with its source): region boxes,
the largest plausible settlement and the id columns read as text. Read by the scenario (a region box
must exist) and by the input checks of smrplan.geo."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from smrplan.yamltext import parse_yaml


@lru_cache(maxsize=1)
def data_limits() -> dict[str, Any]:
    """Sanity limits of ``data/data_checks.yaml``.

    Returns
    -------
    dict
        ``regions``: name -> bounding box ``min_lon``, ``min_lat``, ``max_lon``, ``max_lat`` (WGS84
        degrees); ``max_settlement_population``: largest plausible population of one place (persons);
        ``id_columns``: ``names`` and name ``suffixes`` of the columns read as text.
    """
    text = resources.files("smrplan.data").joinpath("data_checks.yaml").read_text(encoding="utf-8")
    return parse_yaml(text)
