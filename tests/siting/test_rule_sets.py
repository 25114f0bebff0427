"""Siting rule sets (AERB and NRC/OR-SAGE), their schema and staff townships."""

import copy

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from shapely.geometry import Point, box

from smrplan.errors import InputError
from smrplan.geo.distance import destination
from smrplan.geo.layers import Region
from smrplan.scenario import RULE_KEYS, bundled_text, parse_scenario, siting_rule_set
from smrplan.siting.screen import screen, townships

RAW = yaml.safe_load(bundled_text("india-islands"))


def _siting(**keys):
    raw = copy.deepcopy(RAW)
    raw.setdefault("siting", {}).update(keys)
    return parse_scenario(raw, "test.yaml").siting


def test_aerb_is_the_default_and_nrc_is_selectable():
    aerb, nrc = _siting(), _siting(rules="nrc-or-sage")
    assert aerb.rules == "aerb" and nrc.rules == "nrc-or-sage"
    assert aerb.sterilised_zone_max_population == 30000 and nrc.sterilised_zone_max_population == 15000
    assert aerb.density_max_per_km2 == 764.0 and nrc.density_max_per_km2 == 193.0
    assert aerb.population_centre_min_distance_km == 5.0 and nrc.population_centre_min_distance_km == 6.7


def test_scenario_keys_override_single_rules():
    s = _siting(rules="nrc-or-sage", density_max_per_km2=300.0)
    assert s.density_max_per_km2 == 300.0 and s.sterilised_zone_max_population == 15000


def test_every_rule_has_a_source_and_year():
    for name in ("aerb", "nrc-or-sage"):
        rs = siting_rule_set(name)
        assert set(rs.rules) == set(RULE_KEYS)
        assert all(r.source and 1900 <= r.year <= 2100 for r in rs.rules.values())


def test_rule_set_file(tmp_path):
    data = yaml.safe_load(open(siting_rule_set.__globals__["rule_set_path"]("aerb"), encoding="utf-8"))
    data["rules"]["sterilised_zone_max_population"]["value"] = 12345
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert _siting(rules=str(f)).sterilised_zone_max_population == 12345


@pytest.mark.parametrize("change, field", [
    ({"rules": "nowhere.yaml"}, "siting.rules"),
    ({"rules": "usa"}, "siting.rules"),
    ({"exclusion_zone_km": -1.0}, "siting.exclusion_zone_km"),
])
def test_bad_rule_inputs_name_the_field(change, field):
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        _siting(**change)


def test_rule_set_file_breaking_the_schema(tmp_path):
    data = yaml.safe_load(open(siting_rule_set.__globals__["rule_set_path"]("aerb"), encoding="utf-8"))
    data["rules"]["sterilised_zone_km"]["value"] = -5.0
    del data["rules"]["capable_fault_min_km"]
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match="capable_fault_min_km") as err:
        _siting(rules=str(f))
    assert "bad.yaml" in str(err.value)


LAND = gpd.GeoDataFrame(geometry=[box(70, 5, 90, 30)], crs="EPSG:4326")


def _region(st: pd.DataFrame) -> Region:
    g = gpd.GeoDataFrame(st, geometry=[Point(x, y) for x, y in zip(st.lon, st.lat, strict=True)], crs="EPSG:4326")
    return Region(settlements=g, layers={"land": LAND})


def _cand(lon, lat):
    return gpd.GeoDataFrame({"kind": ["land"], "lon": [lon], "lat": [lat]}, geometry=[Point(lon, lat)], crs="EPSG:4326")


def test_a_staff_township_is_no_population_centre_nor_sterilised_zone_population():
    x, y = destination(80.0, 10.0, 0.0, 3.0)
    base = {"id": ["t"], "name": ["Colony"], "population": [40_000.0], "lon": [80.0], "lat": [10.0]}
    plain = screen(_region(pd.DataFrame(base)), _siting(), _cand(float(x), float(y))).sites.iloc[0]
    own = screen(_region(pd.DataFrame({**base, "township_of": ["Plant"]})), _siting(),
                 _cand(float(x), float(y))).sites.iloc[0]
    assert not plain.population_centre_pass and not plain.sterilised_zone_pass
    assert own.population_centre_pass and own.sterilised_zone_pass and own.sterilised_zone_value == 0.0


def test_listed_dae_townships_are_recognised_near_their_plant_only():
    st = pd.DataFrame({"name": ["Anupuram", "Anupuram", "Chennai"], "lon": [80.16, 77.0, 80.27],
                       "lat": [12.53, 28.0, 13.08]})
    g = gpd.GeoDataFrame(st, geometry=[Point(x, y) for x, y in zip(st.lon, st.lat, strict=True)], crs="EPSG:4326")
    assert townships(g).tolist() == [True, False, False]


def test_screen_records_the_rule_set():
    x, y = destination(80.0, 10.0, 0.0, 30.0)
    reg = _region(pd.DataFrame({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [80.0], "lat": [10.0]}))
    rec = screen(reg, _siting(density_max_per_km2=500.0), _cand(float(x), float(y))).summary()["rule_set"]
    assert rec["name"] == "aerb" and rec["rules"]["density_max_per_km2"] == {"value": 500.0, "source": "scenario",
                                                                               "year": None}
    assert rec["rules"]["sterilised_zone_km"]["year"] == 2014


LICENSED = {"Kudankulam": (77.71, 8.17), "Kalpakkam": (80.17, 12.56), "Tarapur": (72.66, 19.83), "Kaiga": (74.44, 14.86)}
POPULATION_RULES = ["sterilised_zone", "population_density", "epz_population", "population_centre"]


def _licensed_screen(rules):
    """Land candidates at four AERB-licensed plants among the national settlements within 20 km of
    them (GeoNames towns and post-office places with Census 2011 district totals, target year 2035;
    licensed_sites_settlements.csv, extracted from the india-national scenario's settlement set)."""
    from pathlib import Path

    st = pd.read_csv(Path(__file__).with_name("licensed_sites_settlements.csv"))
    g = gpd.GeoDataFrame(st, geometry=gpd.points_from_xy(st.lon, st.lat), crs="EPSG:4326")
    lon, lat = zip(*LICENSED.values(), strict=True)
    c = gpd.GeoDataFrame({"kind": "land", "lon": lon, "lat": lat}, geometry=gpd.points_from_xy(lon, lat),
                         crs="EPSG:4326")
    return screen(Region(settlements=g, layers={"land": LAND}), rules, c).sites


def test_licensed_indian_sites_pass_the_aerb_population_rules():
    s = _licensed_screen(_siting())
    for rule in POPULATION_RULES:
        assert s[f"{rule}_pass"].all(), (rule, s[f"{rule}_value"].tolist())


def test_the_us_screen_rejects_licensed_indian_sites():
    s = _licensed_screen(_siting(rules="nrc-or-sage"))
    assert not s[[f"{r}_pass" for r in POPULATION_RULES]].all(axis=1).all()
