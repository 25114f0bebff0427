"""The screened sites of a run directory, sized for people.

Full rows (every criterion's value and verdict, costs, the built plant) are kept only for the sites
that matter: the suitable ones and the built ones, in layer ``sites`` of `SITES_FILE`. Every other
candidate, i.e. those that fail the screen (over nine in ten of a national run), goes to
`REJECTED_FILE`, a compact GeoParquet table with short reason codes instead of the reason text:

* ``site_id``, ``kind`` and the point geometry (WGS84);
* ``first_failed``: the code of the first criterion it fails, in the screen's order;
* ``first_failed_value``: that criterion's measured value, in its own unit (NaN when not measurable);
* ``failed``: the codes of every criterion it fails, comma-separated, in the screen's order.

A code is the criterion's name (``on_land``, ``population_density``...). `REASONS_FILE` maps every code
to its label, the limit the run applied, whether it was evaluated, its note and how many candidates
fail it, so that the reason text of a rejected site can be rebuilt (`reason_text`) and nothing is lost
but the values of its later failures. QGIS reads `REJECTED_FILE` through GDAL's (Geo)Parquet driver
(GDAL 3.5 or later built with Apache Arrow).

The compact rows are made by `smrplan.rejected_sites.rejected_table` (the screen's partitions make them
for large runs, the writer for the others). This module only reads and reshapes tables (no file is
written here): smrplan.outputs writes the files, html.py and qgis.py read them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from smrplan.rejected_sites import CODE_SEPARATOR, REJECTED_COLUMNS

SITES_FILE = "sites.gpkg"
REJECTED_FILE = "sites_rejected.parquet"
# The rejected sites' layer in SITES_FILE for GIS (QGIS reads GeoPackage everywhere; GeoParquet needs a
# GDAL built with Arrow): site_id, kind and first_failed only, without a spatial index, to stay small.
REJECTED_LAYER = "sites_rejected"
REJECTED_LAYER_COLUMNS = ("site_id", "kind", "first_failed")
REASONS_FILE = "site_reasons.csv"
REASON_COLUMNS = ("code", "label", "limit", "evaluated", "candidates_failing", "note")


def reasons_table(siting: dict) -> pd.DataFrame:
    """The code table of `REASONS_FILE`: one row per criterion of the screen, in its order.

    Parameters
    ----------
    siting : dict
        plan.json ``siting``: ``criteria`` (name, label, limit, evaluated, note) and
        ``removed_by_criterion`` (candidates failing each evaluated criterion).

    Returns
    -------
    pandas.DataFrame
        The columns of `REASON_COLUMNS`; ``candidates_failing`` counts every candidate, kept or not.
    """
    removed = siting.get("removed_by_criterion", {})
    rows = [{"code": c["name"], "label": c["label"], "limit": c["limit"], "evaluated": bool(c.get("evaluated", True)),
             "candidates_failing": int(removed.get(c["name"], 0)), "note": c.get("note", "")}
            for c in siting.get("criteria", [])]
    return pd.DataFrame(rows, columns=list(REASON_COLUMNS))


def reason_text(rejected: pd.DataFrame, reasons: pd.DataFrame) -> np.ndarray:
    """The reason text of rejected sites rebuilt from their codes: the first failed criterion with its
    value and limit, then the codes of the other criteria failed.

    Parameters
    ----------
    rejected : pandas.DataFrame
        Rows of `REJECTED_FILE` (first_failed, first_failed_value, failed).
    reasons : pandas.DataFrame
        The code table (`reasons_table`, or `REASONS_FILE` read back).

    Returns
    -------
    numpy.ndarray
        One text per row (object array), e.g. ``"on_land (0; needs on land); also fails on_water"``.
    """
    limit = dict(zip(reasons["code"].astype(str), reasons["limit"].astype(str), strict=True))
    first = rejected["first_failed"].astype(str).to_numpy()
    value = np.asarray(rejected["first_failed_value"], float)
    shown = np.full(len(value), "n/a", dtype=object)
    finite = np.isfinite(value)
    shown[finite] = np.char.mod("%.4g", value[finite]).astype(object)
    needs = pd.Series(first).map(limit).fillna("?").to_numpy(object)
    failed = pd.Categorical(rejected["failed"].astype(str))  # the distinct combinations, a few hundred
    also = np.array(["; also fails " + ", ".join(c.split(CODE_SEPARATOR)[1:]) if CODE_SEPARATOR in c else ""
                     for c in failed.categories] + [""], dtype=object)[failed.codes]
    return first.astype(object) + " (" + shown + "; needs " + needs + ")" + also


def read_rejected(run_dir: Path, columns: tuple[str, ...] = REJECTED_COLUMNS) -> pd.DataFrame | None:
    """`columns` of a run directory's `REJECTED_FILE` with lon and lat (degrees) from its points, or
    None when the run directory has no such file (runs written before it keep every site in
    `SITES_FILE`).

    Parameters
    ----------
    run_dir : Path
        The run directory.
    columns : tuple of str
        Columns read (of `REJECTED_COLUMNS`).

    Returns
    -------
    pandas.DataFrame or None
        One row per rejected site: `columns`, lon and lat (degrees).
    """
    path = Path(run_dir) / REJECTED_FILE
    if not path.is_file():
        return None
    arrow = pq.read_table(path, columns=[*columns, "geometry"])
    xy = point_xy(arrow.column("geometry").combine_chunks())
    table = arrow.drop_columns(["geometry"]).to_pandas()
    table["lon"], table["lat"] = xy[:, 0], xy[:, 1]
    return table


_WKB_POINT_BYTES = 21  # byte order (1), geometry type (4), x and y (8 each)


def point_xy(wkb: pa.Array) -> np.ndarray:
    """Coordinates (n, 2) of WKB points held in an Arrow binary array.

    Little-endian two-dimensional points (the 21 bytes ``01 01000000 x y`` that GeoParquet writers
    produce) are read straight from the array's data buffer; any other WKB goes through shapely.
    """
    n = len(wkb)
    if n == 0:
        return np.zeros((0, 2))
    offsets = np.frombuffer(wkb.buffers()[1], np.int32 if pa.types.is_binary(wkb.type) else np.int64,
                            n + 1, wkb.offset * (4 if pa.types.is_binary(wkb.type) else 8))
    if wkb.null_count == 0 and np.all(np.diff(offsets) == _WKB_POINT_BYTES):
        raw = np.frombuffer(wkb.buffers()[2], np.uint8, n * _WKB_POINT_BYTES, int(offsets[0])).reshape(n, -1)
        if np.all(raw[:, 0] == 1) and np.all(raw[:, 1:5].view("<u4")[:, 0] == 1):
            return raw[:, 5:].copy().view("<f8").reshape(n, 2)
    import shapely

    return shapely.get_coordinates(shapely.from_wkb(wkb.to_numpy(zero_copy_only=False)))


def read_reasons(run_dir: Path) -> pd.DataFrame | None:
    """The code table `REASONS_FILE` of a run directory, or None when absent."""
    path = Path(run_dir) / REASONS_FILE
    return pd.read_csv(path, dtype={"code": str, "label": str, "limit": str, "note": str},
                       keep_default_na=False) if path.is_file() else None
