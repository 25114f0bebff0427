from pathlib import Path

import pytest
import yaml

from smrplan.errors import InputError
from smrplan.scenario import bundled_names, bundled_text, load_scenario, parse_scenario


def test_bundled_scenarios_load():
    names = bundled_names()
    assert "india-islands" in names and "india-islands-osm" in names
    sc = load_scenario("india-islands")
    assert sc.name == "india-islands"
    assert sc.data["settlements"] == "bundled:islands.csv"
    assert 0 < sc.finance.discount_rate < 0.5


def test_defaults_merge_under_user_values():
    sc = parse_scenario({"name": "x", "data": {"settlements": "a.csv"}, "finance": {"discount_rate": 0.05}}, "x.yaml")
    assert sc.finance.discount_rate == 0.05
    assert sc.finance.inr_per_usd == 84.0  # default kept


@pytest.mark.parametrize("raw, field", [
    ({"name": "x", "data": {"settlements": "a.csv"}, "finanse": {}}, "finanse"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "finance": {"discount_rate": "high"}}, "finance.discount_rate"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "finance": {"discount_rate": -0.1}}, "finance.discount_rate"),
    ({"name": "x", "data": {"roads": "r.gpkg", "settlements": "a.csv"}}, "data"),
    ({"name": "x", "data": {}}, "data"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "siting": {"exclusion_zone_km": -1}}, "siting.exclusion_zone_km"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "target_year": 1990}, "target_year"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "roadmap": {"first_year": 2040, "last_year": 2030}}, "roadmap"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "roadmap": {"step_years": 0}}, "roadmap.step_years"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "roadmap": {"max_modules_started_per_period": -1}},
     "roadmap.max_modules_started_per_period"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "roadmap": {"budget_usd_per_period": 0}}, "roadmap.budget_usd_per_period"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "outputs": {"formats": ["xlsx"]}}, "outputs.formats"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "dispatch": {"pv_lattice_step_deg": 0}},
     "dispatch.pv_lattice_step_deg"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "dispatch": {"chunk_systems": 0}}, "dispatch.chunk_systems"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "scale": {"partition_settlements": 0}}, "scale.partition_settlements"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "scale": {"partition_above_candidates": -1}},
     "scale.partition_above_candidates"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "outputs": {"dispatch_hourly": "every"}}, "outputs.dispatch_hourly"),
    ({"name": "x", "data": {"settlements": "a.csv"}, "outputs": {"dispatch_sample_systems_per_option": -1}},
     "outputs.dispatch_sample_systems_per_option"),
])
def test_bad_scenarios_name_the_field(raw, field):
    with pytest.raises(InputError) as exc:
        parse_scenario(raw, "bad.yaml")
    assert "bad.yaml" in str(exc.value) and field in str(exc.value)


def test_unreadable_yaml_names_line(tmp_path: Path):
    p = tmp_path / "s.yaml"
    p.write_text("name: x\ndata: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    assert str(p) in str(exc.value) and "line" in str(exc.value)


def test_missing_scenario_file(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_roadmap_periods_default_to_2030_2050_in_steps_of_five():
    sc = parse_scenario({"name": "x", "data": {"settlements": "a.csv"}}, "s.yaml")
    assert sc.roadmap.years == [2030, 2035, 2040, 2045, 2050]
    assert sc.roadmap.max_modules_started_per_period == 10 and sc.roadmap.budget_usd_per_period is None


def test_data_gaps_name_known_layers_not_given_ones():
    raw = yaml.safe_load(bundled_text("india-islands"))
    assert parse_scenario(raw, "t").data_gaps["dem"].startswith("the only public relief grid")
    for gaps, words in (({"fault_lines": "x"}, "unknown layer"), ({"land": "x"}, "that data gives")):
        with pytest.raises(InputError, match=words):
            parse_scenario({**raw, "data_gaps": gaps}, "t")
