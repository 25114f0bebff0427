"""Uncertain inputs: the scenario's `uncertainty.parameters` resolved against the catalogue, and
how draw i gets its values.

Each target has one distribution (triangular: mode = base value; uniform; lognormal: median = base
value, log-sd = ln(high/low) / (2 z95), truncated to [low, high]); low/high default to the
catalogue's range. A `reactors.<parameter>` target moves every enabled reactor technology by one
shared uniform draw, each within its own range (fully correlated). Correlation groups give
equicorrelated normal scores (one-factor Gaussian copula): z = sqrt(rho) f + sqrt(1 - rho) e. Draw i
takes its normal scores from child i of numpy `SeedSequence(seed)` (spawn key (i,)), so a draw's
inputs depend only on the seed, the block and i, never on batches or workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError
from scipy.special import ndtr, ndtri

from smrplan.catalogue.catalogue import Catalogue, resolve_catalogue
from smrplan.costs.economics import by_option, first_of
from smrplan.errors import InputError
from smrplan.options import KIND_OPTION
from smrplan.scenario import Demand, Finance, Scenario

SCENARIO_TARGETS = ("finance.discount_rate", "demand.population_growth_per_year", "demand.tier_kwh_scale")
GROUP_HEAD = "reactors"


@dataclass(frozen=True)
class Distribution:
    """One resolved entry of `uncertainty.parameters`: its input columns (one per technology for a
    `reactors.` group, all moved by the same draw) with low, base (mode or median) and high each."""

    target: str
    kind: str  # triangular | uniform | lognormal
    columns: tuple[str, ...]
    low: np.ndarray
    base: np.ndarray
    high: np.ndarray

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Values (B draws x columns) at uniform quantiles u (B,), inside [low, high]."""
        a, c, b = self.low, self.base, self.high
        u = np.asarray(u, float)[:, None]
        w = b - a
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "uniform":
                x = a + u * w
            elif self.kind == "triangular":
                fc = np.where(w > 0, (c - a) / w, 0.0)
                x = np.where(u < fc, a + np.sqrt(u * w * (c - a)), b - np.sqrt((1.0 - u) * w * (b - c)))
            else:  # lognormal, median c, log-sd ln(b/a) / (2 z95), truncated to [a, b]
                sigma = np.log(b / a) / (2.0 * ndtri(0.95))
                lo, hi = ndtr((np.log(a) - np.log(c)) / sigma), ndtr((np.log(b) - np.log(c)) / sigma)
                x = np.where(b > a, np.exp(np.log(c) + sigma * ndtri(lo + u * (hi - lo))), c)
        return np.clip(np.where(w > 0, x, a), a, b)

    def record(self) -> dict:
        return {"target": self.target, "distribution": self.kind,
                "columns": [{"column": col, "low": float(lo), "base": float(ba), "high": float(hi)}
                            for col, lo, ba, hi in zip(self.columns, self.low, self.base, self.high, strict=True)]}


@dataclass(frozen=True)
class Sampler:
    """The uncertain inputs of a scenario and how draw i gets its values."""

    distributions: tuple[Distribution, ...]
    group_of: tuple[int, ...]  # per distribution: index of its correlation group, or -1
    rho: tuple[float, ...]  # per correlation group
    seed: int

    @property
    def columns(self) -> list[str]:
        return [c for d in self.distributions for c in d.columns]

    def scores(self, draw_ids: np.ndarray) -> np.ndarray:
        """Normal scores (B x distributions): draw i from child i of SeedSequence(seed)."""
        n, g = len(self.distributions), len(self.rho)
        z = np.array([np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(int(i),)))
                      .standard_normal(n + g) for i in draw_ids]).reshape(len(draw_ids), n + g)
        out = z[:, :n].copy()
        for p, grp in enumerate(self.group_of):
            if grp >= 0:
                out[:, p] = np.sqrt(self.rho[grp]) * z[:, n + grp] + np.sqrt(1.0 - self.rho[grp]) * z[:, p]
        return out

    def values(self, draw_ids: np.ndarray) -> np.ndarray:
        """Input values (B draws x columns) of the given draw indices."""
        return self.at_quantiles(ndtr(self.scores(np.asarray(draw_ids))))

    def at_quantiles(self, u: np.ndarray) -> np.ndarray:
        """Input values (B rows x columns) at uniform quantiles u (B rows x distributions, each in
        [0, 1]): distribution p's columns at its quantile u[:, p] (no correlation applied)."""
        u = np.asarray(u, float)
        parts = [d.quantile(u[:, p]) for p, d in enumerate(self.distributions)]
        return np.hstack(parts) if parts else np.zeros((len(u), 0))

    def base(self) -> np.ndarray:
        return np.concatenate([d.base for d in self.distributions]) if self.distributions else np.zeros(0)

    def one_at_a_time(self) -> np.ndarray:
        """Rows: all inputs at base, then for each distribution its columns at low, then at high."""
        base = self.base()
        rows = [base]
        start = 0
        for d in self.distributions:
            sl = slice(start, start + len(d.columns))
            for end in (d.low, d.high):
                row = base.copy()
                row[sl] = end
                rows.append(row)
            start = sl.stop
        return np.array(rows)


def _reactor_techs(cat: Catalogue, scenario: Scenario) -> list[str]:
    groups = by_option(cat, scenario.technologies.enabled)
    return [t.key for option in KIND_OPTION.values() for t in groups[option]]


def _used_techs(cat: Catalogue, scenario: Scenario) -> set[str]:
    """Enabled technologies plus the single entries the cost engine always reads (first_of)."""
    return set(scenario.technologies.enabled) | {first_of(cat, o).key for o in
                                                 ("diesel", "pv_battery", "grid_extension", "submarine_cable")}


def _scenario_base(scenario: Scenario, target: str) -> float:
    if target == "finance.discount_rate":
        return scenario.finance.discount_rate
    if target == "demand.population_growth_per_year":
        return scenario.demand.population_growth_per_year
    return 1.0  # demand.tier_kwh_scale multiplies the scenario's tier threshold


def _check_scenario_value(scenario: Scenario, target: str, value: float, where: str) -> None:
    """A drawn scenario value must pass the scenario's own validation (e.g. discount rate >= 0)."""
    try:
        if target == "finance.discount_rate":
            Finance.model_validate({**scenario.finance.model_dump(), "discount_rate": value})
        elif target == "demand.population_growth_per_year":
            Demand.model_validate({**scenario.demand.model_dump(), "population_growth_per_year": value})
        else:
            tiers = [v * value for v in scenario.demand.tier_kwh_per_household_year]
            Demand.model_validate({**scenario.demand.model_dump(), "tier_kwh_per_household_year": tiers})
    except ValidationError as exc:
        msg = "; ".join(e["msg"] for e in exc.errors())
        raise InputError(scenario.source, where, f"{value} is not a valid {target}: {msg}") from None


Column = tuple[str, float, float, float]  # input column, low, base, high


def _scenario_columns(scenario: Scenario, p, where: str) -> list[Column]:
    """The one column of a `finance.` / `demand.` target: its range must be given and valid."""
    src = scenario.source
    if p.target not in SCENARIO_TARGETS:
        raise InputError(src, f"{where}.target", f"unknown target {p.target!r}; scenario targets are {list(SCENARIO_TARGETS)}")
    if p.low is None or p.high is None:
        raise InputError(src, f"{where}.low" if p.low is None else f"{where}.high",
                         f"required for {p.target}, which has no catalogue range")
    for key, value in (("low", p.low), ("high", p.high)):
        _check_scenario_value(scenario, p.target, value, f"{where}.{key}")
    return [(p.target, p.low, _scenario_base(scenario, p.target), p.high)]


def _target_technologies(scenario: Scenario, cat: Catalogue, p, head: str, where: str) -> list[str]:
    """Catalogue keys a technology target moves: every enabled reactor for `reactors.`, else one."""
    src = scenario.source
    if head == GROUP_HEAD:
        if p.low is not None or p.high is not None:
            raise InputError(src, f"{where}.low" if p.low is not None else f"{where}.high",
                             "a reactors. group takes each technology's catalogue range; "
                             "list technologies one by one to give ranges")
        reactors = _reactor_techs(cat, scenario)
        if not reactors:
            raise InputError(src, f"{where}.target", "no reactor technology is enabled")
        return reactors
    if head not in cat:
        raise InputError(src, f"{where}.target", f"unknown technology {head!r}; expected "
                         f"'{GROUP_HEAD}', 'finance', 'demand' or one of {sorted(cat)}")
    if head not in _used_techs(cat, scenario):
        raise InputError(src, f"{where}.target", f"{head} is not used by this scenario; add it to technologies.enabled")
    return [head]


def _catalogue_column(scenario: Scenario, cat: Catalogue, p, key: str, name: str, where: str) -> Column:
    """One technology parameter's column: range from the block or the catalogue (stretched to include
    a base value moved outside it by a scenario override)."""
    src = scenario.source
    param = cat[key].parameters.get(name)
    if param is None or isinstance(param.value, str):
        numeric = sorted(n for n, q in cat[key].parameters.items() if not isinstance(q.value, str))
        raise InputError(src, f"{where}.target", f"{key} has no numeric parameter {name!r}; numeric parameters: {numeric}")
    low = p.low if p.low is not None else param.low
    high = p.high if p.high is not None else param.high
    if low is None or high is None:
        raise InputError(src, f"{where}.low", f"{key}.{name} has no catalogue range; give low and high")
    if p.low is None:
        low = min(low, float(param.value))
    if p.high is None:
        high = max(high, float(param.value))
    if param.is_money and low < 0:
        raise InputError(src, f"{where}.low", f"negative cost {low} for {key}.{name}")
    return (f"{key}.{name}", float(low), float(param.value), float(high))


def _check_columns(src, p, where: str, cols: list[Column], drawn_by: dict[str, str]) -> None:
    """Each input drawn once; low <= base <= high where the distribution needs it; lognormal low > 0."""
    for col, low, base, high in cols:
        if col in drawn_by:
            raise InputError(src, f"{where}.target", f"{col} is already drawn by {drawn_by[col]!r}")
        drawn_by[col] = p.target
        if low > high:
            raise InputError(src, where, f"low ({low}) is greater than high ({high}) for {col}")
        if p.distribution != "uniform" and not low <= base <= high:
            raise InputError(src, where, f"the base value of {col} ({base}) lies outside [{low}, {high}]; "
                             f"a {p.distribution} distribution needs it inside (give low and high)")
        if p.distribution == "lognormal" and low <= 0:
            raise InputError(src, f"{where}.low", f"a lognormal distribution needs low > 0 ({col}: {low})")


def resolve_distributions(scenario: Scenario, cat: Catalogue) -> Sampler:
    """Check the scenario's uncertainty block against the catalogue and resolve every range.

    Parameters
    ----------
    scenario : Scenario
        Its `uncertainty` block (parameters, correlations, seed).
    cat : Catalogue
        The scenario's catalogue (overrides applied): base values and default ranges.

    Returns
    -------
    Sampler

    Raises
    ------
    InputError
        Naming the scenario file and the field (`uncertainty.parameters.<i>.<key>`) for an unknown
        target or parameter, a text parameter, a target without a range, a base value outside
        [low, high] for triangular/lognormal, a non-positive lognormal low, a negative cost, or an
        input drawn twice.
    """
    unc = scenario.uncertainty
    dists: list[Distribution] = []
    drawn_by: dict[str, str] = {}
    for i, p in enumerate(unc.parameters):
        where = f"uncertainty.parameters.{i}"
        head, name = p.target.split(".", 1)
        if head in ("finance", "demand"):
            cols = _scenario_columns(scenario, p, where)
        else:
            cols = [_catalogue_column(scenario, cat, p, key, name, where)
                    for key in _target_technologies(scenario, cat, p, head, where)]
        _check_columns(scenario.source, p, where, cols, drawn_by)
        c = list(zip(*cols, strict=True))
        dists.append(Distribution(p.target, p.distribution, tuple(c[0]), np.array(c[1], float),
                                  np.array(c[2], float), np.array(c[3], float)))
    group_of = [-1] * len(dists)
    targets = [p.target for p in unc.parameters]
    for g, group in enumerate(unc.correlations):
        for t in group.parameters:
            group_of[targets.index(t)] = g
    return Sampler(tuple(dists), tuple(group_of), tuple(g.rho for g in unc.correlations), unc.seed)


def sampler_for(scenario: Scenario) -> Sampler:
    """The scenario's uncertain inputs resolved against its own catalogue (fails fast on a bad block,
    before any layer is read)."""
    cat = resolve_catalogue(scenario.technologies.enabled, scenario.technologies.overrides, scenario.finance.base_year,
                            scenario.source)
    return resolve_distributions(scenario, cat)
