"""The coal_units layer: the GEM tracker read against its schema, grouped into plant sites."""

import pandas as pd
import pytest

from smrplan.errors import InputError
from smrplan.geo.coal import coal_sites, read_coal_units

GCPT = "coal_units_gcpt_in/gcpt_july2023_india_coal_units.csv"


def test_tracker_totals_match_its_source(shared_data):
    u = read_coal_units(shared_data / GCPT)
    assert len(u) == 1901
    op = u[u.status == "operating"].copy()
    op["lon"], op["lat"] = op.geometry.x, op.geometry.y
    # SOURCE.md: 842 operating units = 235,853 MW at 278 locations; 229 captive units = 22,519 MW.
    assert len(op) == 842 and op.capacity_mw.sum() == pytest.approx(235853, abs=1)
    assert op.is_captive.sum() == 229 and op[op.is_captive].capacity_mw.sum() == pytest.approx(22519, abs=1)
    sites = coal_sites(op)
    assert len(sites) == 278 and sites.capacity_mw.sum() == pytest.approx(op.capacity_mw.sum())
    assert sites.units.sum() == 842


def _table(tmp_path, **change):
    row = {"gem_unit_id": "G1", "gem_location_id": "L1", "plant_name": "P", "capacity_mw": 210, "status": "operating",
           "start_year": 1990, "latitude": 22.0, "longitude": 80.0}
    row.update(change)
    path = tmp_path / "units.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    return path


def test_schema_bounds_name_file_row_and_column(tmp_path):
    with pytest.raises(InputError, match=r"units.csv.*row 2 \(id G1\), column capacity_mw.*<= 10000"):
        read_coal_units(_table(tmp_path, capacity_mw=20000))
    with pytest.raises(InputError, match=r"column start_year.*>= 1890"):
        read_coal_units(_table(tmp_path, start_year=1500))
    with pytest.raises(InputError, match=r"column status"):
        read_coal_units(_table(tmp_path, status=""))


def test_missing_required_column(tmp_path):
    path = _table(tmp_path)
    pd.read_csv(path).drop(columns="gem_location_id").to_csv(path, index=False)
    with pytest.raises(InputError, match="gem_location_id"):
        read_coal_units(path)
