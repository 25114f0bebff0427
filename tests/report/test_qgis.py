"""plan.qgs: the QGIS project beside a run's GeoPackages (smrplan.report.qgis).

The project's structure is validated: it parses as QGIS project XML, every layer is a file inside the
run directory named by a relative path, the layer exists in its GeoPackage, paths are stored relative,
and the styles follow the report (options, first failed criterion, reactor zones). Where QGIS is
installed (Debian's python3-qgis, installed by scripts/install-qgis.sh), QGIS itself opens the project
headless and every layer must load, with the features of its file and no warning in QGIS's log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest

from smrplan.api import run
from smrplan.options import OPTION_COLOURS
from smrplan.report.qgis import LAYER_ID_PREFIX, PROJECT_FILE, write_project
from smrplan.report.sites import REJECTED_LAYER

# Run by Debian's own Python, which has QGIS's bindings: open the project, report each layer and the log.
OPEN_IN_QGIS = """
import json, sys
from qgis.core import QgsApplication, QgsProject
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
log = []
QgsApplication.messageLog().messageReceived.connect(lambda m, tag, level: log.append([tag, int(level), m]))
project = QgsProject.instance()
ok = project.read(sys.argv[1])
layers = {l.id(): [l.isValid(), l.featureCount() if hasattr(l, "featureCount") else -1]
          for l in project.mapLayers().values()}
print(json.dumps({"ok": ok, "error": project.error(), "layers": layers, "log": log}))
app.exitQgis()
"""
SYSTEM_PYTHON = "/usr/bin/python3"


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0


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
        assert path.endswith(".gpkg") and layer in set(pyogrio.list_layers(moved / path)[:, 0]), source
        assert source.split("|subset=")[0] in tree_sources
        assert m.findtext("./srs/spatialrefsys/authid") == "EPSG:4326"
        assert m.find("renderer-v2") is not None


def test_project_styles_follow_the_report(islands):
    plan = json.loads((islands / "plan.json").read_text())
    layers = {m.findtext("id").removeprefix(LAYER_ID_PREFIX): m for m in _layers(islands / PROJECT_FILE)}
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
    rejected = layers["rejected_sites"].find("renderer-v2")  # the compact layer, by first failed criterion
    assert rejected.get("type") == "categorizedSymbol" and rejected.get("attr") == "first_failed"
    evaluated = {c["name"] for c in plan["siting"]["criteria"] if c["evaluated"]}
    categories = {c.get("value") for c in rejected.iter("category")}
    assert categories == evaluated
    first = pyogrio.read_dataframe(islands / "sites.gpkg", layer=REJECTED_LAYER, read_geometry=False)["first_failed"]
    assert set(first.astype(str)) <= categories  # every rejected site gets a style


def test_built_reactors_get_their_zones(islands, tmp_path):
    """A plan with a built reactor: its star layer and its exclusion and EPZ circles are in the project."""
    out = tmp_path / "run"
    shutil.copytree(islands, out)
    plan = json.loads((out / "plan.json").read_text())
    plan["reactor_sites"] = [{"site_id": "S1", "kind": "land", "technology": "smr55_india", "lon": 92.7, "lat": 11.6}]
    (out / "plan.json").write_text(json.dumps(plan))
    layers = {m.findtext("id").removeprefix(LAYER_ID_PREFIX): m for m in _layers(write_project(out))}
    assert "built_sites" in layers and layers["built_sites"].findtext("datasource").endswith('|subset="built"')
    assert {c.get("value") for c in layers["reactor_zones"].iter("category")} == {"exclusion", "epz"}


@pytest.mark.skipif(not _has_qgis(), reason="QGIS is not installed (scripts/install-qgis.sh installs it on Debian)")
def test_qgis_opens_the_project_without_warnings(islands, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(islands, moved)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path), "TMPDIR": str(tmp_path)}
    r = subprocess.run([SYSTEM_PYTHON, "-c", OPEN_IN_QGIS, str(moved / PROJECT_FILE)], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    opened = json.loads(r.stdout.strip().splitlines()[-1])
    assert opened["ok"] and not opened["error"], opened
    assert opened["log"] == [], opened["log"]  # no warning or message of any level
    layers = {m.findtext("id"): m for m in _layers(moved / PROJECT_FILE)}
    assert set(opened["layers"]) == set(layers)  # QGIS kept every id, so each layer stays in its tree entry
    for layer_id, (valid, count) in opened["layers"].items():
        assert valid, layer_id
        source = layers[layer_id].findtext("datasource")
        if "|subset=" not in source:  # QGIS sees every feature of the file
            path, name = source.split("|")[0], source.split("layername=")[1].split("|")[0]
            assert count == pyogrio.read_info(moved / path, layer=name)["features"], layer_id
