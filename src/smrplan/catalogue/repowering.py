"""The numbers of coal-unit repowering (data/coal_repowering.yaml): retirement rule, earliest reactor
year, the site-reuse credit by cost account, the coal unit's running costs and the industrial tariff.

Each is a `Parameter` record (value, unit, low, high, source, year); money values are restated in the
scenario's base year with US CPI-U as the catalogue's are (`inflation_factor`), and a scenario's
`repowering.overrides` replaces single values (source "scenario", not restated).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from smrplan.catalogue.catalogue import Parameter, inflation_factor
from smrplan.errors import InputError
from smrplan.yamltext import parse_yaml

PACKAGED = "smrplan/data/coal_repowering.yaml"
CREDIT_ACCOUNTS = ("grid_connection", "cooling_water", "land", "buildings")
_FRACTIONS = ("site_reuse_credit_fraction", "coal_capacity_factor", "process_heat_share",
              *(f"credit_share_{a}" for a in CREDIT_ACCOUNTS))


@lru_cache(maxsize=1)
def _packaged() -> dict[str, Parameter]:
    text = resources.files("smrplan.data").joinpath("coal_repowering.yaml").read_text(encoding="utf-8")
    raw = parse_yaml(text)["parameters"]
    out = {}
    for name, r in raw.items():
        out[name] = Parameter(value=float(r["value"]), unit=str(r["unit"]), source=str(r["source"]), year=int(r["year"]),
                              low=float(r["low"]), high=float(r["high"]), note=str(r.get("note", "")))
    return out


@lru_cache(maxsize=1)
def process_heat_industries() -> tuple[str, ...]:
    """GEM captive industries whose sites can take a reactor's process heat (data/coal_repowering.yaml
    ``process_heat_industries``), lower-case."""
    text = resources.files("smrplan.data").joinpath("coal_repowering.yaml").read_text(encoding="utf-8")
    return tuple(str(v).strip().lower() for v in parse_yaml(text)["process_heat_industries"])


def repowering_parameters(base_year: int, overrides: dict[str, Any] | None = None,
                          source: str = "scenario") -> dict[str, Parameter]:
    """The repowering parameters in constant USD of `base_year`, overrides applied.

    Parameters
    ----------
    base_year : int
        Year of the constant USD of money values (US CPI-U, data/us_cpi.csv).
    overrides : dict, optional
        {parameter: value} from the scenario's ``repowering.overrides`` (money in base-year USD).
    source : str
        The scenario file, named in errors.

    Returns
    -------
    dict of str to Parameter
        One record per parameter of data/coal_repowering.yaml.

    Raises
    ------
    InputError
        When an override names an unknown parameter, is not a number, or a fraction lies outside [0, 1];
        or when the credit shares do not sum to 1.
    """
    params = {}
    for name, p in _packaged().items():
        if p.is_money:
            f = inflation_factor(p.year, base_year)
            p = replace(p, value=float(p.value) * f, low=None if p.low is None else p.low * f,
                        high=None if p.high is None else p.high * f)
        params[name] = p
    for name, value in (overrides or {}).items():
        field = f"repowering.overrides.{name}"
        if name not in params:
            raise InputError(source, field, f"unknown parameter; expected one of {sorted(params)}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(source, field, f"{value!r}; expected a number")
        if name in _FRACTIONS and not 0.0 <= float(value) <= 1.0:
            raise InputError(source, field, f"{value}; expected a fraction in [0, 1]")
        if float(value) < 0:
            raise InputError(source, field, f"{value}; expected a number >= 0")
        params[name] = replace(params[name], value=float(value), source="scenario", year=base_year, overridden=True)
    total = sum(float(params[f"credit_share_{a}"].value) for a in CREDIT_ACCOUNTS)
    if abs(total - 1.0) > 1e-6:
        raise InputError(source, "repowering.overrides.credit_share_*",
                         f"the credit shares of {list(CREDIT_ACCOUNTS)} sum to {total:g}; expected 1")
    return params


def values(params: dict[str, Parameter]) -> dict[str, float]:
    """{name: numeric value} of the parameters."""
    return {k: float(p.value) for k, p in params.items()}


def records(params: dict[str, Parameter]) -> dict[str, dict]:
    """The parameters as plain records for plan.json (value, unit, low, high, source, year, note)."""
    return {k: {f: v for f, v in asdict(p).items() if f not in ("confidence", "overridden")} for k, p in params.items()}
