"""plan.qgs: a QGIS project beside a run's GeoPackages, with the report's styles.

Plain QGIS 3 project XML (the format QGIS reads and writes for ``.qgs``), written from the files of a
run directory only. Every layer points into the run directory by a relative path (``./sites.gpkg``),
so the folder can be moved or shared whole. Layers, top to bottom: settlements coloured by chosen
option as in the report, built reactor sites, exclusion zones and emergency planning zones, suitable
candidate sites, rejected candidate sites by the first siting criterion they fail (the compact layer
`smrplan.report.sites.REJECTED_LAYER` of sites.gpkg, field ``first_failed``), grid-extension context
(airports, plants, dams, earthquakes, cyclone tracks, seismic zones) and land. A run directory written
before that layer keeps every candidate in the ``sites`` layer, styled by the first criterion named in
its reason text.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyogrio

from smrplan.options import OPTION_COLOURS, OPTION_LABELS
from smrplan.report.geography import CONTEXT_FILE, ZONES_LAYER
from smrplan.report.plots import CRITERION_COLOURS
from smrplan.report.sites import REJECTED_LAYER

PROJECT_FILE = "plan.qgs"
# QGIS keeps a layer id from the file only when it is longer than 10 characters (QgsMapLayer::readLayerXml)
# and makes a new one otherwise, which cuts the layer from its tree entry: every id carries this prefix.
LAYER_ID_PREFIX = "smrplan_"
QGIS_VERSION = "3.22.0-Białowieża"  # the oldest long-term release tested (Debian 12); later releases read it as is
_WGS84 = {"proj4": "+proj=longlat +datum=WGS84 +no_defs", "srsid": "3452", "srid": "4326", "authid": "EPSG:4326",
          "description": "WGS 84", "projectionacronym": "longlat", "ellipsoidacronym": "EPSG:7030", "geographicflag": "true"}
# First failed criterion of a site of sites.gpkg, from the `reason` text (as report.plots.first_failed).
FIRST_FAILED = "if(\"suitable\", 'suitable', regexp_substr(\"reason\", '^\\\\s*([A-Za-z0-9_]+)'))"
# Context layers: (layer, title, symbol kind, QGIS symbol properties), drawn under the results.
_CONTEXT_STYLE = {
    "land": ("land and coast", "fill", {"color": "222,214,190,255", "outline_color": "156,146,119,255", "outline_width": "0.2"}),
    "districts": ("districts", "fill", {"color": "0,0,0,0", "outline_color": "120,120,120,255", "outline_width": "0.2",
                                        "outline_style": "dash"}),
    "seismic_zones": ("IS 1893 seismic zones", "fill", {"color": "123,50,148,20", "outline_color": "123,50,148,255",
                                                        "outline_width": "0.3", "outline_style": "dot"}),
    "cyclone_tracks": ("cyclone track fixes", "marker", {"name": "circle", "color": "94,60,153,120", "size": "1.2"}),
    "earthquakes": ("earthquakes", "marker", {"name": "circle", "color": "0,0,0,0", "outline_color": "140,81,10,255",
                                              "size": "2"}),
    "power_plants": ("power plants", "marker", {"name": "square", "color": "68,68,68,255", "size": "2.5"}),
    "dams": ("large dams", "marker", {"name": "triangle", "color": "33,102,172,255", "size": "2.5", "angle": "180"}),
    "airports": ("airports", "marker", {"name": "cross_fill", "color": "17,17,17,255", "size": "3"}),
}


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    """QGIS colour text "r,g,b,a" of a #rrggbb colour."""
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _options(parent: ET.Element, props: dict[str, str]) -> None:
    """A QGIS <Option type="Map"> of string properties."""
    opt = ET.SubElement(parent, "Option", type="Map")
    for k, v in props.items():
        ET.SubElement(opt, "Option", name=k, value=str(v), type="QString")


def _symbol(parent: ET.Element, name: str, kind: str, props: dict[str, str]) -> None:
    """One single-layer symbol: kind "marker", "fill" or "line" with its simple symbol layer."""
    sym = ET.SubElement(parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    cls = {"marker": "SimpleMarker", "fill": "SimpleFill", "line": "SimpleLine"}[kind]
    layer = ET.SubElement(sym, "layer", attrib={"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    _options(layer, props)


def _srs(parent: ET.Element) -> None:
    srs = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    for k, v in _WGS84.items():
        ET.SubElement(srs, k).text = v


def _categorized(attr: str, categories: list[tuple[str, str, str, dict[str, str]]]) -> ET.Element:
    """A categorized renderer on `attr` (field or expression): (value, label, symbol kind, props) each."""
    r = ET.Element("renderer-v2", type="categorizedSymbol", attr=attr, symbollevels="0", enableorderby="0",
                   forceraster="0", referencescale="-1")
    cats, syms = ET.SubElement(r, "categories"), ET.SubElement(r, "symbols")
    for i, (value, label, kind, props) in enumerate(categories):
        ET.SubElement(cats, "category", value=value, label=label, symbol=str(i), render="true", type="string")
        _symbol(syms, str(i), kind, props)
    return r


def _single(kind: str, props: dict[str, str]) -> ET.Element:
    r = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0", forceraster="0",
                   referencescale="-1")
    _symbol(ET.SubElement(r, "symbols"), "0", kind, props)
    return r


def _label(field: str) -> ET.Element:
    """Simple labels of `field` with a white buffer."""
    lab = ET.Element("labeling", type="simple")
    settings = ET.SubElement(lab, "settings", calloutType="simple")
    style = ET.SubElement(settings, "text-style", fieldName=field, fontSize="8", fontFamily="Sans Serif",
                          textColor="34,34,34,255", isExpression="0", fontSizeUnit="Point", textOpacity="1")
    ET.SubElement(style, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferColor="255,255,255,255",
                  bufferSizeUnits="MM", bufferOpacity="1")
    ET.SubElement(settings, "placement", placement="0", dist="1", distUnits="MM", priority="5")
    ET.SubElement(settings, "rendering", drawLabels="1", scaleVisibility="0", obstacle="1")
    return lab


def _geometry(path: Path, layer: str) -> str:
    """QGIS geometry class ("Point", "Line" or "Polygon") of a GeoPackage layer."""
    kind = str(pyogrio.read_info(path, layer=layer)["geometry_type"] or "Point").lower()
    return "Polygon" if "polygon" in kind else "Line" if "line" in kind else "Point"


def _context_filter(path: Path, name: str) -> str:
    """Features of a context layer drawn: earthquakes of Mw 6 and above (when the layer has an mw
    field), every feature of the others."""
    if name != "earthquakes" or "mw" not in set(pyogrio.read_info(path, layer=name)["fields"]):
        return ""
    return "\"mw\" >= 6"


def project_layers(run_dir: Path, plan: dict) -> list[dict]:
    """The layers of the project, top first: id, title, file, layer, geometry, renderer, labels, filter.

    Parameters
    ----------
    run_dir : Path
        A run directory (settlements.gpkg, sites.gpkg with its reactor_zones layer, context.gpkg).
    plan : dict
        Its plan.json (chosen options, siting criteria).

    Returns
    -------
    list of dict
        One entry per layer present in the run directory.
    """
    out: list[dict[str, Any]] = []
    st = run_dir / "settlements.gpkg"
    opts = [o for o, t in plan.get("options", {}).items() if t.get("settlements")] or list(OPTION_COLOURS)
    out.append({"id": "settlements", "title": "settlements by chosen option", "file": st, "layer": "settlements",
                "renderer": _categorized("chosen_option", [
                    (o, OPTION_LABELS.get(o, o), "marker", {"name": "circle", "color": _rgba(OPTION_COLOURS[o]),
                                                            "outline_color": "255,255,255,255", "size": "3"}) for o in opts]),
                "labels": "name"})
    sites = run_dir / "sites.gpkg"
    if plan.get("reactor_sites"):
        out.append({"id": "built_sites", "title": "built reactor sites", "file": sites, "layer": "sites",
                    "filter": "\"built\"", "renderer": _single("marker", {"name": "star", "color": "0,0,0,255",
                                                                        "outline_color": "255,215,0,255", "size": "5"}),
                    "labels": "site_id"})
    layers = set(pyogrio.list_layers(sites)[:, 0]) if sites.is_file() else set()
    if ZONES_LAYER in layers:
        out.append({"id": "reactor_zones", "title": "exclusion and emergency planning zones", "file": sites,
                    "layer": ZONES_LAYER, "renderer": _categorized("zone", [
                        ("exclusion", "exclusion zone", "fill", {"color": "178,24,43,90", "outline_color": "178,24,43,255",
                                                                 "outline_width": "0.4"}),
                        ("epz", "emergency planning zone", "fill", {"color": "178,24,43,15", "outline_color": "178,24,43,255",
                                                                    "outline_width": "0.4", "outline_style": "dash"})])})
    criteria = [c for c in plan.get("siting", {}).get("criteria", []) if c.get("evaluated")]
    cats = [("suitable", "suitable", "marker", {"name": "diamond", "color": "44,160,44,255", "size": "1.8"})]
    cats += [(c["name"], f"fails: {c['label']}", "marker",
              {"name": "circle", "color": _rgba(CRITERION_COLOURS[i % len(CRITERION_COLOURS)], 160), "size": "1.2"})
             for i, c in enumerate(criteria)]
    if REJECTED_LAYER in layers:  # sites.gpkg: the suitable and built sites, and the rejected ones' compact layer
        out.append({"id": "candidate_sites", "title": "suitable candidate sites", "file": sites, "layer": "sites",
                    "renderer": _categorized(FIRST_FAILED, cats[:1])})
        out.append({"id": "rejected_sites", "title": "rejected candidate sites by first failed criterion",
                    "file": sites, "layer": REJECTED_LAYER, "renderer": _categorized("first_failed", cats[1:])})
    else:
        out.append({"id": "candidate_sites", "title": "candidate sites by first failed criterion", "file": sites,
                    "layer": "sites", "renderer": _categorized(FIRST_FAILED, cats)})
    ctx = run_dir / CONTEXT_FILE
    present = set(pyogrio.list_layers(ctx)[:, 0]) if ctx.is_file() else set()
    for name in ("airports", "power_plants", "dams", "earthquakes", "cyclone_tracks", "seismic_zones", "districts", "land"):
        if name in present:
            title, kind, props = _CONTEXT_STYLE[name]
            out.append({"id": name, "title": title, "file": ctx, "layer": name, "renderer": _single(kind, props),
                        "filter": _context_filter(ctx, name)})
    for layer in out:
        if "geometry" not in layer:
            layer["geometry"] = _geometry(layer["file"], layer["layer"])
    return out


def project_xml(run_dir: Path) -> ET.ElementTree:
    """The project of a run directory as an XML tree (see `write_project`)."""
    run_dir = Path(run_dir)
    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    layers = project_layers(run_dir, plan)
    root = ET.Element("qgis", projectname=f"{plan['scenario']} {plan['target_year']}", version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = f"{plan['scenario']}: plan for {plan['target_year']}"
    _srs(ET.SubElement(root, "projectCrs"))
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    maps = ET.SubElement(root, "projectlayers")
    for layer in layers:
        source = f"./{layer['file'].name}|layername={layer['layer']}"
        layer_id = LAYER_ID_PREFIX + layer["id"]
        ET.SubElement(tree, "layer-tree-layer", id=layer_id, name=layer["title"], source=source, providerKey="ogr",
                      checked="Qt::Checked", expanded="0")
        m = ET.SubElement(maps, "maplayer", type="vector", geometry=layer["geometry"], autoRefreshEnabled="0",
                          simplifyDrawingHints="0", labelsEnabled="1" if layer.get("labels") else "0")
        ET.SubElement(m, "id").text = layer_id
        ET.SubElement(m, "datasource").text = source + (f"|subset={layer['filter']}" if layer.get("filter") else "")
        ET.SubElement(m, "layername").text = layer["title"]
        _srs(ET.SubElement(m, "srs"))
        ET.SubElement(m, "provider", encoding="UTF-8").text = "ogr"
        m.append(layer["renderer"])
        if layer.get("labels"):
            m.append(_label(layer["labels"]))
    order = ET.SubElement(tree, "custom-order", enabled="0")
    for layer in layers:
        ET.SubElement(order, "item").text = LAYER_ID_PREFIX + layer["id"]
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    return ET.ElementTree(root)


def write_project(run_dir: Path) -> Path:
    """Write plan.qgs into a run directory from the files already there; returns its path.

    Parameters
    ----------
    run_dir : Path
        A run directory with plan.json, settlements.gpkg and sites.gpkg (context.gpkg when the run
        read context layers).

    Returns
    -------
    Path
        The project file. Its layers reference the GeoPackages by paths relative to it.
    """
    out = Path(run_dir) / PROJECT_FILE
    tmp = out.with_name("." + PROJECT_FILE + ".tmp")
    with open(tmp, "wb") as f:
        f.write(b"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
        project_xml(run_dir).write(f, encoding="utf-8", xml_declaration=False)
    tmp.replace(out)
    return out
