"""Siting rules on small hand-made layers where the answer is known, boundary cases included."""

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from smrplan.errors import InputError
from smrplan.geo.distance import destination, haversine_km
from smrplan.geo.layers import Region
from smrplan.options import KINDS
from smrplan.scenario import load_scenario
from smrplan.siting.screen import _fmt, generate_candidates, origins, screen

RULES = load_scenario("india-islands").siting


def _rule_set(name: str):
    """The india-islands siting block under another rule set."""
    import yaml

    from smrplan.scenario import bundled_text, parse_scenario

    raw = yaml.safe_load(bundled_text("india-islands"))
    raw.setdefault("siting", {})["rules"] = name
    return parse_scenario(raw, "test").siting


NRC = _rule_set("nrc-or-sage")


def _region(settlements, land=None, **layers):
    st = gpd.GeoDataFrame(settlements, geometry=gpd.points_from_xy(settlements["lon"], settlements["lat"]),
                          crs="EPSG:4326")
    st["population_target"] = st["population"]
    lay = dict(layers)
    if land is not None:
        lay["land"] = gpd.GeoDataFrame(geometry=[land], crs="EPSG:4326")
    return Region(settlements=st, layers=lay)


def _cands(points, kind):
    lon = [p[0] for p in points]
    lat = [p[1] for p in points]
    return gpd.GeoDataFrame({"site_id": [f"c{i}" for i in range(len(points))], "kind": kind, "lon": lon, "lat": lat,
                             "origin": "test", "from_settlement": ""},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


LAND = box(79.0, 9.0, 81.0, 11.0)


def test_exclusion_zone_boundary_is_inclusive():
    reg = _region({"id": ["a"], "name": ["a"], "population": [100.0], "lon": [80.0], "lat": [10.0]}, LAND)
    at = destination(80.0, 10.0, 90.0, RULES.exclusion_zone_km)
    inside = destination(80.0, 10.0, 90.0, RULES.exclusion_zone_km - 0.01)
    res = screen(reg, RULES, _cands([(float(at[0]), float(at[1])), (float(inside[0]), float(inside[1]))], "land"))
    s = res.sites
    assert s.exclusion_zone_pass.tolist() == [True, False]
    assert "exclusion_zone" in s.reason.iloc[1] and "exclusion_zone" not in s.reason.iloc[0]


def test_sterilised_zone_population_limit():
    lim = RULES.sterilised_zone_max_population
    reg = _region({"id": ["a", "b"], "name": ["a", "b"], "population": [lim, 1.0], "lon": [80.0, 80.0],
                   "lat": [10.0, 10.2]}, LAND)
    x, y = destination(80.0, 10.0, 270.0, RULES.sterilised_zone_km)  # exactly at the radius
    res = screen(reg, RULES, _cands([(float(x), float(y))], "land"))
    assert res.sites.sterilised_zone_value.iloc[0] == pytest.approx(lim)
    assert bool(res.sites.sterilised_zone_pass.iloc[0])  # at the limit passes
    reg.settlements.loc[0, "population_target"] = lim + 1
    res = screen(reg, RULES, _cands([(float(x), float(y))], "land"))
    assert not bool(res.sites.sterilised_zone_pass.iloc[0])


def test_population_centre_and_density():
    reg = _region({"id": ["town"], "name": ["t"], "population": [100_000.0], "lon": [80.0], "lat": [10.0]}, LAND)
    near = destination(80.0, 10.0, 0.0, 5.0)
    far = destination(80.0, 10.0, 0.0, 40.0)
    res = screen(reg, NRC, _cands([(float(near[0]), float(near[1])), (float(far[0]), float(far[1]))], "land"))
    s = res.sites
    assert s.population_centre_pass.tolist() == [False, True]
    assert s.population_density_pass.tolist() == [False, True]


def test_land_and_water_kinds():
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [80.0], "lat": [10.0]}, LAND)
    res = screen(reg, RULES, pd.concat([_cands([(80.5, 10.5)], "land"), _cands([(81.5, 10.5)], "floating"),
                                        _cands([(81.5, 10.6)], "land")], ignore_index=True))
    s = res.sites
    assert s.on_land_pass.tolist() == [True, True, False]
    assert s.on_water_pass.tolist() == [True, True, True]  # on_water applies to floating only
    assert bool(s.on_water_value.iloc[1] == 1.0)


def test_seismic_zone_border_takes_the_higher_zone():
    zones = gpd.GeoDataFrame({"zone": ["V", "VI"]}, geometry=[box(79, 9, 80, 11), box(80, 9, 81, 11)],
                             crs="EPSG:4326")
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [79.2], "lat": [9.2]}, LAND,
                  seismic_zones=zones)
    res = screen(reg, RULES, _cands([(80.0, 10.0), (79.5, 10.0)], "land"))
    assert res.sites.seismic_zone_pass.tolist() == [False, True]


def test_earthquake_counts_within_radius():
    r = RULES.earthquake_radius_km
    lon_in, _ = destination(80.0, 10.0, 90.0, r - 1)
    lon_out, _ = destination(80.0, 10.0, 90.0, r + 1)
    eq = gpd.GeoDataFrame({"mw": [RULES.earthquake_max_magnitude + 0.1, 9.0]},
                          geometry=[Point(float(lon_in), 10.0), Point(float(lon_out), 10.0)], crs="EPSG:4326")
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [79.2], "lat": [9.2]}, LAND, earthquakes=eq)
    res = screen(reg, RULES, _cands([(80.0, 10.0)], "land"))
    s = res.sites.iloc[0]
    assert s.earthquake_max_magnitude_value == pytest.approx(RULES.earthquake_max_magnitude + 0.1)
    assert not s.earthquake_max_magnitude_pass
    assert s.earthquake_count_value == 1


def test_not_evaluated_criteria_are_listed():
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [80.0], "lat": [10.0]}, LAND)
    res = screen(reg, RULES, _cands([(80.5, 10.5)], "land"))
    summ = res.summary()
    not_eval = {c["name"] for c in summ["criteria"] if not c["evaluated"]}
    assert {"seismic_zone", "capable_fault", "cyclones", "water_depth"} <= not_eval


def test_candidates_generated_per_kind_and_offshore_points_at_sea():
    reg = _region({"id": ["a"], "name": ["a"], "population": [1000.0], "lon": [80.99], "lat": [10.0]}, LAND)
    c = generate_candidates(reg, RULES, 150.0)
    assert set(c.kind) == {"land", "micro", "floating"}
    fl = c[c.kind == "floating"]
    assert len(fl) > 0 and not reg.is_land(fl.lon.to_numpy(), fl.lat.to_numpy()).any()
    assert c.site_id.is_unique
    # the h3 grid over the land polygon adds land candidates
    assert (c.origin.str.startswith("h3")).sum() > 0
    assert np.isfinite(fl.offshore_km).all()


def test_kind_and_origin_are_categoricals_of_their_fixed_lists():
    """One small code per candidate, not a text: kind of KINDS, origin of `origins`, user candidates too;
    the screen carries them through."""
    reg = _region({"id": ["a"], "name": ["a"], "population": [1000.0], "lon": [80.99], "lat": [10.0]}, LAND)
    user = gpd.GeoDataFrame({"kind": ["micro"]}, geometry=[Point(80.5, 10.2)], crs="EPSG:4326")
    c = generate_candidates(reg, RULES, 150.0, user)
    assert list(c["kind"].cat.categories) == list(KINDS)
    assert list(c["origin"].cat.categories) == list(origins(RULES.h3_resolution))
    assert set(c["origin"]) == {"user", "offshore", f"h3 r{RULES.h3_resolution}"}  # a village: no rings
    sites = screen(reg, RULES, c).sites
    assert sites["kind"].dtype == c["kind"].dtype and sites["origin"].dtype == c["origin"].dtype


# ---------------------------------------------------------------------- cyclones, water, kinds, user
def test_cyclone_passages_per_decade_at_the_radius_boundary():
    """Storms with a strong fix exactly at the radius count (inclusive), once per storm however many
    fixes, weak fixes never; the record 2000-2009 is one decade, so the value is the storm count."""
    r, kt = RULES.cyclone_radius_km, RULES.cyclone_min_wind_kt
    at = destination(80.0, 10.0, 0.0, r)
    out = destination(80.0, 10.0, 0.0, r + 0.01)
    near = destination(80.0, 10.0, 90.0, r / 2)
    rows = [  # (storm, lon, lat, wind kt, time)
        ("S1", at[0], at[1], kt, "2000-06-01 00:00"),           # exactly at the radius, at the wind limit
        ("S2", near[0], near[1], kt + 10, "2003-05-01 00:00"),  # two fixes inside: one passage
        ("S2", near[0], near[1] + 0.01, kt + 20, "2003-05-01 03:00"),
        ("S3", out[0], out[1], kt + 40, "2005-11-01 00:00"),    # 10 m outside
        ("S4", 80.0, 10.0, kt - 1, "2009-10-01 00:00"),         # overhead but below the wind limit
        ("S5", near[0], near[1], kt, "2007-10-01 00:00"),
    ]
    tracks = gpd.GeoDataFrame({"CS_ID": [x[0] for x in rows], "MSWS": [x[3] for x in rows],
                               "DATETIME": [x[4] for x in rows]},
                              geometry=[Point(float(x[1]), float(x[2])) for x in rows], crs="EPSG:4326")
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [82.0], "lat": [12.0]},
                  LAND, cyclone_tracks=tracks)
    s = screen(reg, RULES, _cands([(80.0, 10.0)], "land")).sites.iloc[0]
    assert s.cyclones_value == pytest.approx(3.0)  # S1, S2, S5 over one decade
    assert s.cyclones_pass == (3.0 <= RULES.cyclone_max_per_decade)
    strict = RULES.model_copy(update={"cyclone_max_per_decade": 2.9})
    s = screen(reg, strict, _cands([(80.0, 10.0)], "land")).sites.iloc[0]
    assert not s.cyclones_pass and "cyclones (3.00; needs <= 2.9 storms" in s.reason


def test_cyclone_layer_without_expected_columns_names_them():
    tracks = gpd.GeoDataFrame({"wind": [100]}, geometry=[Point(80, 10)], crs="EPSG:4326")
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [80.0], "lat": [10.0]}, LAND,
                  cyclone_tracks=tracks)
    with pytest.raises(InputError, match="MSWS/CS_ID/DATETIME"):
        screen(reg, RULES, _cands([(80.5, 10.5)], "land"))


def _write_depth_raster(path, cell_deg, depths):
    """A GeoTIFF (EPSG:4326, elevation in m, negative below sea level) with its top-left corner at
    81 E, 10.3 N: column i spans 81 + i cell_deg."""
    import rasterio
    from rasterio.transform import from_origin

    arr = -np.asarray([depths], dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", height=1, width=arr.shape[1], count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(81.0, 10.3, cell_deg, 0.6)) as dst:
        dst.write(arr, 1)
    return path


@pytest.mark.parametrize("cell_deg, coarse", [(0.1, True), (0.005, False)])
def test_water_depth_from_a_small_geotiff(tmp_path, cell_deg, coarse):
    lim_lo, lim_hi = RULES.floating_min_depth_m, RULES.floating_max_depth_m
    depths = [lim_lo - 0.5, lim_lo, 50.0, lim_hi, lim_hi + 0.5]
    raster = _write_depth_raster(tmp_path / "depth.tif", cell_deg, depths)
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [80.0], "lat": [10.0]}, LAND)
    reg.rasters["bathymetry"] = raster
    pts = [(81.0 + (i + 0.5) * cell_deg, 10.0) for i in range(len(depths))]
    res = screen(reg, RULES, pd.concat([_cands(pts, "floating"), _cands([pts[0]], "land")], ignore_index=True))
    s = res.sites
    assert s.water_depth_value.iloc[:5].tolist() == pytest.approx(depths)
    assert s.water_depth_pass.tolist() == [False, True, True, True, False, True]  # land kind: not applied
    assert np.isnan(s.water_depth_value.iloc[5])
    note = next(c.note for c in res.criteria if c.name == "water_depth")
    assert ("unreliable" in note and "km" in note) if coarse else note == ""


def test_exposure_is_the_sea_share_of_a_5_km_ring():
    """A berth in a bay (land on three sides) is sheltered; one in open water is exposed."""
    bay = box(79.0, 9.0, 81.0, 11.0).difference(box(80.0, 9.95, 81.0, 10.05))  # a 11 km wide inlet from the east
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [79.5], "lat": [10.5]}, bay)
    inner = (80.03, 10.0)  # 3 km inside the inlet
    res = screen(reg, RULES, _cands([inner, (82.0, 10.0)], "floating"))
    s = res.sites
    bearings = np.linspace(0, 360, 36, endpoint=False)
    x, y = destination(np.full(36, inner[0]), np.full(36, inner[1]), bearings, 5.0)
    expected = reg.is_sea(x, y).mean()  # the corners of the inlet are closed as narrower than water_gap_km
    assert s.exposure_value.iloc[0] == pytest.approx(expected) and expected < RULES.floating_max_open_sea_share
    assert s.exposure_value.iloc[1] == 1.0 and not s.exposure_pass.iloc[1]
    assert s.exposure_pass.iloc[0]


def test_cooling_water_exempts_micro_and_sterilised_zone_skips_micro():
    land = box(75.0, 5.0, 85.0, 15.0)  # the candidates stand about 550 km from the sea
    reg = _region({"id": ["town"], "name": ["t"], "population": [RULES.sterilised_zone_max_population * 3],
                   "lon": [80.0], "lat": [10.0]}, land)
    p = destination(80.0, 10.0, 0.0, 3.0)  # 3 km from a large settlement, far from the sea
    pt = (float(p[0]), float(p[1]))
    res = screen(reg, RULES, pd.concat([_cands([pt], "land"), _cands([pt], "micro")], ignore_index=True))
    land_s, micro_s = res.sites.iloc[0], res.sites.iloc[1]
    assert land_s.cooling_water_value > RULES.cooling_water_max_km and not land_s.cooling_water_pass
    assert np.isnan(micro_s.cooling_water_value) and micro_s.cooling_water_pass
    assert "cooling_water" in land_s.reason and "cooling_water" not in micro_s.reason
    assert land_s.sterilised_zone_value == pytest.approx(RULES.sterilised_zone_max_population * 3)
    assert not land_s.sterilised_zone_pass
    assert np.isnan(micro_s.sterilised_zone_value) and micro_s.sterilised_zone_pass
    assert "sterilised_zone" not in micro_s.reason


def test_micro_exclusion_zone_is_smaller():
    reg = _region({"id": ["a"], "name": ["a"], "population": [100.0], "lon": [80.0], "lat": [10.0]}, LAND)
    p = destination(80.0, 10.0, 45.0, RULES.micro_exclusion_zone_km)
    pt = (float(p[0]), float(p[1]))
    s = screen(reg, RULES, pd.concat([_cands([pt], "micro"), _cands([pt], "land")], ignore_index=True)).sites
    assert s.exclusion_zone_pass.tolist() == [True, False]


@pytest.mark.parametrize("user, field", [
    (gpd.GeoDataFrame({"kind": ["land", "micro", "barge"]}, geometry=[Point(80.1, 10.1), Point(80.2, 10.2),
                                                                      Point(80.3, 10.3)], crs="EPSG:4326"),
     "row 4, column kind"),
    (gpd.GeoDataFrame({"type": ["land"]}, geometry=[Point(80.1, 10.1)], crs="EPSG:4326"), "kind"),
])
def test_user_candidates_with_bad_kind(user, field):
    reg = _region({"id": ["a"], "name": ["a"], "population": [100.0], "lon": [80.0], "lat": [10.0]}, LAND)
    with pytest.raises(InputError) as exc:
        generate_candidates(reg, RULES, 150.0, user)
    assert field in str(exc.value) and "candidates layer" in str(exc.value)


def test_user_candidates_are_kept_first_and_polygons_become_points():
    reg = _region({"id": ["a"], "name": ["a"], "population": [100.0], "lon": [80.0], "lat": [10.0]}, LAND)
    user = gpd.GeoDataFrame({"kind": ["land", "floating"]},
                            geometry=[box(80.30, 10.30, 80.32, 10.32), Point(81.5, 10.0)], crs="EPSG:4326")
    c = generate_candidates(reg, RULES, 150.0, user)
    u = c[c.origin == "user"]
    assert u.kind.tolist() == ["land", "floating"]
    assert reg.land.geometry.iloc[0].contains(u.geometry.iloc[0])


# ------------------------------------------------------------------------------ candidate generation
def test_rings_only_around_large_or_unreached_settlements():
    """With a land layer the grid covers the box: a village gets no rings, a Class I town does; a
    settlement on a small island the grid does not reach gets rings whatever its size."""
    islet = box(82.0, 10.0, 82.004, 10.004)  # about 0.2 km2: no h3 r6 centre falls on it
    land = shapely.union(LAND, islet)
    reg = _region({"id": ["village", "town", "islet"], "name": ["v", "t", "i"],
                   "population": [500.0, RULES.ring_min_population, 300.0],
                   "lon": [79.5, 80.5, 82.002], "lat": [9.5, 10.5, 10.002]}, land)
    c = generate_candidates(reg, RULES, 150.0)
    rings = c[c.origin == "ring"]
    assert set(rings.from_settlement) == {"town", "islet"}
    grid = c[c.origin.str.startswith("h3")]
    assert set(grid.kind) == {"land", "micro"} and reg.is_land(grid.lon, grid.lat).all()


def test_no_land_layer_gives_rings_and_floating_for_every_settlement():
    reg = _region({"id": ["a", "b"], "name": ["a", "b"], "population": [100.0, 200.0],
                   "lon": [72.6280, 73.0641], "lat": [10.5518, 8.2945]})  # Kavaratti, Minicoy
    c = generate_candidates(reg, RULES, 150.0)
    assert set(c[c.origin == "ring"].from_settlement) == {"a", "b"}
    assert set(c[c.kind == "floating"].from_settlement) == {"a", "b"}
    assert not c.origin.str.startswith("h3").any()


def test_floating_candidates_only_from_coastal_settlements_and_never_on_inland_water():
    """A settlement inland beside a lake (a hole in the land polygon) makes no floating candidate;
    a coastal one does, at sea, at the coast crossing plus the mooring distances."""
    lake = box(79.5, 9.5, 79.6, 9.6)
    land = LAND.difference(lake)
    reg = _region({"id": ["lake", "coast"], "name": ["l", "c"], "population": [100.0, 100.0],
                   "lon": [79.48, 80.99], "lat": [9.55, 10.0]}, land)
    assert reg.is_sea([79.55], [9.55]).tolist() == [False] and not reg.is_land([79.55], [9.55])[0]
    c = generate_candidates(reg, RULES, 150.0)
    fl = c[c.kind == "floating"]
    assert set(fl.from_settlement) == {"coast"}
    assert reg.is_sea(fl.lon, fl.lat).all()
    # the eastward ray from (80.99, 10) crosses the coast at 81 E, about 1.09 km out
    crossing = reg.coast_crossing_km([80.99], [10.0], [90.0], 10.0)[0]
    assert crossing == pytest.approx(float(haversine_km(80.99, 10.0, 81.0, 10.0)), abs=0.01)
    east = fl[(fl.lat - 10.0).abs() < 1e-6]  # the 90-degree ray (points closer than the spacing merged)
    assert len(east) >= 1 and set(east.offshore_km) <= set(RULES.floating_offshore_km)
    d = haversine_km(80.99, 10.0, east.lon.to_numpy(), east.lat.to_numpy())
    assert d == pytest.approx(crossing + east.offshore_km.to_numpy(), abs=1e-6)
    # a floating candidate on the lake is not at sea
    s = screen(reg, RULES, _cands([(79.55, 9.55)], "floating")).sites
    assert not s.on_water_pass.iloc[0]


def test_coast_crossing_and_distance_ignore_inland_water():
    land = LAND.difference(box(79.9, 9.9, 79.95, 9.95))
    reg = _region({"id": ["a"], "name": ["a"], "population": [1.0], "lon": [80.0], "lat": [10.0]}, land)
    # westward from 80 E the first crossing is the sea at 79 E, not the lake's shore at 79.95 E
    assert reg.coast_crossing_km([80.0], [10.0], [270.0], 150.0)[0] == pytest.approx(
        float(haversine_km(80.0, 10.0, 79.0, 10.0)), rel=1e-3)
    assert reg.coast_crossing_km([80.0], [10.0], [270.0], 50.0)[0] == np.inf
    assert reg.coast_crossing_km([82.0], [10.0], [0.0], 5.0)[0] == 0.0  # already at sea
    assert reg.coast_distance_km([79.925], [9.925])[0] > 50  # the lake shore is not coast
    assert reg.coast_distance_km([79.925], [9.925], max_km=10.0)[0] == np.inf


def test_candidates_of_one_kind_are_merged_per_100_m_and_floating_per_spacing():
    reg = _region({"id": ["a", "b"], "name": ["a", "b"], "population": [100.0, 100.0],
                   "lon": [80.5, 80.5004], "lat": [10.5, 10.5]}, LAND)  # 44 m apart
    c = generate_candidates(reg, RULES, 150.0)
    assert c.site_id.is_unique
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", reg.metric_crs, always_xy=True).transform(c.lon, c.lat)
    for kind, size in (("land", 100.0), ("micro", 100.0), ("floating", RULES.floating_spacing_km * 1000)):
        k = (c.kind == kind).to_numpy()
        cells = pd.DataFrame({"x": np.floor(x[k] / size), "y": np.floor(y[k] / size)})
        assert not cells.duplicated().any()
    # b's rings coincide with a's within 100 m: only the first settlement's ring points remain
    assert (c[c.origin == "ring"].from_settlement == "a").all()


def test_is_land_on_pieces_matches_the_whole_polygon():
    """Cutting polygons into pieces changes nothing: random points agree with shapely's own test."""
    rng = np.random.default_rng(1)
    ring = [(80 + 0.8 * np.cos(t) * (1 + 0.3 * np.sin(7 * t)), 10 + 0.8 * np.sin(t) * (1 + 0.3 * np.sin(7 * t)))
            for t in np.linspace(0, 2 * np.pi, 3000, endpoint=False)]
    poly = shapely.Polygon(ring, holes=[[(80.0, 10.0), (80.2, 10.0), (80.2, 10.2), (80.0, 10.2)]])
    reg = _region({"id": ["a"], "name": ["a"], "population": [1.0], "lon": [80.0], "lat": [10.0]}, poly)
    pieces, _ = reg.land_pieces()
    assert len(pieces) > 10 and max(shapely.get_num_coordinates(pieces)) <= 256
    x, y = rng.uniform(78.8, 81.2, 20000), rng.uniform(8.8, 11.2, 20000)
    assert (reg.is_land(x, y) == shapely.intersects_xy(poly, x, y)).all()
    filled = shapely.Polygon(poly.exterior)
    assert (reg.is_sea(x, y) == ~shapely.intersects_xy(filled, x, y)).all()


def test_reasons_list_every_failure_with_value_and_limit():
    reg = _region({"id": ["town"], "name": ["t"], "population": [100_000.0], "lon": [80.0], "lat": [10.0]}, LAND)
    near = destination(80.0, 10.0, 0.0, 1.0)
    res = screen(reg, NRC, _cands([(float(near[0]), float(near[1]))], "land"))
    s = res.sites.iloc[0]
    assert s.reason.startswith("exclusion_zone (1.00; needs >= 1.6 km")
    named = re.findall(r"(?:^|; )([a-z_]+) \(", s.reason)
    assert named == [c.name for c in res.criteria if not s[f"{c.name}_pass"]]
    assert {"exclusion_zone", "sterilised_zone", "population_density", "population_centre"} <= set(named)
    assert "sterilised_zone (100000; needs <= 15000 persons within 5.0 km)" in s.reason


# ------------------------------------------------------------------------------ terrain and tsunami
UTM = "EPSG:32644"  # WGS 84 / UTM 44N (metres), covers 78-84 E
UTM_ORIGIN = (400_000.0, 1_110_000.0)  # top-left corner, about 80.09 E, 10.04 N


def _write_dem(path, z, crs, transform, nodata=None):
    import rasterio

    z = np.asarray(z, dtype="float64")
    with rasterio.open(path, "w", driver="GTiff", height=z.shape[0], width=z.shape[1], count=1, dtype="float64",
                       crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(z, 1)
    return path


def _north_up(west, north, cell):
    from rasterio.transform import Affine

    return Affine(cell, 0.0, west, 0.0, -cell, north)


def _utm_dem(path, z, cell=25.0, nodata=None):
    return _write_dem(path, z, UTM, _north_up(*UTM_ORIGIN, cell), nodata)


def _utm_cells(rows, cols, cell=25.0):
    """WGS84 lon/lat of the centres of DEM cells (row, col) of `_utm_dem`."""
    from pyproj import Transformer

    x = UTM_ORIGIN[0] + (np.asarray(cols) + 0.5) * cell
    y = UTM_ORIGIN[1] - (np.asarray(rows) + 0.5) * cell
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(x, y)
    return list(zip(np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(), strict=True))


def _dem_region(dem, **layers):
    reg = _region({"id": ["a"], "name": ["a"], "population": [10.0], "lon": [79.5], "lat": [9.5]}, LAND, **layers)
    if dem is not None:
        reg.rasters["dem"] = dem
    return reg


def test_slope_of_a_plane_and_the_limit_is_inclusive(tmp_path):
    """z = k x over 25 m cells: the slope is 100 k / 25 percent exactly. k = 4.5 m per cell is the 18 %
    limit (passes), 4.75 m is 19 % (fails); a plane tilted on both axes gives the hypotenuse."""
    rows, cols = np.mgrid[0:7, 0:7]
    lim = RULES.max_slope_percent
    assert lim == 18.0
    for k, slope, ok in ((4.5, 18.0, True), (4.75, 19.0, False)):
        dem = _utm_dem(tmp_path / f"plane{k}.tif", 100.0 + k * cols)
        s = screen(_dem_region(dem), RULES, _cands(_utm_cells([3, 0, 6], [3, 6, 0]), "land")).sites
        # interior (central) and edge cells (one-sided) give the same exact slope on a plane
        assert s.slope_value.tolist() == pytest.approx([slope] * 3, abs=1e-9)
        assert s.slope_pass.tolist() == [ok] * 3
        assert s.elevation_value.tolist() == pytest.approx([100 + 3 * k, 100 + 6 * k, 100.0])
    dem = _utm_dem(tmp_path / "tilted.tif", 2.0 * cols + 1.5 * rows)  # hypot(2, 1.5) = 2.5 m per 25 m
    s = screen(_dem_region(dem), RULES, _cands(_utm_cells([3], [3]), "micro")).sites.iloc[0]
    assert s.slope_value == pytest.approx(10.0) and s.slope_pass
    strict = RULES.model_copy(update={"max_slope_percent": 9.99})
    s = screen(_dem_region(dem), strict, _cands(_utm_cells([3], [3]), "micro")).sites.iloc[0]
    assert not s.slope_pass and "slope (10.00; needs <= 9.99 %" in s.reason


def test_slope_in_a_geographic_dem_uses_metres_at_the_cell_latitude(tmp_path):
    from smrplan.geo.distance import EARTH_RADIUS_KM

    cell = 0.001
    rows, cols = np.mgrid[0:5, 0:5]
    m_per_deg = np.pi / 180.0 * EARTH_RADIUS_KM * 1000.0
    centre = (80.5 + 2.5 * cell, 10.5 - 2.5 * cell)  # cell (2, 2)
    east = _write_dem(tmp_path / "east.tif", 2.0 * cols, "EPSG:4326", _north_up(80.5, 10.5, cell))
    north = _write_dem(tmp_path / "north.tif", -2.0 * rows, "EPSG:4326", _north_up(80.5, 10.5, cell))
    s_e = screen(_dem_region(east), RULES, _cands([centre], "land")).sites.iloc[0]
    s_n = screen(_dem_region(north), RULES, _cands([centre], "land")).sites.iloc[0]
    assert s_e.slope_value == pytest.approx(100 * 2.0 / (cell * m_per_deg * np.cos(np.radians(centre[1]))), rel=1e-9)
    assert s_n.slope_value == pytest.approx(100 * 2.0 / (cell * m_per_deg), rel=1e-9)
    assert s_e.slope_value > s_n.slope_value  # a degree of longitude is shorter than one of latitude


def test_dem_windows_match_the_whole_raster_gradient(tmp_path, monkeypatch):
    """Reading the DEM in small blocks gives the slope numpy.gradient computes on the whole array
    (central differences inside, one-sided at the edges)."""
    import smrplan.siting.screen as siting

    rng = np.random.default_rng(3)
    z = rng.uniform(0.0, 50.0, (23, 31))
    dem = _utm_dem(tmp_path / "rough.tif", z)
    r, c = rng.integers(0, 23, 200), rng.integers(0, 31, 200)
    g_row, g_col = np.gradient(z, 25.0, 25.0)
    want = 100.0 * np.hypot(g_row, g_col)[r, c]
    lon, lat = np.array(_utm_cells(r, c)).T
    monkeypatch.setattr(siting, "_DEM_BLOCK", 4)
    elev, slope = siting.dem_elevation_slope(dem, lon, lat)
    assert elev == pytest.approx(z[r, c]) and slope == pytest.approx(want)


def test_nodata_and_off_raster_candidates_fail_and_neighbours_fall_back_to_one_side(tmp_path):
    rows, cols = np.mgrid[0:5, 0:5]
    z = 50.0 + 2.0 * cols
    z[2, 2] = -9999.0
    dem = _utm_dem(tmp_path / "hole.tif", z, nodata=-9999.0)
    pts = _utm_cells([2, 2, 0], [2, 1, 0]) + _utm_cells([2], [9])  # nodata, west of it, corner, off the raster
    res = screen(_dem_region(dem), RULES, _cands(pts, "land"))
    s = res.sites
    assert np.isnan(s.elevation_value.iloc[0]) and np.isnan(s.slope_value.iloc[0]) and np.isnan(s.slope_value.iloc[3])
    assert s.slope_pass.tolist() == [False, True, True, False]
    assert s.elevation_pass.tolist() == [False, True, True, False]
    assert s.slope_value.iloc[1:3].tolist() == pytest.approx([8.0, 8.0])  # 2 m per 25 m from one side
    assert "slope (n/a; needs <= 18 %" in s.reason.iloc[0] and "elevation (n/a;" in s.reason.iloc[0]
    note = next(c.note for c in res.criteria if c.name == "slope")
    assert note.startswith("2 candidate(s)") and "no DEM data" in note


def test_elevation_range_and_floating_exempt(tmp_path):
    z = np.array([[-1.0, 0.0, 4000.0, 4500.0, 4501.0]])
    dem = _utm_dem(tmp_path / "steps.tif", z, cell=1000.0)
    pts = _utm_cells([0] * 5, range(5), cell=1000.0)
    cands = pd.concat([_cands(pts, "land"), _cands(pts[:1], "floating")], ignore_index=True)
    s = screen(_dem_region(dem), RULES, cands).sites
    assert RULES.min_elevation_m == 0.0 and RULES.max_elevation_m is None  # Ladakh's 3,000-4,500 m stay in
    assert s.elevation_pass.tolist() == [False, True, True, True, True, True]
    assert np.isnan(s.elevation_value.iloc[5]) and np.isnan(s.slope_value.iloc[5]) and s.slope_pass.iloc[5]
    capped = RULES.model_copy(update={"max_elevation_m": 4500.0, "min_elevation_m": None})
    s = screen(_dem_region(dem), capped, _cands(pts, "micro")).sites
    assert s.elevation_pass.tolist() == [True, True, True, True, False]
    assert "needs <= 4500 m above mean sea level" in s.reason.iloc[4]


def test_terrain_and_tsunami_not_evaluated_without_layers():
    res = screen(_dem_region(None), RULES, _cands([(80.5, 10.5)], "land"))
    not_eval = {c["name"]: c["note"] for c in res.summary()["criteria"] if not c["evaluated"]}
    assert not_eval["slope"] == not_eval["elevation"] == "no dem raster"
    assert not_eval["tsunami"] == "no tsunami layer"
    s = res.sites.iloc[0]
    assert s.slope_pass and s.elevation_pass and s.tsunami_pass and np.isnan(s.tsunami_value)


def test_tsunami_zone_inside_border_and_buffer():
    zone = gpd.GeoDataFrame({"inundation_m": [3.0]}, geometry=[box(80.0, 10.0, 80.1, 10.1)], crs="EPSG:4326")
    reg = _dem_region(None, tsunami=zone)
    near = destination(80.1, 10.05, 90.0, 1.9)
    far = destination(80.1, 10.05, 90.0, 2.1)
    pts = [(80.05, 10.05), (80.1, 10.05), (float(near[0]), float(near[1])), (float(far[0]), float(far[1]))]
    s = screen(reg, RULES, _cands(pts, "land")).sites
    assert RULES.tsunami_buffer_km == 0.0
    # planar km in the region's metric CRS (EPSG:7755 stretches distances about 1 % here)
    metric = zone.to_crs(reg.metric_crs).geometry.iloc[0]
    want = gpd.GeoSeries([Point(p) for p in pts], crs="EPSG:4326").to_crs(reg.metric_crs).distance(metric) / 1000
    assert s.tsunami_value.tolist() == pytest.approx(want.tolist(), abs=1e-9)
    assert s.tsunami_value.tolist() == pytest.approx([0.0, 0.0, 1.9, 2.1], abs=1e-6, rel=0.02)
    assert s.tsunami_pass.tolist() == [False, False, True, True]  # the border counts as inside
    wide = RULES.model_copy(update={"tsunami_buffer_km": 2.0})
    s = screen(reg, wide, pd.concat([_cands(pts, "micro"), _cands([(80.05, 10.05)], "floating")],
                                    ignore_index=True)).sites
    assert s.tsunami_pass.tolist() == [False, False, False, True, True]  # floating: recorded, not applied
    assert s.tsunami_value.iloc[4] == 0.0
    assert re.search(r"tsunami \(1\.9\d; needs > 2 km from a hazard zone", s.reason.iloc[2])


@pytest.mark.parametrize("siting, field", [
    ({"max_slope_percent": -5}, "siting.max_slope_percent"),
    ({"max_slope_percent": 0}, "siting.max_slope_percent"),
    ({"min_elevation_m": 100, "max_elevation_m": 50}, "min_elevation_m must not exceed max_elevation_m"),
    ({"tsunami_buffer_km": -1}, "siting.tsunami_buffer_km"),
])
def test_bad_terrain_and_tsunami_settings_name_the_field(siting, field):
    from smrplan.scenario import parse_scenario

    with pytest.raises(InputError) as exc:
        parse_scenario({"name": "x", "data": {"settlements": "a.csv"}, "siting": siting}, "bad.yaml")
    assert "bad.yaml" in str(exc.value) and field in str(exc.value)


def test_tsunami_is_a_known_layer():
    from smrplan.scenario import parse_scenario

    sc = parse_scenario({"name": "x", "data": {"settlements": "a.csv", "tsunami": "incois.gpkg",
                                               "dem": "glo90.tif"}}, "x.yaml")
    assert sc.data["tsunami"] == "incois.gpkg"


def test_reason_values_are_formatted_each_as_on_its_own():
    rng = np.random.default_rng(2)
    v = np.concatenate([rng.choice([0.0, -0.0, 1.0, np.nan, np.inf, 250.0, 99.995, 0.005], 500),
                        rng.lognormal(3, 3, 500) * rng.choice([-1, 1], 500)])
    alone = ["n/a" if not np.isfinite(x) else f"{x:.0f}" if abs(x) >= 100 else f"{x:.2f}" for x in v]
    assert _fmt(v).tolist() == alone
    assert _fmt(np.array([-0.0, 0.0])).tolist() == ["-0.00", "0.00"]  # distinct bits, distinct text
