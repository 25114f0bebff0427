"""The check rules of smrplan.geo.checks, each in its three modes, and the agreement of the paths
that use them: a run (raise), --repair (repair), `smrplan data check` (report) and the importers."""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon

from smrplan.errors import InputError
from smrplan.geo import checks
from smrplan.geo.checks import Fixes, Rows, data_limits
from smrplan.geo.datacheck import check_data_dir
from smrplan.geo.importers import read_geonames_cities
from smrplan.geo.io import read_settlements

FILE = Path("layer.csv")  # rows numbered from 2, as in a CSV
INDIA = data_limits()["regions"]["india"]
BOWTIE = Polygon([(72, 10), (73, 11), (73, 10), (72, 11), (72, 10)])  # self-intersecting
SITE_GRID = pyproj.CRS.from_wkt('LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1],'
                                'AXIS["x",EAST],AXIS["y",NORTH]]')  # no transformation to WGS84 exists


def _table(**cols) -> pd.DataFrame:
    return pd.DataFrame({"id": ["a", "b", "c"][:len(next(iter(cols.values())))], **cols})


def _points(geoms, crs="EPSG:4326", **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["a", "b", "c"][:len(geoms)], **cols}, geometry=list(geoms), crs=crs)


# Each rule on a table with one problem: the table, the rule, then what each mode gives:
# raise: (field, text) in the InputError, or None when the problem is only a warning (logged);
# repair: (kind, count, check of the repaired records, text of the logged fix), or None when not fixable;
# report: the problem as listed by `smrplan data check`.
CASES = {
    "required_columns": (
        lambda: pd.DataFrame({"id": ["a"], "name": ["A"]}),
        lambda t: checks.required_columns(t, ("id", "name", "population"), {"population": ("population", "pop")}),
        ("column population", "required column 'population' is missing (no population column"),
        None,
        "error: required column 'population' is missing"),
    "empty_ids": (
        lambda: pd.DataFrame({"id": ["a", " ", None]}),
        lambda t: checks.empty_ids(t),
        ("row 3, column id", "empty id (2 row(s))"),
        ("empty_id", 2, lambda g: list(g["id"]) == ["a", "row-3", "row-4"], "row 3, column id: empty id; set to 'row-3'"),
        "error: 2 empty id value(s) (row 3, 4)"),
    "unique_ids": (
        lambda: _table(name=["A", "B", "C"]).assign(id=["a", "b", "a"]),
        lambda t: checks.unique_ids(t),
        ("row 4 (id a), column id", "duplicate ids ['a'] (1 repeat(s))"),
        ("duplicate_id", 1, lambda g: list(g["id"]) == ["a", "b", "a-2"], "row 4 (id a), column id: duplicate id; renamed 'a-2'"),
        "error: 1 duplicate id value(s) in 2 rows, e.g. ['a'] (row 4)"),
    "numbers_required": (
        lambda: _table(population=[10, "many", -5]),
        lambda t: checks.numbers(t, "population", minimum=0.0, kind="bad_population"),
        ("row 3 (id b), column population", "'many' is not a number (1 row(s)); expected a number >= 0"),
        ("bad_population", 2, lambda g: list(g["id"]) == ["a"] and list(g["population"]) == [10.0],
         "row 4 (id c), column population: -5 is below 0; expected a number >= 0; row dropped"),
        "error: 1 missing or non-numeric population (row 3)"),
    "numbers_below_minimum": (
        lambda: _table(population=[10, -5]),
        lambda t: checks.numbers(t, "population", minimum=0.0, kind="bad_population"),
        ("row 3 (id b), column population", "-5 is below 0 (1 row(s)); expected a number >= 0"),
        ("bad_population", 1, lambda g: list(g["id"]) == ["a"], "row 3 (id b), column population: -5 is below 0"),
        "error: 1 negative population (row 3)"),
    "numbers_optional": (
        lambda: _table(households=["x", 3, None]),
        lambda t: checks.numbers(t, "households", minimum=0.0, missing=None),
        None,
        ("bad_value", 1, lambda g: len(g) == 3 and np.isnan(g["households"].iloc[0]) and g["households"].iloc[1] == 3,
         "row 2 (id a), column households: 'x' is not a number; expected a number >= 0; left blank"),
        "warning: 1 non-numeric households (row 2; taken as blank)"),
    "implausible": (
        lambda: _table(population=[10.0, 9e9]),
        lambda t: checks.implausible(t, "population", data_limits()["max_settlement_population"]),
        ("row 3 (id b), column population", "9e+09 is implausibly large"),
        None,
        "error: 1 population above 50,000,000 per place, implausible (row 3)"),
    "missing_crs": (
        lambda: _points([Point(72.6, 10.5)], crs=None),
        lambda t: checks.missing_crs(t),
        ("CRS", "no coordinate reference system; set one (e.g. EPSG:4326)"),
        ("missing_crs", 1, lambda g: g.crs.to_epsg() == 4326, "layer.csv: CRS: no coordinate reference system; EPSG:4326"),
        "error: no coordinate reference system; set one (e.g. EPSG:4326)"),
    "reproject": (
        lambda: _points([Point(1.0, 2.0)], crs=SITE_GRID),
        lambda t: checks.reproject(t),
        ("CRS", "cannot reproject to EPSG:4326"),
        None,
        "error: cannot reproject to EPSG:4326"),
    "empty_geometry": (
        lambda: _points([Point(72.6, 10.5), None, Point()]),
        lambda t: checks.empty_geometry(t),
        ("row 3 (id b), geometry", "empty or missing geometry (2 row(s))"),
        ("empty_geometry", 2, lambda g: list(g["id"]) == ["a"],
         "row 4 (id c), geometry: empty or missing geometry or coordinates; row dropped"),
        "error: 2 empty or missing geometries or coordinates (row 3, 4)"),
    "invalid_geometry": (
        lambda: _points([Point(72.6, 10.5), BOWTIE]),
        lambda t: checks.invalid_geometry(t),
        None,
        ("invalid_geometry", 1, lambda g: g.is_valid.all() and len(g) == 2,
         "row 3 (id b), geometry: invalid geometry; repaired with make_valid"),
        "warning: 1 invalid geometries (row 3; make_valid repairs them"),
    "degrees": (
        lambda: _points([Point(72.6, 10.5), Point(720000, 1100000)]),
        lambda t: checks.degrees(t),
        ("row 3 (id b), geometry", "(720000, 1.1e+06) is not WGS84 lon/lat in degrees; the file's CRS does not match"),
        ("outside_region", 1, lambda g: list(g["id"]) == ["a"], "row 3 (id b), geometry: (720000, 1.1e+06) is not lon/lat"),
        "error: coordinates (720000..720000, 1100000..1100000) are not degrees but the CRS EPSG:4326 is geographic"),
    "projected_degrees": (
        lambda: _points([Point(72.6, 10.5)], crs="EPSG:7755"),
        lambda t: checks.projected_degrees(t),
        None,
        None,
        "warning: coordinates look like degrees but the CRS EPSG:7755 is projected; is the CRS right?"),
    "outside_region": (
        lambda: _points([Point(72.6, 10.5), Point(10.5, 72.6), shapely.box(150, 10, 151, 11)]),
        lambda t: checks.outside_region(t, INDIA, "india"),
        None,
        ("outside_region", 2, lambda g: list(g["id"]) == ["a"],
         "row 3 (id b), geometry: (10.5, 72.6) is outside the region india (66..99 E, 5..38 N); row dropped"),
        "warning: 2 of 3 features outside the region india (66..99 E, 5..38 N); most would fall inside with lon and "
        "lat swapped (row 3, 4)"),
}


def _rows(name: str, mode: str) -> Rows:
    table, rule = CASES[name][:2]
    t = Rows(table(), FILE, mode=mode)
    rule(t)
    return t


@pytest.mark.parametrize("name", CASES)
def test_raise_mode_names_file_row_and_field(name, caplog):
    expected = CASES[name][2]
    if expected is None:  # a warning: logged, the records kept as read
        before = CASES[name][0]()
        with caplog.at_level(logging.WARNING, logger="smrplan.io"):
            t = _rows(name, "raise")
        assert f"{FILE}: warning: " in caplog.text and len(t.gdf) == len(before)
        return
    field, text = expected
    with pytest.raises(InputError) as exc:
        _rows(name, "raise")
    assert exc.value.file == str(FILE) and exc.value.field == field and text in exc.value.message


@pytest.mark.parametrize("name", CASES)
def test_repair_mode_fixes_logs_and_counts(name, caplog):
    expected = CASES[name][3]
    if expected is None:  # not fixable: an error is raised as in raise mode, a warning logged
        if CASES[name][2] is not None:
            with pytest.raises(InputError, match=re.escape(CASES[name][2][1])):
                _rows(name, "repair")
        else:
            with caplog.at_level(logging.WARNING, logger="smrplan.io"):
                assert _rows(name, "repair").fixes.counts == {}
            assert "warning: " in caplog.text
        return
    kind, count, check, text = expected
    with caplog.at_level(logging.WARNING, logger="smrplan.io"):
        t = _rows(name, "repair")
    assert t.fixes.counts[kind] == count and check(t.gdf)
    assert text in caplog.text and f"(repaired: {kind})" in caplog.text


@pytest.mark.parametrize("name", CASES)
def test_report_mode_lists_the_problem_and_changes_nothing(name, caplog):
    before = CASES[name][0]()
    with caplog.at_level(logging.WARNING, logger="smrplan.io"):
        t = _rows(name, "report")
    assert caplog.text == ""
    assert any(str(p).startswith(CASES[name][4]) for p in t.problems), [str(p) for p in t.problems]
    assert all(p.file == str(FILE) and p.level in ("error", "warning") for p in t.problems)
    assert len(t.gdf) == len(before) and list(t.gdf.columns) == list(before.columns)


def test_report_mode_lists_every_problem_of_a_rule():
    t = _rows("numbers_required", "report")
    assert [str(p) for p in t.problems] == ["error: 1 missing or non-numeric population (row 3)",
                                            "error: 1 negative population (row 4)"]
    assert list(t.problems[1].rows) == [4] and t.problems[1].field == "column population"


def test_levels_follow_the_caller():
    t = Rows(_points([Point(72.6, 10.5), None]), FILE, mode="report")
    checks.empty_geometry(t, level="warning")
    checks.numbers(t, "id", missing="warning")
    assert [str(p) for p in t.problems] == ["warning: 1 empty or missing geometries or coordinates (row 3)",
                                            "warning: 2 missing or non-numeric id (row 2, 3)"]
    r = Rows(_points([Point(72.6, 10.5), None]), FILE, mode="raise")
    checks.empty_geometry(r, level="warning")  # a warning does not stop a run
    assert len(r.gdf) == 2


def test_rules_do_not_modify_their_input():
    frame = _table(population=[10, "many", -5]).assign(id=["a", "a", ""])
    copy = frame.copy()
    for mode in ("raise", "repair", "report"):
        t = Rows(frame, FILE, mode=mode)
        with pytest.raises(InputError) if mode == "raise" else contextlib.nullcontext():
            checks.empty_ids(t)
            checks.unique_ids(t)
            checks.numbers(t, "population", minimum=0.0)
    pd.testing.assert_frame_equal(frame, copy)


def test_unknown_mode_and_fixes_imply_repair():
    with pytest.raises(ValueError, match="mode"):
        Rows(_table(population=[1]), FILE, mode="fix")
    fixes = Fixes(FILE)
    t = Rows(_table(population=[1]).assign(id=["b"]), FILE, fixes)
    checks.unique_ids(t, existing=pd.Series(["a", "b"]))
    assert t.mode == "repair" and fixes.counts == {"duplicate_id": 1} and list(t.gdf["id"]) == ["b-2"]
    with pytest.raises(InputError, match="id 'b' is already a settlement id"):
        checks.unique_ids(Rows(_table(population=[1]).assign(id=["b"]), FILE), existing=pd.Series(["a", "b"]))


def test_renamed_ids_never_collide():
    t = Rows(pd.DataFrame({"id": ["a", "a", "a-2", "a"]}), FILE, mode="repair")
    checks.unique_ids(t)
    assert list(t.gdf["id"]) == ["a", "a-2-dup", "a-2", "a-3"] and t.gdf["id"].is_unique


def test_not_empty_raises_in_every_mode():
    for mode in ("raise", "repair", "report"):
        with pytest.raises(InputError, match="no features"):
            checks.not_empty(Rows(pd.DataFrame({"id": []}), FILE, mode=mode))


def test_points_from_columns_in_each_mode():
    def table():
        return pd.DataFrame({"id": ["a", "b", "c", "d"], "Lon": [72.6, "", "east", 720000], "LAT": [10.5, 10.6, 10.7, 1100000]})

    with pytest.raises(InputError) as exc:
        checks.points_from_columns(Rows(table(), FILE))
    assert exc.value.field == "row 3, column Lon" and exc.value.message.startswith("empty (2 row(s)); expected a coordinate")
    with pytest.raises(InputError) as exc:
        checks.points_from_columns(Rows(table().iloc[[0, 3]], FILE))
    assert exc.value.field == "row 3, columns Lon/LAT" and "not WGS84 lon/lat in degrees" in exc.value.message
    for mode in ("repair", "report"):  # left to empty_geometry and degrees
        t = Rows(table(), FILE, mode=mode)
        checks.points_from_columns(t)
        assert t.gdf.crs.to_epsg() == 4326 and list(t.gdf.geometry.isna()) == [False, True, True, False]
        assert not t.problems and not (t.fixes.counts if t.fixes else {})
    t = Rows(table(), FILE)
    with pytest.raises(InputError, match="'east' is not a number"):  # text stays an error with drop_missing
        checks.points_from_columns(t, drop_missing=True)
    assert t.dropped == 1 and list(t.rows) == [2, 4, 5]
    for mode in ("raise", "repair", "report"):
        with pytest.raises(InputError, match="no coordinate columns"):
            checks.points_from_columns(Rows(pd.DataFrame({"id": ["a"]}), FILE, mode=mode))


def test_repairs_of_large_tables_are_vectorised_and_logged_in_bounded_lines(caplog):
    n = 200_000
    ids = np.where(np.arange(n) % 2 == 0, np.arange(n).astype(str), "dup")
    pop = np.where(np.arange(n) % 3 == 0, -1.0, 5.0)
    with caplog.at_level(logging.WARNING, logger="smrplan.io"):
        t = Rows(pd.DataFrame({"id": ids, "population": pop}), FILE, mode="repair")
        checks.numbers(t, "population", minimum=0.0, kind="bad_population")
        checks.unique_ids(t)
    dropped = int((pop < 0).sum())
    assert t.fixes.counts["bad_population"] == dropped and len(t.gdf) == n - dropped and t.gdf["id"].is_unique
    assert t.fixes.counts["duplicate_id"] == int((ids[pop >= 0] == "dup").sum()) - 1
    assert len(caplog.records) == 2 * (checks.LOG_EACH + 1)
    report = Rows(pd.DataFrame({"id": ids, "population": pop}), FILE, mode="report")
    checks.unique_ids(report)
    checks.numbers(report, "population", minimum=0.0)
    assert [len(p.rows) for p in report.problems] == [n // 2 - 1, dropped]


# --- the former paths agree: a run (raise), --repair (repair), data check (report), importers ----------

HEADER = "id,name,lon,lat,population\n"
AGREE = {  # a bad row 3: what a run raises, what --repair does, what data check lists, what an importer raises
    "duplicate id": ("a,A,72.6,10.5,10\na,B,72.7,10.6,20\n", "row 3 (id a), column id", "duplicate ids ['a']",
                     {"duplicate_id": 1}, "error: 1 duplicate id value(s) in 2 rows, e.g. ['a'] (row 3)",
                     "row 3, column geonameid"),
    "negative population": ("a,A,72.6,10.5,10\nb,B,72.7,10.6,-5\n", "row 3 (id b), column population",
                            "-5 is below 0", {"bad_population": 1}, "error: 1 negative population (row 3)",
                            "row 3, column population"),
    "missing coordinate": ("a,A,72.6,10.5,10\nb,B,,10.6,20\n", "row 3, column lon", "empty (1 row(s))",
                           {"empty_geometry": 1}, "error: 1 empty or missing geometries or coordinates (row 3)",
                           "row 3, column longitude"),
}


@pytest.mark.parametrize("case", AGREE)
def test_the_three_paths_agree_on_the_same_bad_table(case, tmp_path, caplog):
    body, field, text, repairs, listed, importer_field = AGREE[case]
    path = tmp_path / "settlements.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(InputError) as exc:  # a run: an error naming file, row and field
        read_settlements(path)
    assert exc.value.file == str(path) and exc.value.field == field and text in exc.value.message
    with caplog.at_level(logging.WARNING, logger="smrplan.io"):  # --repair: a logged fix
        st = read_settlements(path, repair=True)
    assert st.attrs["repairs"] == repairs and f"{path}: row 3" in caplog.text
    report = check_data_dir(tmp_path, {"settlements": "settlements.csv"})  # data check: a listed problem
    assert listed in report["problems"].iloc[0] and report["status"].iloc[0] == "error"
    geonames = tmp_path / "cities.csv"  # the same table as a GeoNames extract: the importer raises the same rule
    geonames.write_text("geonameid,name,longitude,latitude,population\n" + body.replace("a,", "1,").replace("b,", "2,"),
                        encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_geonames_cities(geonames)
    assert exc.value.field == importer_field and text.split(" (")[0].split(" ['")[0] in exc.value.message


def test_yes_no_values_are_never_numbers():
    flags = checks.yes_no(pd.Series([True, None, False], dtype=object))
    assert flags.tolist() == [True, False, True]
    assert checks.yes_no(pd.Series([True, False])).all()
    assert not checks.yes_no(pd.Series([1.0, 0.0])).any()
    values = checks.numeric_values(pd.Series([True, "3", None, 2.5], dtype=object))
    assert np.isnan(values[0]) and values[1] == 3 and np.isnan(values[2]) and values[3] == 2.5
    assert np.isnan(checks.numeric_values(pd.Series([True, None], dtype="boolean"))).all()


def test_unknown_crs_is_reported_not_assumed(tmp_path):
    (tmp_path / "odd.geojson").write_text(
        '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:999999"}},"features":'
        '[{"type":"Feature","properties":{"id":"a"},"geometry":{"type":"Point","coordinates":[72.6,10.5]}}]}',
        encoding="utf-8")
    report = check_data_dir(tmp_path).set_index("layer")
    assert report.loc["odd", "problems"][0].startswith("error: unknown CRS 'EPSG:999999'")
    assert report.loc["odd", "crs"] is None
