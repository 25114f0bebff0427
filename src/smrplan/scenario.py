"""Scenario files: YAML validated with pydantic v2.

A scenario is deep-merged over `scenarios/defaults.yaml` (every default number lives there with its
source), then validated. Unknown keys are errors; every error names the scenario file and the field.
Bundled scenarios live in `scenarios/*.yaml` and are addressed by name (e.g. ``india-islands``).
"""

from __future__ import annotations

import copy
import zoneinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smrplan.errors import InputError
from smrplan.limits import data_limits
from smrplan.options import REACTOR_OPTIONS
from smrplan.yamltext import parse_yaml

if TYPE_CHECKING:
    ReactorOption = str
else:
    # One of the vocabulary's reactor options (data/options.csv); checked by pydantic, a plain string to a type checker.
    ReactorOption = Literal[REACTOR_OPTIONS]

_SCENARIO_PKG = "smrplan.scenarios"
LAYER_NAMES = (
    "settlements", "land", "districts", "power_plants", "grid_lines", "grid_nodes", "seismic_zones",
    "faults", "earthquakes", "cyclone_tracks", "protected_areas", "airports", "hazardous_facilities",
    "tsunami", "bathymetry", "dem", "candidates", "anchor_loads", "towns", "postal_places", "district_population",
    "substations", "electrification_districts", "electrification_states", "lakes", "rivers", "dams",
    "coal_units", "district_seismic_zones",
)
# Inland water layers (smrplan.geo.layers): lake and reservoir polygons, river lines (optional
# `wdb_level`), dam points with `gross_storage_mcm` (million m3).
WATER_LAYERS = ("lakes", "rivers", "dams")
# Statistics tables (no geometry) read by smrplan.geo.grid_status, not as layers.
STATISTICS_LAYERS = ("electrification_districts", "electrification_states")
# District tables joined to the district polygons as a layer (smrplan.geo.coal.district_seismic_zones).
DISTRICT_TABLES = ("district_seismic_zones",)
STUDIES = ("settlements", "coal_repowering")
# Layers that settlements are built from when a scenario has no `settlements` layer (with `districts`;
# see smrplan.geo.layers.build_settlements).
BUILD_LAYERS = ("towns", "postal_places", "district_population")


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class _Strict(BaseModel):
    # strict: a boolean is never taken for a number, nor a number for text
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class Region(_Strict):
    name: str
    metric_crs: str
    extent: str
    timezone: str
    grid_nodes: str | None
    fuel_depots: str | None
    fuel_depot_reach_km: float = Field(ge=0, le=1000)
    land_tolerance_km: float = Field(ge=0, le=10)
    water_gap_km: float = Field(ge=0, le=50)
    mainland_min_area_km2: float = Field(gt=0)

    @field_validator("metric_crs")
    @classmethod
    def _projected_crs(cls, v: str) -> str:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            crs = CRS.from_user_input(v)
        except CRSError:
            raise ValueError(f"unknown CRS {v!r}; expected a projected CRS in metres such as EPSG:24047") from None
        if not crs.is_projected:
            raise ValueError(f"{v!r} is not a projected CRS (distances need metres), e.g. EPSG:24047")
        return v

    @field_validator("extent")
    @classmethod
    def _known_extent(cls, v: str) -> str:
        regions = sorted(data_limits()["regions"])
        if v not in regions:
            raise ValueError(f"unknown region box {v!r}; expected one of {regions} (data/data_checks.yaml)")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        if v not in _time_zones():
            raise ValueError(f"unknown time zone {v!r}; expected an IANA tz database name such as Asia/Kolkata")
        return v


class Demand(_Strict):
    population_base_year: int = Field(ge=1900, le=2100)
    population_growth_per_year: float = Field(ge=-0.1, le=0.2)
    household_size_rural: float = Field(gt=0, le=20)
    household_size_urban: float = Field(gt=0, le=20)
    tier: int = Field(ge=1, le=5)
    tier_kwh_per_household_year: list[float] = Field(min_length=5, max_length=5)
    non_residential_share: float = Field(ge=0, lt=1)
    consumption_growth_per_year: float = Field(ge=-0.1, le=0.3)
    load_factor: float = Field(gt=0.05, le=1)
    load_shape: str
    anchor_load_factor: float = Field(gt=0, le=1)
    anchor_join_max_km: float = Field(ge=0, le=200)

    @field_validator("tier_kwh_per_household_year")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if any(b < a for a, b in zip(v, v[1:], strict=False)) or v[0] < 0:
            raise ValueError("tier thresholds must be non-negative and increasing (T1..T5)")
        return v


class Finance(_Strict):
    discount_rate: float = Field(ge=0, le=0.5)
    base_year: int = Field(ge=1990, le=2100)
    inr_per_usd: float = Field(gt=0, le=1000)  # 83 INR/USD in 2024 (RBI reference rate); 1000 is a typo guard
    horizon_years: int = Field(ge=1, le=100)
    carbon_price_usd_per_t: float = Field(ge=0, le=10000)


class Technologies(_Strict):
    enabled: list[str] = Field(min_length=1)
    overrides: dict[str, dict[str, float | int | str]]
    reactor_backup: Literal["cheapest", "n_plus_1", "diesel"]


class Siting(_Strict):
    rules: str = Field(min_length=1)
    land_ring_km: list[float]
    micro_ring_km: list[float]
    floating_offshore_km: list[float]
    floating_coast_search_km: float = Field(gt=0, le=200)
    floating_spacing_km: float = Field(gt=0, le=50)
    h3_resolution: int = Field(ge=0, le=12)
    ring_min_population: float = Field(ge=0)
    exclusion_zone_km: float = Field(ge=0, le=50)
    micro_exclusion_zone_km: float = Field(ge=0, le=50)
    sterilised_zone_km: float = Field(ge=0, le=100)
    sterilised_zone_max_population: float = Field(ge=0)
    emergency_planning_zone_km: float = Field(ge=0, le=100)
    density_radius_km: float = Field(gt=0, le=100)
    density_max_per_km2: float = Field(gt=0)
    population_centre_min_population: float = Field(ge=0)
    population_centre_min_distance_km: float = Field(ge=0, le=200)
    floating_max_shore_km: float = Field(gt=0, le=100)
    floating_min_depth_m: float = Field(ge=0)
    floating_max_depth_m: float = Field(gt=0)
    floating_max_open_sea_share: float = Field(ge=0, le=1)
    cooling_water_max_km: float = Field(ge=0)
    cooling_water_min_storage_mcm: float = Field(ge=0)
    cooling_water_max_river_level: int = Field(ge=1, le=10)
    earthquake_radius_km: float = Field(gt=0, le=1000)
    earthquake_max_magnitude: float = Field(gt=0, le=10)
    earthquake_count_magnitude: float = Field(gt=0, le=10)
    earthquake_max_count: int = Field(ge=0)
    capable_fault_min_km: float = Field(ge=0)
    excluded_seismic_zones: list[str]
    cyclone_radius_km: float = Field(gt=0, le=1000)
    cyclone_min_wind_kt: float = Field(ge=0)
    cyclone_max_per_decade: float = Field(ge=0)
    airport_buffer_km: float = Field(ge=0)
    hazardous_buffer_km: float = Field(ge=0)
    protected_area_buffer_km: float = Field(ge=0)
    max_slope_percent: float = Field(gt=0, le=1000)
    min_elevation_m: float | None = Field(ge=-500, le=9000)
    max_elevation_m: float | None = Field(ge=-500, le=9000)
    tsunami_buffer_km: float = Field(ge=0, le=100)

    @field_validator("land_ring_km", "micro_ring_km", "floating_offshore_km")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if any(x <= 0 or x > 200 for x in v):
            raise ValueError("ring distances must be in (0, 200] km")
        return v

    @model_validator(mode="after")
    def _ranges(self) -> Siting:
        if self.floating_min_depth_m > self.floating_max_depth_m:
            raise ValueError("floating_min_depth_m must not exceed floating_max_depth_m")
        if self.min_elevation_m is not None and self.max_elevation_m is not None \
                and self.min_elevation_m > self.max_elevation_m:
            raise ValueError("min_elevation_m must not exceed max_elevation_m")
        return self


class Optimisation(_Strict):
    enabled: bool
    max_network_distance_km: float = Field(gt=0, le=2000)
    mip_gap: float = Field(ge=0, le=1)
    time_limit_s: float = Field(gt=0)
    search_time_fraction: float = Field(ge=0, lt=1)
    search_window_assignments: int = Field(ge=1)
    max_sites: int | None = Field(default=None, ge=0)
    min_reactor_share: float = Field(ge=0, le=1)
    cluster_km: float = Field(ge=0)
    cluster_max_km: float = Field(ge=0)
    cluster_split_peak_kw: float = Field(gt=0)
    cluster_above: int = Field(ge=1)
    max_assignments: int = Field(ge=1)
    nearest_sites: int = Field(ge=1)
    reserve_margin_fraction: float = Field(ge=0, le=2)
    # {settlement column: {value: [reactor options allowed there]}}; values not listed allow every option.
    allowed_options_by_region: dict[str, dict[str, list[ReactorOption]]] = Field(default_factory=dict)


class Dispatch(_Strict):
    max_unserved_fraction: float = Field(ge=0, le=1)
    mean_repair_hours: float = Field(gt=0)
    diesel_unit_fraction_of_peak: float = Field(gt=0, le=1)
    battery_initial_soc_fraction: float = Field(ge=0, le=1)
    pv_system_loss_fraction: float = Field(ge=0, lt=1)
    pv_lattice_step_deg: float | None = Field(gt=0, le=10)
    monthly_derate: str
    pv_tmy: str | None
    seed: int = Field(ge=0)
    max_standalone_systems: int = Field(ge=0)
    chunk_systems: int = Field(ge=1, le=100000)


class Outputs(_Strict):
    """What a run writes (scenarios/defaults.yaml, `outputs`): the report, the tornado, the dispatch
    stage, copies of the tables (csv, parquet) and which systems keep their hourly series."""

    report: bool
    sensitivity: bool
    dispatch: bool
    formats: list[Literal["gpkg", "csv", "parquet"]]
    dispatch_hourly: Literal["sample", "all"]
    dispatch_sample_systems_per_option: int = Field(ge=0)


class Repowering(_Strict):
    """Coal-unit repowering (study ``coal_repowering``; smrplan.siting.repowering, smrplan.costs.repowering).
    Every default number is in data/coal_repowering.yaml; `overrides` replaces single values."""

    designs: list[str] = Field(min_length=1)
    large_reference: str = Field(min_length=1)
    statuses: list[str] = Field(min_length=1)
    retiring_by: int | None = Field(ge=2000, le=2100)
    overrides: dict[str, float]
    draws: int = Field(ge=0, le=100000)
    seed: int = Field(ge=0)


class Roadmap(_Strict):
    """Decision periods and programme limits of a roadmap (smrplan.optimize.roadmap): periods from
    first_year to last_year every step_years (years), modules started per period (all designs), capex
    committed per period (USD of the base year), whether the myopic plan is solved for comparison, how
    many plants get "why this order" (two re-solves each), and the solution method: the full
    perfect-foresight model or a rolling horizon looking lookahead_periods periods ahead."""

    first_year: int = Field(ge=2000, le=2100)
    last_year: int = Field(ge=2000, le=2100)
    step_years: int = Field(ge=1, le=50)
    max_modules_started_per_period: int | None = Field(ge=0)
    budget_usd_per_period: float | None = Field(gt=0)
    myopic_comparison: bool
    explain_order_max_plants: int = Field(ge=0, le=1000)
    method: Literal["full", "rolling"]
    lookahead_periods: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _order(self) -> Roadmap:
        if self.last_year < self.first_year:
            raise ValueError(f"last_year ({self.last_year}) precedes first_year ({self.first_year})")
        return self

    @property
    def years(self) -> list[int]:
        """The first year of every period."""
        return list(range(self.first_year, self.last_year + 1, self.step_years))


class UncertainParameter(_Strict):
    """One uncertain input of a Monte Carlo sweep (see uncertainty.py for targets and distributions).
    low/high left out take the catalogue's range of the parameter."""

    target: str = Field(pattern=r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
    distribution: Literal["triangular", "uniform", "lognormal"]
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _range(self) -> UncertainParameter:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) is greater than high ({self.high})")
        return self


class Correlation(_Strict):
    """Targets drawn together: equicorrelated normal scores (one-factor Gaussian copula), rho in [0, 1]."""

    parameters: list[str] = Field(min_length=2)
    rho: float = Field(ge=0, le=1)


class Uncertainty(_Strict):
    draws: int = Field(ge=1)
    seed: int = Field(ge=0)
    batch_draws: int = Field(ge=1)
    parameters: list[UncertainParameter]
    correlations: list[Correlation]

    @model_validator(mode="after")
    def _targets(self) -> Uncertainty:
        targets = [p.target for p in self.parameters]
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            raise ValueError(f"parameters: target(s) {repeated} listed more than once")
        grouped: list[str] = []
        for i, group in enumerate(self.correlations):
            unknown = [t for t in group.parameters if t not in targets]
            if unknown:
                raise ValueError(f"correlations.{i}.parameters: {unknown} not among the parameters' targets")
            grouped += group.parameters
        twice = sorted({t for t in grouped if grouped.count(t) > 1})
        if twice:
            raise ValueError(f"correlations: target(s) {twice} in more than one group (or twice in one)")
        return self


class Alternatives(_Strict):
    """Near-optimal alternatives (smrplan.optimize.alternatives): the cost slack over the least cost
    (fraction), the random directions over the build variables and their seed."""

    cost_slack_fraction: float = Field(gt=0, le=1)
    random_directions: int = Field(ge=0, le=1000)
    seed: int = Field(ge=0)


class Scale(_Strict):
    """How the per-settlement stages and the site screen are run (smrplan.partition): partitioned above
    `partition_above_settlements` settlements (or always on a Dask cluster), `partition_settlements`
    settlements a partition; the screen above `partition_above_candidates` candidate sites (or always on
    a cluster), `partition_candidates` candidates a partition."""

    partition_above_settlements: int = Field(ge=0)
    partition_settlements: int = Field(ge=1)
    partition_above_candidates: int = Field(ge=0)
    partition_candidates: int = Field(ge=1)


class Scenario(_Strict):
    """A validated scenario. `source` is the file it came from (or the bundled name)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str
    target_year: int = Field(ge=2000, le=2100)
    data_dir: str | None
    data: dict[str, str]
    data_gaps: dict[str, str]
    region: Region
    demand: Demand
    finance: Finance
    technologies: Technologies
    siting: Siting
    optimisation: Optimisation
    dispatch: Dispatch
    outputs: Outputs
    uncertainty: Uncertainty
    study: Literal["settlements", "coal_repowering", "roadmap"]
    repowering: Repowering
    roadmap: Roadmap
    alternatives: Alternatives
    scale: Scale
    source: str = ""

    @field_validator("data")
    @classmethod
    def _known_layers(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(LAYER_NAMES))
        if unknown:
            raise ValueError(f"unknown layer(s) {unknown}; expected some of {list(LAYER_NAMES)}")
        built = [k for k in BUILD_LAYERS if k in v]
        if "settlements" in v:
            if built:
                raise ValueError(f"give either a 'settlements' layer or the layers to build settlements from, "
                                 f"not both: remove {built} or 'settlements'")
            return v
        if not built:
            raise ValueError("a 'settlements' layer is required (or 'towns' and/or 'postal_places' with "
                             "'districts' and 'district_population' to build settlements)")
        missing = [k for k in ("districts", "district_population") if k not in v]
        if "towns" not in v and "postal_places" not in v:
            missing.insert(0, "towns or data.postal_places")
        if missing:
            raise ValueError(f"building settlements needs data.{' and data.'.join(missing)} (towns and/or "
                             "postal_places, districts and district_population), or give a 'settlements' layer")
        return v

    @model_validator(mode="after")
    def _gaps(self) -> Scenario:
        unknown = sorted(set(self.data_gaps) - set(LAYER_NAMES))
        if unknown:
            raise ValueError(f"data_gaps: unknown layer(s) {unknown}; expected some of {list(LAYER_NAMES)}")
        given = sorted(set(self.data_gaps) & set(self.data))
        if given:
            raise ValueError(f"data_gaps names layer(s) {given} that data gives; remove them from one of the two")
        return self

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.target_year < self.demand.population_base_year:
            raise ValueError("target_year must not precede demand.population_base_year")
        if self.study == "coal_repowering" and "coal_units" not in self.data:
            raise ValueError("study coal_repowering needs data.coal_units (a Global Coal Plant Tracker table)")
        if "district_seismic_zones" in self.data and "districts" not in self.data:
            raise ValueError("data.district_seismic_zones needs data.districts (the district polygons it joins to)")
        if self.roadmap.first_year < self.demand.population_base_year:
            raise ValueError("roadmap.first_year must not precede demand.population_base_year")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the resolved scenario (defaults included), without the `source` field."""
        d = self.model_dump(mode="json")
        d.pop("source", None)
        return d


def bundled_names() -> list[str]:
    """Names of the scenarios bundled with the package."""
    files = resources.files(_SCENARIO_PKG).iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".yaml") and f.name != "defaults.yaml")


def bundled_text(name: str) -> str:
    """YAML text of a bundled scenario."""
    if name not in bundled_names():
        raise InputError(None, "scenario", f"no bundled scenario {name!r}; bundled: {bundled_names()}")
    return resources.files(_SCENARIO_PKG).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def defaults() -> dict[str, Any]:
    """The default values every scenario is merged over."""
    text = resources.files(_SCENARIO_PKG).joinpath("defaults.yaml").read_text(encoding="utf-8")
    return parse_yaml(text)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ("data", "overrides"):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see `smrplan scenario show india-islands`)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


class SitingRule(_Strict):
    """One rule of a siting rule set: its value (unit in the key's name), source and year."""

    value: int | float  # an int stays an int (whole-number rules such as a river level)
    source: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)


class SitingRuleSet(_Strict):
    """A siting rule set file (data/siting_rules_<name>.yaml or a user file): every key of `RULE_KEYS`."""

    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    rules: dict[str, SitingRule]

    @field_validator("rules")
    @classmethod
    def _all_keys(cls, v: dict[str, SitingRule]) -> dict[str, SitingRule]:
        missing, unknown = set(RULE_KEYS) - set(v), set(v) - set(RULE_KEYS)
        if missing or unknown:
            raise ValueError(f"rule keys must be exactly {list(RULE_KEYS)}; missing {sorted(missing)}, "
                             f"unknown {sorted(unknown)}")
        return v


RULE_KEYS = ("exclusion_zone_km", "sterilised_zone_km", "sterilised_zone_max_population", "emergency_planning_zone_km",
             "density_radius_km", "density_max_per_km2", "population_centre_min_population",
             "population_centre_min_distance_km", "cooling_water_max_km",
             "cooling_water_min_storage_mcm", "cooling_water_max_river_level", "capable_fault_min_km")
RULE_SETS = ("aerb", "nrc-or-sage")


def rule_set_path(ref: str, base: Path | None = None) -> Path:
    """The file of a siting rule set: a bundled name (`RULE_SETS`) or a YAML path (relative paths from
    `base`, the scenario file's folder, when given)."""
    if ref in RULE_SETS:
        return Path(str(resources.files("smrplan.data").joinpath(f"siting_rules_{ref}.yaml")))
    path = Path(ref)
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def siting_rule_set(ref: str, base: Path | None = None, source: str | None = None) -> SitingRuleSet:
    """Read and validate a siting rule set (`rule_set_path`); its values are checked against the
    bounds of `Siting`.

    Parameters
    ----------
    ref : str
        A rule set name (`RULE_SETS`) or the path of a YAML rule set file.
    base : Path or None
        Folder relative file paths start from (the scenario file's folder).
    source : str or None
        The scenario naming the rule set, named in the error when the rule set does not exist.

    Returns
    -------
    SitingRuleSet
        Name, title and every rule of `RULE_KEYS` with value, source and year.

    Raises
    ------
    InputError
        When the name is not a bundled rule set and no such file exists, or the file breaks the schema.
    """
    path = rule_set_path(ref, base)
    if not path.is_file():
        raise InputError(source, "siting.rules", f"{ref!r} is neither a rule set ({', '.join(RULE_SETS)}) "
                                               "nor an existing YAML file")
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
        rule_set = SitingRuleSet.model_validate(raw)
        Siting.model_validate({**defaults()["siting"], **{k: r.value for k, r in rule_set.rules.items()}})
    except yaml.YAMLError as exc:
        raise InputError(path, None, f"unreadable YAML ({exc})") from None
    except ValidationError as exc:
        raise InputError(path, None, _format_validation(exc)) from None
    return rule_set


def _with_rule_set(merged: dict[str, Any], raw: dict[str, Any], source: str) -> dict[str, Any]:
    """The merged scenario with the siting rule set's values under the scenario's own siting keys;
    a rule-set file's path is made absolute."""
    siting = merged.get("siting")
    if not isinstance(siting, dict) or not isinstance(siting.get("rules"), str):
        return merged
    base = Path(source).parent if Path(source).is_file() else None
    ref = siting["rules"]
    rule_set = siting_rule_set(ref, base, source)
    raw_siting = raw.get("siting")
    own: dict = raw_siting if isinstance(raw_siting, dict) else {}
    values = {k: r.value for k, r in rule_set.rules.items() if k not in own}
    path = ref if ref in RULE_SETS else str(rule_set_path(ref, base).resolve())
    return {**merged, "siting": {**siting, **values, "rules": path}}


def parse_scenario(raw: Any, source: str) -> Scenario:
    """Validate a scenario mapping (already read from YAML) merged over the defaults and the siting
    rule set it names (`siting.rules`). A mapping with a ``roadmap`` block and no ``study`` is a
    roadmap study."""
    if not isinstance(raw, dict):
        raise InputError(source, None, "a scenario must be a YAML mapping of keys to values")
    if "roadmap" in raw and "study" not in raw:  # a scenario that sets out a roadmap studies it (`smrplan run`)
        raw = {**raw, "study": "roadmap"}
    merged = _with_rule_set(_merge(defaults(), raw), raw, source)
    try:
        return Scenario.model_validate({**merged, "source": source})
    except ValidationError as exc:
        raise InputError(source, None, _format_validation(exc)) from None


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario by bundled name or by path to a YAML file."""
    ref_str = str(ref)
    path = Path(ref_str)
    if ref_str in bundled_names() and not path.exists():
        text, source = bundled_text(ref_str), f"<bundled scenario {ref_str}>"
    else:
        if not path.exists():
            raise InputError(path, None,
                             f"scenario file not found (bundled scenarios: {', '.join(bundled_names())})")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(path, None, "not UTF-8 text; save the scenario as UTF-8 YAML") from None
        except OSError as exc:
            raise InputError(path, None, f"cannot read: {exc.strerror}") from None
        source = str(path)
    try:
        raw = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputError(source, where, f"unreadable YAML ({getattr(exc, 'problem', exc)})") from None
    except RecursionError:
        raise InputError(source, None, "YAML nested too deeply; a scenario is a few levels of keys") from None
    try:
        return parse_scenario(raw, source)
    except RecursionError:
        raise InputError(source, None, "YAML nested too deeply; a scenario is a few levels of keys") from None


class UniqueKeyLoader(yaml.SafeLoader):
    """A YAML SafeLoader that refuses a key given twice in one mapping (the last would win silently)."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict) or key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice (line {mark.line + 1}); keep one", mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def apply_data_dir(scenario: Scenario, data_dir: str | Path | None) -> Scenario:
    """Return the scenario with `data_dir` set (the CLI's --data-dir wins over the file)."""
    if data_dir is None:
        return scenario
    return scenario.model_copy(update={"data_dir": str(data_dir)})


def resolve_scenario(scenario: str | Path | Scenario, data_dir: str | Path | None = None) -> Scenario:
    """A scenario from a bundled name, a YAML path or a Scenario, with `data_dir` applied."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return apply_data_dir(sc, data_dir)


def scenario_yaml(scenario: Scenario) -> str:
    """The scenario as YAML, every default resolved (a run directory's scenario.yaml)."""
    return yaml.safe_dump(scenario.to_dict(), sort_keys=False, allow_unicode=True)


def with_alternatives(scenario: Scenario, *, random_directions: int | None = None,
                      slack: float | None = None) -> Scenario:
    """The scenario with the `alternatives` block's random directions and cost slack replaced where
    given (validated by the block's schema).

    Parameters
    ----------
    scenario : Scenario
        The scenario; not modified.
    random_directions : int or None, default None
        Random directions of the near-optimal alternatives.
    slack : float or None, default None
        Cost slack (fraction of the least cost).

    Returns
    -------
    Scenario
        A copy with the given values (the scenario itself when none is given).

    Raises
    ------
    InputError
        Naming `--random-directions` or `--slack` and the bound a value breaks.
    """
    updates = {k: v for k, v in (("random_directions", random_directions), ("cost_slack_fraction", slack))
               if v is not None}
    if not updates:
        return scenario
    try:
        block = Alternatives.model_validate({**scenario.alternatives.model_dump(), **updates})
    except ValidationError as exc:
        e = exc.errors()[0]
        option = {"random_directions": "--random-directions", "cost_slack_fraction": "--slack"}.get(str(e["loc"][0]),
                                                                                                   "alternatives")
        raise InputError(scenario.source, option, f"{e['msg']} (alternatives.{e['loc'][0]})") from None
    return scenario.model_copy(update={"alternatives": block})


def with_outputs(scenario: Scenario, csv: bool = False, all_dispatch: bool = False) -> Scenario:
    """Return the scenario with the outputs a command line asked for added (`smrplan run --csv`,
    ``--all-dispatch``); its scenario.yaml then records them.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    csv : bool, default False
        Add ``csv`` to `outputs.formats` (CSV copies of the tables).
    all_dispatch : bool, default False
        Set `outputs.dispatch_hourly` to ``all`` (every simulated system's hourly series).

    Returns
    -------
    Scenario
        A copy with the outputs added (`scenario` itself when nothing is asked for).
    """
    out = scenario.outputs
    update: dict[str, Any] = {}
    if csv and "csv" not in out.formats:
        update["formats"] = [*out.formats, "csv"]
    if all_dispatch:
        update["dispatch_hourly"] = "all"
    return scenario.model_copy(update={"outputs": out.model_copy(update=update)}) if update else scenario
