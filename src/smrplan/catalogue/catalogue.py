"""The technology catalogue: every number with unit, range, source and year.

`read_catalogue()` reads `technologies.yaml` (or a user file) and checks every entry against the
schema (schema.py, parameters.csv): unknown option, missing required parameter, unit, source or year,
negative cost, low > high, value outside [low, high], a number where text is expected (or the reverse),
a value, low or high outside the parameter's bounds and a text value not among the parameter's allowed
values (the cooling types) are errors naming the file, entry and field.
`resolve_catalogue()` then restates money in constant USD of the scenario base year with the US CPI-U
(data/us_cpi.csv; the parameter's `year` is its money year) and applies the scenario overrides, which
must name a known technology and parameter, keep its type and respect its bounds or allowed values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard

import pandas as pd
import yaml

from smrplan.catalogue.schema import PARAMETERS, REQUIRED, ParameterSpec
from smrplan.errors import InputError
from smrplan.options import CATALOGUE_OPTIONS, REACTOR_CATALOGUE_OPTIONS
from smrplan.yamltext import parse_yaml

_CONFIDENCE = ("high", "medium", "low")
PACKAGED = "<packaged catalogue technologies.yaml>"


@dataclass(frozen=True)
class Parameter:
    """One catalogue number (or string) with its unit, range and provenance."""

    value: float | str
    unit: str
    source: str
    year: int
    low: float | None = None
    high: float | None = None
    confidence: str = "medium"
    note: str = ""
    overridden: bool = False

    @property
    def is_money(self) -> bool:
        return "usd" in self.unit.lower()


@dataclass(frozen=True)
class Technology:
    """A catalogue entry: its option category and parameters."""

    key: str
    name: str
    option: str
    description: str
    confidence: str
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        """Numeric value of a parameter (raises InputError naming the entry when absent)."""
        p = self.parameters.get(name)
        if p is None:
            raise InputError(PACKAGED, f"{self.key}.parameters.{name}", "parameter is missing from the catalogue")
        if isinstance(p.value, str):
            raise InputError(PACKAGED, f"{self.key}.parameters.{name}", "expected a number")
        return float(p.value)

    def get(self, name: str, default: float | None = None) -> float | None:
        p = self.parameters.get(name)
        return default if p is None or isinstance(p.value, str) else float(p.value)

    def text(self, name: str, default: str = "") -> str:
        p = self.parameters.get(name)
        return default if p is None else str(p.value)

    @property
    def is_reactor(self) -> bool:
        return self.option in REACTOR_CATALOGUE_OPTIONS

    @property
    def modules_per_unit(self) -> int:
        """Modules bought together as one indivisible purchase unit (2 for a two-reactor barge; 1 where
        modules are bought one at a time or the entry does not say)."""
        return int(self.get("modules_per_purchase", 1.0) or 1.0)

    @property
    def unit_kw(self) -> float:
        """Net output of one purchase unit (kW): module size x modules per purchase."""
        return self["module_size_mw"] * 1000.0 * self.modules_per_unit

    @property
    def max_units(self) -> int:
        """Most whole purchase units one plant may hold: floor(max modules per plant / modules per
        purchase); 0 when a plant's maximum is smaller than one unit (the plant is then infeasible)."""
        return int(self["max_modules_per_plant"]) // self.modules_per_unit


Catalogue = dict[str, Technology]


@lru_cache(maxsize=1)
def _cpi() -> dict[int, float]:
    with resources.files("smrplan.data").joinpath("us_cpi.csv").open(encoding="utf-8") as f:
        df = pd.read_csv(f, comment="#")
    return dict(zip(df["year"].astype(int), df["cpi_u"].astype(float), strict=True))


def inflation_factor(from_year: int, to_year: int) -> float:
    """CPI-U ratio to restate money of `from_year` in `to_year` (years outside the table clamp)."""
    cpi = _cpi()
    lo, hi = min(cpi), max(cpi)
    return cpi[min(max(to_year, lo), hi)] / cpi[min(max(from_year, lo), hi)]


def _num(x: Any) -> TypeGuard[float]:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_type(spec: ParameterSpec, value: Any, where: str, file: str) -> None:
    if (spec.type == "text") != isinstance(value, str) or isinstance(value, bool) \
            or (spec.type == "number" and not math.isfinite(value)):
        raise InputError(file, where, f"{value!r}; {spec.name} is {'text' if spec.type == 'text' else 'a number'} "
                                      "(catalogue/parameters.csv)")


def _check_value(spec: ParameterSpec, value: str, where: str, file: str) -> None:
    if spec.values and value not in spec.values:
        raise InputError(file, where, f"{value!r} is not a known {spec.name}; expected one of {', '.join(spec.values)} "
                                      "(catalogue/parameters.csv)")


def _check_bounds(spec: ParameterSpec, value: float, where: str, file: str) -> None:
    if spec.outside(value):
        raise InputError(file, where, f"{value!r} is outside the bounds {spec.bounds_text()} {spec.unit} of {spec.name} "
                                      "(catalogue/parameters.csv)")
    if spec.unit == "modules" and value != int(value):
        raise InputError(file, where, f"{value!r}; {spec.name} is a whole number of modules")


def _parse_parameter(name: str, raw: Any, where: str, file: str) -> Parameter:
    if not isinstance(raw, dict):
        raise InputError(file, where, "expected a mapping with value, unit, low, high, source, year")
    unknown = set(raw) - {"value", "unit", "low", "high", "source", "year", "confidence", "note"}
    if unknown:
        raise InputError(file, where, f"unknown key(s) {sorted(unknown)}")
    for key in ("value", "unit", "source", "year"):
        if key not in raw or raw[key] in (None, ""):
            raise InputError(file, f"{where}.{key}", "required field is missing")
    value = raw["value"]
    if _num(value):
        if not math.isfinite(value):
            raise InputError(file, f"{where}.value", f"{value} is not finite")
        for key in ("low", "high"):
            if key not in raw or not _num(raw[key]) or not math.isfinite(raw[key]):
                raise InputError(file, f"{where}.{key}", "required for a numeric parameter; expected a finite number")
        if raw["low"] > raw["high"]:
            raise InputError(file, where, f"low ({raw['low']}) is greater than high ({raw['high']})")
        if "usd" in str(raw["unit"]).lower() and min(value, raw["low"]) < 0:
            raise InputError(file, f"{where}.value", f"negative cost {value}; costs must be >= 0")
        if not raw["low"] <= value <= raw["high"]:
            raise InputError(file, f"{where}.value", f"{value} lies outside its range [{raw['low']}, {raw['high']}]")
    elif not isinstance(value, str):
        raise InputError(file, f"{where}.value", f"expected a number or text, got {type(value).__name__}")
    conf = raw.get("confidence", "medium")
    if conf not in _CONFIDENCE:
        raise InputError(file, f"{where}.confidence", f"{conf!r}; expected one of {_CONFIDENCE}")
    if not _num(raw["year"]) or not 1900 <= raw["year"] <= 2100:
        raise InputError(file, f"{where}.year", f"{raw['year']!r}; expected a year such as 2024")
    spec = PARAMETERS.get(name)  # names outside the schema are kept, unchecked
    if spec is not None:
        _check_type(spec, value, f"{where}.value", file)
        for key in ("value", "low", "high") if _num(value) else ():
            _check_bounds(spec, raw[key], f"{where}.{key}", file)
        if isinstance(value, str):
            _check_value(spec, value, f"{where}.value", file)
    return Parameter(value=value, unit=str(raw["unit"]), source=str(raw["source"]), year=int(raw["year"]),
                     low=raw.get("low"), high=raw.get("high"), confidence=conf, note=str(raw.get("note", "")))


def parse_catalogue(raw: Any, file: str) -> Catalogue:
    """Validate a catalogue mapping (as read from YAML)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("technologies"), dict) or not raw["technologies"]:
        raise InputError(file, "technologies", "expected a mapping of technology entries")
    out: Catalogue = {}
    for key, entry in raw["technologies"].items():
        where = f"technologies.{key}"
        if not isinstance(entry, dict):
            raise InputError(file, where, "expected a mapping")
        unknown = set(entry) - {"name", "option", "description", "confidence", "parameters"}
        if unknown:
            raise InputError(file, where, f"unknown key(s) {sorted(unknown)}")
        if entry.get("option") not in CATALOGUE_OPTIONS:
            raise InputError(file, f"{where}.option", f"{entry.get('option')!r}; expected one of {CATALOGUE_OPTIONS}")
        params = entry.get("parameters")
        if not isinstance(params, dict) or not params:
            raise InputError(file, f"{where}.parameters", "expected a mapping of parameters")
        missing = [n for n in REQUIRED[entry["option"]] if n not in params]
        if missing:
            raise InputError(file, f"{where}.parameters", f"missing parameter(s) {missing} for option {entry['option']}")
        out[str(key)] = Technology(
            key=str(key), name=str(entry.get("name", key)), option=entry["option"],
            description=str(entry.get("description", "")), confidence=str(entry.get("confidence", "medium")),
            parameters={str(n): _parse_parameter(str(n), p, f"{where}.parameters.{n}", file) for n, p in params.items()},
        )
    return out


def read_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (the packaged one by default)."""
    if path is None:
        text = resources.files("smrplan.catalogue").joinpath("technologies.yaml").read_text(encoding="utf-8")
        file = PACKAGED
    else:
        file = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(file, None, f"cannot read catalogue ({exc})") from None
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise InputError(file, None, f"unreadable YAML ({exc})") from None
    return parse_catalogue(raw, file)


def apply_overrides(catalogue: Catalogue, overrides: dict[str, dict[str, Any]], source: str) -> Catalogue:
    """Return a catalogue with scenario overrides {technology: {parameter: value}} applied.

    An override may leave the catalogue's low/high range (that is the point of a scenario), but it
    must name a known technology and parameter, keep the parameter's type, not make a cost negative and
    respect the parameter's bounds or, for text, its allowed values (catalogue/parameters.csv).

    Parameters
    ----------
    catalogue : Catalogue
        The catalogue; not modified.
    overrides : dict
        {technology: {parameter: value}}, each value in the parameter's unit, money as `catalogue`'s
        (constant base-year USD after `in_base_year`).
    source : str
        The scenario file, named in errors and in the overridden parameters' source.

    Returns
    -------
    Catalogue
        A new catalogue; overridden parameters are marked ``overridden`` and keep the catalogue value in
        their note.

    Raises
    ------
    InputError
        When an override names an unknown technology or parameter, has the wrong type, is not finite,
        makes a cost negative, is outside the parameter's bounds or is not one of its allowed values.
    """
    out = dict(catalogue)
    for key, params in overrides.items():
        if key not in out:
            raise InputError(source, f"technologies.overrides.{key}",
                             f"unknown technology; expected one of {sorted(catalogue)}")
        tech = out[key]
        new = dict(tech.parameters)
        for name, value in params.items():
            where = f"technologies.overrides.{key}.{name}"
            if name not in new:
                raise InputError(source, where, f"unknown parameter; {key} has {sorted(new)}")
            old = new[name]
            if isinstance(old.value, str) != isinstance(value, str) or (not isinstance(value, str) and not _num(value)):
                raise InputError(source, where, f"{value!r} has the wrong type; expected {type(old.value).__name__}")
            if _num(value) and (not math.isfinite(value) or (old.is_money and value < 0)):
                raise InputError(source, where, f"{value!r} is not a valid value (finite, costs >= 0)")
            if name in PARAMETERS and _num(value):
                _check_bounds(PARAMETERS[name], value, where, source)
            if name in PARAMETERS and isinstance(value, str):
                _check_value(PARAMETERS[name], value, where, source)
            new[name] = replace(old, value=value, source=f"scenario override ({source})", overridden=True,
                                note=f"catalogue value {old.value} {old.unit} ({old.source}, {old.year})")
        out[key] = replace(tech, parameters=new)
    return out


def in_base_year(catalogue: Catalogue, base_year: int) -> Catalogue:
    """Restate every money parameter (unit containing USD) in constant USD of `base_year`."""
    out: Catalogue = {}
    for key, tech in catalogue.items():
        params = {}
        for name, p in tech.parameters.items():
            if p.is_money and _num(p.value) and not p.overridden:
                f = inflation_factor(p.year, base_year)
                p = replace(p, value=p.value * f, low=None if p.low is None else p.low * f,
                            high=None if p.high is None else p.high * f)
            params[name] = p
        out[key] = replace(tech, parameters=params)
    return out


def resolve_catalogue(enabled: list[str], overrides: dict[str, dict[str, Any]], base_year: int,
                      source: str, path: str | Path | None = None) -> Catalogue:
    """The catalogue a scenario runs with: checked, overridden, in base-year money.

    Parameters
    ----------
    enabled : list of str
        Catalogue keys the scenario enables.
    overrides : dict
        The scenario's overrides (see `apply_overrides`), money in constant USD of `base_year`.
    base_year : int
        Year of the constant USD every money parameter is restated in (US CPI-U).
    source : str
        The scenario file, named in errors.
    path : str or Path or None, default None
        A catalogue file; None: the packaged ``technologies.yaml``.

    Returns
    -------
    Catalogue
        The checked catalogue in base-year USD with the overrides applied.

    Raises
    ------
    InputError
        When the catalogue file is unreadable or breaks its schema, an enabled technology is unknown, or
        an override is invalid.
    """
    cat = read_catalogue(path)
    unknown = [t for t in enabled if t not in cat]
    if unknown:
        raise InputError(source, "technologies.enabled", f"unknown technology {unknown}; expected some of {sorted(cat)}")
    cat = in_base_year(cat, base_year)
    return apply_overrides(cat, overrides, source)


def to_records(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Flat rows (technology, parameter, value, unit, low, high, source, year, confidence, note)."""
    rows = []
    for key, tech in catalogue.items():
        for name, p in tech.parameters.items():
            rows.append({"technology": key, "option": tech.option, "parameter": name, "value": p.value,
                         "unit": p.unit, "low": p.low, "high": p.high, "source": p.source, "year": p.year,
                         "confidence": p.confidence, "note": p.note})
    return rows
