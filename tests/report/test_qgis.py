"""plan.qgs: the QGIS project beside a run's GeoPackages (smrplan.report.qgis).

QGIS itself is not installed here, so the project's structure is validated: it parses as QGIS project
XML, every layer is a file inside the run directory named by a relative path, the layer exists in its
GeoPackage (or is the GeoParquet file of rejected sites), paths are stored relative, and the styles
follow the report (options, first failed criterion, reactor zones).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.parquet as pq
import pyogrio
import pytest

from smrplan.api import run
from smrplan.options import OPTION_COLOURS
from smrplan.report.qgis import PROJECT_FILE, write_project
from smrplan.report.sites import REJECTED_FILE


@pytest.fixture(scope="module")
def islands(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("qgis") / "islands"
    run("india-islands", out=out)
    return out


def _layers(project: Path) -> list[ET.Element]:
    root = ET.parse(project).getroot()
    assert root.tag == "qgis" and root.get("version", "").startswith("3.")
    return root.findall("./projectlayers/maplayer")


def test_project_references_only_files_in_the_run_directory(islands, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(islands, moved)  # relative paths: the folder works wherever it is
    project = moved / PROJECT_FILE
    assert project.is_file()
    root = ET.parse(project).getroot()
    assert root.findtext("./properties/Paths/Absolute") == "false"
    layers = _layers(project)
    assert len(layers) >= 6
    tree_sources = {e.get("source") for e in root.iter("layer-tree-layer")}
    for m in layers:
        source = m.findtext("datasource")
        path, layer = source.split("|")[0], source.split("layername=")[1].split("|")[0]
        assert path.startswith("./") and "/" not in path[2:], source
        assert (moved / path).resolve().parent == moved.resolve()
        if path.endswith(".parquet"):  # GDAL's Parquet driver (not in this GDAL) names the layer after the file
            assert layer == Path(path).stem and b"geo" in pq.read_metadata(moved / path).metadata, source
        else:
            assert layer in set(pyogrio.list_layers(moved / path)[:, 0]), source
        assert source.split("|subset=")[0] in tree_sources
        assert m.findtext("./srs/spatialrefsys/authid") == "EPSG:4326"
        assert m.find("renderer-v2") is not None


def test_project_styles_follow_the_report(islands):
    plan = json.loads((islands / "plan.json").read_text())
    layers = {m.findtext("id"): m for m in _layers(islands / PROJECT_FILE)}
    assert {"settlements", "candidate_sites", "land", "seismic_zones", "earthquakes"} <= set(layers)
    st = layers["settlements"].find("renderer-v2")
    assert st.get("type") == "categorizedSymbol" and st.get("attr") == "chosen_option"
    chosen = {o for o, t in plan["options"].items() if t["settlements"]}
    assert {c.get("value") for c in st.iter("category")} == chosen
    colours = {o.get("value") for o in st.iter("Option") if o.get("name") == "color"}
    for o in chosen:
        h = OPTION_COLOURS[o].lstrip("#")
        assert f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},255" in colours
    sites = layers["candidate_sites"].find("renderer-v2")
    assert "regexp_substr" in sites.get("attr") and {c.get("value") for c in sites.iter("category")} == {"suitable"}
    rejected = layers["rejected_sites"].find("renderer-v2")  # the compact file, by first failed criterion
    assert rejected.get("type") == "categorizedSymbol" and rejected.get("attr") == "first_failed"
    evaluated = {c["name"] for c in plan["siting"]["criteria"] if c["evaluated"]}
    categories = {c.get("value") for c in rejected.iter("category")}
    assert categories == evaluated
    first = pq.read_table(islands / REJECTED_FILE, columns=["first_failed"]).column("first_failed").to_pandas()
    assert set(first.astype(str)) <= categories  # every rejected site gets a style


def test_built_reactors_get_their_zones(islands, tmp_path):
    """A plan with a built reactor: its star layer and its exclusion and EPZ circles are in the project."""
    out = tmp_path / "run"
    shutil.copytree(islands, out)
    plan = json.loads((out / "plan.json").read_text())
    plan["reactor_sites"] = [{"site_id": "S1", "kind": "land", "technology": "smr55_india", "lon": 92.7, "lat": 11.6}]
    (out / "plan.json").write_text(json.dumps(plan))
    layers = {m.findtext("id"): m for m in _layers(write_project(out))}
    assert "built_sites" in layers and layers["built_sites"].findtext("datasource").endswith('|subset="built"')
    assert {c.get("value") for c in layers["reactor_zones"].iter("category")} == {"exclusion", "epz"}
