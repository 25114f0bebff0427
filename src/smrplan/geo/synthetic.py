"""Synthetic settlements on a region's land, for scale tests and benchmarks.

Points are drawn uniformly over a box and kept when on land (`Region.is_land`, rejection sampling,
vectorised in batches); populations are log-normal with a village-like median of about 700 persons
(ln-mean 6.5, ln-sd 1.1, plus 50), as India's 650,000 villages (Census 2011 median village about 650
persons). The set is reproducible from its seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from smrplan.geo.layers import Region
from smrplan.scenario import bundled_text
from smrplan.yamltext import parse_yaml

# India's box (degrees: west, south, east, north).
INDIA_BOX = (68.2, 6.8, 97.4, 37.1)


def points_on_land(region: Region, n: int, rng: np.random.Generator,
                   box: tuple[float, float, float, float] = INDIA_BOX) -> tuple[np.ndarray, np.ndarray]:
    """n uniform points on the region's land inside `box`.

    Parameters
    ----------
    region : Region
        Its land layer (or the global land mask without one) decides what is land.
    n : int
        Points wanted.
    rng : numpy.random.Generator
        Random source.
    box : tuple of float
        West, south, east, north (degrees, WGS84).

    Returns
    -------
    lon, lat : numpy.ndarray
        (n,) degrees.
    """
    xs, ys, have = [], [], 0
    while have < n:
        x, y = rng.uniform(box[0], box[2], 3 * n), rng.uniform(box[1], box[3], 3 * n)
        keep = region.is_land(x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def synthetic_settlements(region: Region, n: int, seed: int = 0,
                          box: tuple[float, float, float, float] = INDIA_BOX) -> pd.DataFrame:
    """A settlements table of n places on the region's land (the columns of a settlements CSV).

    Parameters
    ----------
    region : Region
        Gives the land (`points_on_land`).
    n : int
        Settlements.
    seed : int
        Seed of the positions and populations.
    box : tuple of float
        West, south, east, north (degrees).

    Returns
    -------
    pandas.DataFrame
        id, name, lon, lat (degrees, 5 decimals) and population (persons).
    """
    rng = np.random.default_rng(seed)
    lon, lat = points_on_land(region, n, rng, box)
    number = np.arange(n).astype(str)
    return pd.DataFrame({"id": np.char.add("S", number), "name": np.char.add("Place ", number),
                         "lon": lon.round(5), "lat": lat.round(5),
                         "population": np.round(rng.lognormal(6.5, 1.1, n)) + 50})


def national_scenario(settlements_csv: Path, name: str, optimise: bool, dispatch: bool = True) -> dict:
    """The bundled india-national scenario (as a dict to write as YAML) on a settlements file instead
    of the national settlement set: every other layer and setting is the national one.

    Parameters
    ----------
    settlements_csv : Path
        A settlements table (e.g. from `synthetic_settlements`).
    name : str
        The scenario's name.
    optimise : bool
        Run the optimisation stage (False: each settlement's least-cost option only).
    dispatch : bool
        Run the hour-by-hour dispatch stage (``outputs.dispatch``).

    Returns
    -------
    dict
        The scenario.
    """
    sc = parse_yaml(bundled_text("india-national"))
    for key in ("towns", "postal_places", "district_population"):
        sc["data"].pop(key, None)
    sc["data"]["settlements"] = str(settlements_csv)
    sc["name"] = name
    sc.setdefault("optimisation", {})["enabled"] = optimise
    sc.setdefault("outputs", {})["dispatch"] = dispatch
    return sc
