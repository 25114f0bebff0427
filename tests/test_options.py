"""The supply-option vocabulary (data/options.csv): the cost engine's output, the report legend, the
catalogue, its schema and the scenario all use the options it lists, and nothing else."""

import csv
from importlib import resources

import pandas as pd
import pytest

import smrplan
from smrplan import options as O
from smrplan.catalogue.catalogue import read_catalogue
from smrplan.catalogue.schema import PARAMETERS, REQUIRED, TYPES
from smrplan.errors import InputError
from smrplan.report import plots
from smrplan.scenario import parse_scenario
from smrplan.siting import screen

CAT = read_catalogue()


def _rows() -> list[dict[str, str]]:
    text = resources.files("smrplan.data").joinpath("options.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


@pytest.fixture(scope="module")
def islands():
    return smrplan.plan("india-islands")


def test_file_is_consistent():
    rows = _rows()
    assert {r["group"] for r in rows} <= {"standalone", "reactor", "reference"}
    assert len({r["option"] for r in rows}) == len(rows)
    listed = [c for r in rows for c in r["catalogue_options"].split()]
    assert len(listed) == len(set(listed)), "a catalogue option supplies one planning option at most"
    for r in rows:
        planned = r["group"] != "reference"
        assert bool(r["label"]) == planned and bool(r["colour"]) == planned, r["option"]
        if planned:
            assert bool(r["reactor_kind"]) == (r["group"] == "reactor"), r["option"]
        assert r["description"] and r["catalogue_options"], r["option"]
    assert len(set(O.OPTION_LABELS.values())) == len(O.ALL_OPTIONS)
    assert len(set(O.OPTION_COLOURS.values())) == len(O.ALL_OPTIONS)
    assert all(len(c) == 7 and c.startswith("#") for c in O.OPTION_COLOURS.values())


def test_exports():
    assert O.ALL_OPTIONS == O.STANDALONE_OPTIONS + O.REACTOR_OPTIONS
    assert set(O.STANDALONE_OPTIONS) == {"diesel", "pv_battery", "grid"}
    assert O.KIND_OPTION == {"land": "land_reactor", "micro": "micro_reactor", "floating": "floating_reactor"}
    assert O.KINDS == tuple(O.KIND_OPTION) and tuple(O.KIND_OPTION.values()) == O.REACTOR_OPTIONS
    assert set(O.OPTION_LABELS) == set(O.OPTION_COLOURS) == set(O.ALL_OPTIONS)
    assert {o for o in O.CATALOGUE_OPTION_SUPPLIES.values() if o} == set(O.ALL_OPTIONS)
    assert set(O.REACTOR_CATALOGUE_OPTIONS) == {"land_reactor", "micro_reactor", "floating_reactor", "large_reactor"}


def test_catalogue_agrees():
    used = {t.option for t in CAT.values()}
    assert used == set(O.CATALOGUE_OPTIONS), "every catalogue option listed has a packaged entry, and only those"
    assert set(REQUIRED) == set(O.CATALOGUE_OPTIONS)
    for spec in PARAMETERS.values():
        assert set(spec.required_for) <= set(O.CATALOGUE_OPTIONS), spec.name
        assert spec.type in TYPES, spec.name
    for tech in CAT.values():
        assert tech.is_reactor == ("module_size_mw" in REQUIRED[tech.option]), tech.key
        for name, p in tech.parameters.items():
            assert name in PARAMETERS, (tech.key, name)
            assert p.unit == PARAMETERS[name].unit, (tech.key, name)


def test_cost_engine_output(islands):
    assert tuple(islands.summary["options"]) == O.ALL_OPTIONS
    assert set(islands.settlements["chosen_option"]) <= set(O.ALL_OPTIONS)
    for option in O.ALL_OPTIONS:
        assert f"lcoe_{option}_usd_per_kwh" in islands.settlements.columns


def test_report_legend():
    points = pd.DataFrame({"lon": range(6), "lat": range(6), "option": list(O.ALL_OPTIONS),
                           "demand_kwh_per_year": 1e6, "label": "x"})
    traces = plots.settlement_traces(points)
    order = ["grid", *[o for o in O.ALL_OPTIONS if o != "grid"]]  # the grid drawn first, underneath the isolated systems
    assert [t.name for t in traces] == [f"settlement: {O.OPTION_LABELS[o]} (1)" for o in order]
    assert [t.marker.color for t in traces] == [O.OPTION_COLOURS[o] for o in order]


def test_siting_and_scenario_kinds():
    assert screen.KINDS == O.KINDS
    base = {"name": "x", "data": {"settlements": "bundled:islands.csv"}}
    ok = parse_scenario({**base, "optimisation": {"allowed_options_by_region": {"st": {"A": list(O.REACTOR_OPTIONS)}}}},
                        "s.yaml")
    assert ok.optimisation.allowed_options_by_region["st"]["A"] == list(O.REACTOR_OPTIONS)
    with pytest.raises(InputError, match="allowed_options_by_region"):
        parse_scenario({**base, "optimisation": {"allowed_options_by_region": {"st": {"A": ["large_reactor"]}}}}, "s.yaml")
