"""The catalogue schema (catalogue/parameters.csv): its page is generated, and its bounds hold for
catalogue files and scenario overrides (exit status 2 naming the file and the field)."""

from importlib import resources
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from smrplan.catalogue.catalogue import apply_overrides, read_catalogue
from smrplan.catalogue.schema import PARAMETERS, markdown
from smrplan.errors import InputError

DOC = Path(__file__).resolve().parents[2] / "docs" / "catalogue-schema.md"
CAT = read_catalogue()


def test_committed_page_is_generated():
    assert DOC.read_text(encoding="utf-8") == markdown(), "run scripts/make-catalogue-schema.py"


def test_bounds():
    cf = PARAMETERS["capacity_factor"]
    assert cf.bounds_text() == "(0, 1]" and cf.outside(0.0) and not cf.outside(1.0) and cf.outside(1.01)
    assert PARAMETERS["forced_outage_rate"].bounds_text() == "[0, 1)" and PARAMETERS["forced_outage_rate"].outside(1.0)
    assert PARAMETERS["max_modules_per_plant"].bounds_text() == ">= 1"
    assert PARAMETERS["cooling"].type == "text" and PARAMETERS["cooling"].values == ("seawater", "freshwater", "dry", "air")
    assert PARAMETERS["cooling"].bounds_text() == "one of seawater, freshwater, dry, air"
    assert PARAMETERS["capex_usd_per_kw"].values == ()
    lr = PARAMETERS["learning_rate_per_doubling"]
    assert lr.bounds_text() == "(-1, 1)" and not lr.outside(0.0) and not lr.outside(-0.1)


def test_every_catalogue_cooling_is_an_allowed_value():
    used = {t.text("cooling") for t in CAT.values() if "cooling" in t.parameters}
    assert used and used <= set(PARAMETERS["cooling"].values)


@pytest.mark.parametrize("value", ["plasma", "Seawater", ""])
def test_unknown_cooling_override_is_an_error(value):
    with pytest.raises(InputError, match=r"technologies.overrides.bwrx300.cooling: .* not a known cooling; expected one "
                                         "of seawater, freshwater, dry, air"):
        apply_overrides(CAT, {"bwrx300": {"cooling": value}}, "s.yaml")
    assert apply_overrides(CAT, {"bwrx300": {"cooling": "air"}}, "s.yaml")["bwrx300"].text("cooling") == "air"


def test_unknown_cooling_in_a_catalogue_file_exits_2(tmp_path):
    packaged = resources.files("smrplan.catalogue").joinpath("technologies.yaml").read_text(encoding="utf-8")
    entry = yaml.safe_load(packaged)["technologies"]["bwrx300"]
    entry["parameters"]["cooling"]["value"] = "liquid_helium"
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump({"technologies": {"smr": entry}}), encoding="utf-8")
    r = run_cli(["catalogue", "--file", str(path)], timeout=120)
    assert r.returncode == 2, r.stderr
    assert "catalogue.yaml" in r.stderr and "technologies.smr.parameters.cooling.value" in r.stderr
    assert "liquid_helium" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(("tech", "name", "value"), [("bwrx300", "capacity_factor", 1.2),
                                                     ("bwrx300", "forced_outage_rate", 1.0),
                                                     ("pv_battery_hybrid", "battery_roundtrip_efficiency", 0.0),
                                                     ("grid_extension", "losses_fraction", 1.0),
                                                     ("diesel_minigrid", "lifetime_years", 0),
                                                     ("bwrx300", "learning_rate_per_doubling", 1.0),
                                                     ("bwrx300", "learning_rate_per_doubling", -1.0),
                                                     ("bwrx300", "earliest_order_year", 1990)])
def test_override_outside_bounds(tech, name, value):
    with pytest.raises(InputError, match=f"technologies.overrides.{tech}.{name}.*outside the bounds"):
        apply_overrides(CAT, {tech: {name: value}}, "s.yaml")


def test_override_outside_bounds_exits_2(tmp_path):
    sc = tmp_path / "scenario.yaml"
    sc.write_text("name: x\ndata: {settlements: 'bundled:islands.csv'}\n"
                  "technologies: {overrides: {bwrx300: {capacity_factor: 1.5}}}\n", encoding="utf-8")
    out = tmp_path / "run"
    r = run_cli(["run", str(sc), "--out", str(out)], timeout=300)
    assert r.returncode == 2, r.stderr
    assert "scenario.yaml" in r.stderr and "technologies.overrides.bwrx300.capacity_factor" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def _catalogue(tmp_path, **changes) -> Path:
    """A user catalogue holding the packaged diesel entry, with `changes` to its parameters' records."""
    packaged = resources.files("smrplan.catalogue").joinpath("technologies.yaml").read_text(encoding="utf-8")
    entry = yaml.safe_load(packaged)["technologies"]["diesel_minigrid"]
    for name, fields in changes.items():
        entry["parameters"][name].update(fields)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump({"technologies": {"gen": entry}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(("changes", "field"), [
    ({"min_load_fraction": {"value": 1.5, "high": 2.0}}, "min_load_fraction.value"),
    ({"average_loading_fraction": {"low": 0.0}}, "average_loading_fraction.low"),
    ({"co2_kg_per_l": {"value": "lots"}}, "co2_kg_per_l.value"),
])
def test_catalogue_file_outside_schema_exits_2(tmp_path, changes, field):
    assert read_catalogue(_catalogue(tmp_path))  # valid without the change
    path = _catalogue(tmp_path, **changes)
    r = run_cli(["catalogue", "--file", str(path)], timeout=120)
    assert r.returncode == 2, r.stderr
    assert "catalogue.yaml" in r.stderr and field in r.stderr and "Traceback" not in r.stderr
