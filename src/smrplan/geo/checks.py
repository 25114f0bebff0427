"""Checks of input layers: one rule per function, each run in one of three modes.

A layer under check is a `Rows`: its records (a DataFrame, or a GeoDataFrame once it has
geometries), the file they came from, each record's row number in that file (kept through dropped
rows: line 2 is a CSV's first record, otherwise records count from 1) and the mode:

* ``"raise"`` (reading a layer for a run): the first error stops with `InputError` naming the
  file, the row and field and what is expected (the CLI exits with status 2); a warning is logged
  (logger ``smrplan.io``) and the records are kept as read;
* ``"repair"`` (``--repair``): what a rule can fix is fixed, each fix logged with file, row and
  field (level WARNING; `LOG_EACH` rows of one kind one by one, the rest in one line) and counted
  per kind in ``Rows.fixes.counts``; an error no fix can mend is raised as in ``"raise"``;
* ``"report"`` (``smrplan data check``): every problem becomes a `Problem` in ``Rows.problems``;
  nothing is changed, and only what leaves nothing else to check (no records, no coordinate
  columns) is raised.

The rules, their level, and the fix of repair mode (its kind, as counted):

===================== ======= ===================================================================================
rule                  level   repair
===================== ======= ===================================================================================
`required_columns`    error   none (raised)
`not_empty`           error   none (raised in every mode: nothing else can be checked)
`points_from_columns` error   none: records without numeric lon/lat get no geometry, left to `empty_geometry`
`missing_crs`         error   EPSG:4326 assumed (``missing_crs``) when every coordinate is lon/lat degrees; a
                              declared CRS pyproj cannot resolve (``Rows.unresolved_crs``) is never assumed
`reproject`           error   none (raised)
`empty_geometry`      given   row dropped (``empty_geometry``)
`invalid_geometry`    warning ``make_valid`` (``invalid_geometry``); rows left empty dropped (``empty_geometry``)
`degrees`             error   row dropped (``outside_region``)
`projected_degrees`   warning none (logged)
`outside_region`      warning row dropped (``outside_region``)
`empty_ids`           given   ``<prefix><row>`` (``empty_id``)
`unique_ids`          given   ``<id>-2``, ``<id>-3``... (``duplicate_id``)
`numbers`             given   required value: row dropped; optional value: left blank (kind given); a yes/no
                              value (boolean) is never a number
`implausible`         error   none (raised: a unit error of the whole column is likelier than a bad row)
===================== ======= ===================================================================================

*given*: the caller sets the level (an error for a layer whose records a run needs, such as the
settlements; a warning where a run skips such records).

Rules are vectorised (no Python loop over records; only the logged rows are formatted). The limits
they are given (region boxes, the largest plausible settlement) are in ``data/data_checks.yaml``
(`data_limits`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from smrplan.errors import InputError
from smrplan.limits import data_limits as data_limits  # the limits the rules check against

WGS84 = "EPSG:4326"
MODES = ("raise", "repair", "report")
log = logging.getLogger("smrplan.io")
# Repairs of one kind in one file logged row by row; the rest are summarised in one line (and counted).
LOG_EACH = 100
LON_NAMES = ("lon", "longitude", "x", "lng")
LAT_NAMES = ("lat", "latitude", "y")
# The records a problem concerns (a boolean mask) or None for the whole layer; a fix takes the same.
Mask = TypeVar("Mask", np.ndarray, None)


@dataclass
class Fixes:
    """The repairs made to one file: counts per kind; each fix is logged with file, row and field."""

    path: Path
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int, where: list[str], texts: list[str]) -> None:
        """Count `n` fixes of one kind and log the first ones.

        Parameters
        ----------
        kind : str
            Kind of fix, the key of `counts` (e.g. ``duplicate_id``).
        n : int
            Number of records fixed.
        where, texts : list of str
            Row and field, and what was wrong and what was done, of the first (at most `LOG_EACH`) records.
        """
        if n == 0:
            return
        self.counts[kind] = self.counts.get(kind, 0) + n
        for w, t in zip(where[:LOG_EACH], texts[:LOG_EACH], strict=True):
            log.warning("%s: %s: %s (repaired: %s)", self.path, w, t, kind)
        if n > LOG_EACH:
            log.warning("%s: %d more row(s) repaired the same way (%s); all are counted in plan.json data.repairs",
                        self.path, n - LOG_EACH, kind)


@dataclass(eq=False)
class Problem:
    """A problem found in report mode: one rule, one layer, every record it concerns.

    ``rows`` are row numbers in the file (empty for a problem of the whole layer, e.g. its CRS);
    ``message`` says what is wrong, ``note`` what a reader or ``--repair`` does about it.
    """

    file: str
    kind: str
    level: str
    field: str | None
    rows: np.ndarray
    message: str
    note: str = ""

    def __str__(self) -> str:
        """``"<level>: <message> (row 4, 9, 12 ...; <note>)"``, as ``smrplan data check`` lists it."""
        extra = "; ".join(p for p in (_first_rows(self.rows) if len(self.rows) else "", self.note) if p)
        return f"{self.level}: {self.message}" + (f" ({extra})" if extra else "")


def _first_rows(rows: np.ndarray, k: int = 3) -> str:
    """'row 4, 9, 12 ...' for the first k of the row numbers `rows`."""
    return "row " + ", ".join(str(r) for r in rows[:k]) + (" ..." if len(rows) > k else "")


def show(value: Any) -> str:
    """A cell value in a message: text quoted, numbers and yes/no values as written (``True``, not ``np.True_``).

    Parameters
    ----------
    value : object
        The cell.

    Returns
    -------
    str
        The value as a message shows it.
    """
    return repr(value) if isinstance(value, str) else str(value)


def row_offset(path: Path) -> int:
    """Row number of a file's first record: line 2 of a CSV (after the header), record 1 otherwise."""
    return 2 if Path(path).suffix.lower() == ".csv" else 1


class Rows:
    """A layer under check: its records, their file and row numbers, and the mode.

    Parameters
    ----------
    gdf : pandas.DataFrame or geopandas.GeoDataFrame
        The records (not modified: the rules work on a copy).
    path : Path
        The file, named in every message.
    fixes : Fixes, optional
        Repair log to add to; given, the mode is ``"repair"``.
    mode : {"raise", "repair", "report"}, optional
        Default ``"repair"`` with `fixes`, else ``"raise"``.
    first_row : int, optional
        Row number of the first record; default `row_offset` of `path`.
    """

    def __init__(self, gdf: pd.DataFrame, path: Path, fixes: Fixes | None = None, *, mode: str | None = None,
                 first_row: int | None = None):
        mode = mode or ("repair" if fixes is not None else "raise")
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}; expected one of {MODES}")
        self.mode = mode
        self.gdf: gpd.GeoDataFrame = gdf.reset_index(drop=True)  # a DataFrame until `points_from_columns`
        self.path = Path(path)
        self.fixes = fixes if fixes is not None else Fixes(self.path)
        self.rows = np.arange(len(gdf)) + (row_offset(self.path) if first_row is None else first_row)
        self.problems: list[Problem] = []
        self.dropped = 0
        # The CRS the file declares when pyproj cannot resolve it, described (then the layer has none), for `missing_crs`.
        self.unresolved_crs: str | None = None

    def where(self, idx: np.ndarray, what: str) -> list[str]:
        """'row 5 (id X), column population' for the records at positions `idx` (the id when the
        records have a non-blank ``id``)."""
        rows = self.rows[idx].astype(str)
        if "id" not in self.gdf.columns:
            return [f"row {r}, {what}" for r in rows]
        ids = self.gdf["id"].to_numpy()[idx]
        blank = is_blank(pd.Series(ids, dtype=object))
        return [f"row {r}, {what}" if b else f"row {r} (id {i}), {what}" for r, i, b in zip(rows, ids, blank, strict=True)]

    def label(self, r: int, what: str) -> str:
        """`where` of the record at position r."""
        return self.where(np.array([r]), what)[0]

    def found(self, kind: str, mask: Mask, what: str, *, level: str, first: str | Callable[[int], str],
              message: str, note: str = "", fix: Callable[[Mask], None] | None = None) -> None:
        """Act on a problem by mode: raise it, fix it, log it or record it.

        Parameters
        ----------
        kind : str
            The rule's name (and repair kind).
        mask : numpy.ndarray of bool or None
            The records concerned (at least one), or None for a problem of the whole layer.
        what : str
            The field: ``column population``, ``geometry``, ``CRS``...
        level : {"error", "warning"}
            An error is raised in raise mode (and in repair mode without `fix`); a warning is logged.
        first : str or callable
            The message of the error, or a function of the position of the first record concerned.
        message, note : str
            What is wrong over all records, and what is done about it (report and log).
        fix : callable, optional
            Repair mode: fixes the records of `mask` (None: not fixable).
        """
        idx = None if mask is None else np.flatnonzero(mask)
        if self.mode == "report":
            rows = self.rows[idx] if idx is not None else np.empty(0, dtype=int)
            self.problems.append(Problem(str(self.path), kind, level, what, rows, message, note))
        elif self.mode == "repair" and fix is not None:
            fix(mask)
        elif level == "error":
            if callable(first):
                assert idx is not None, "a message of the first record is for a problem of records"
                text = first(int(idx[0]))
            else:
                text = first
            raise InputError(self.path, self.label(int(idx[0]), what) if idx is not None else what, text)
        else:
            example = f", e.g. {self.label(int(idx[0]), what)}" if idx is not None else ""
            log.warning("%s: warning: %s%s%s", self.path, message, example, f"; {note}" if note else "")

    def fix(self, kind: str, mask: np.ndarray, what: str, texts: Callable[[np.ndarray], list[str]] | str) -> None:
        """Log and count the fixes of the records in `mask`; `texts` says what was done (one text, or a
        function of the positions of the logged records)."""
        idx = np.flatnonzero(mask)
        first = idx[:LOG_EACH]
        said = texts(first) if callable(texts) else [texts] * len(first)
        self.fixes.add(kind, len(idx), self.where(first, what), said)

    def drop(self, mask: np.ndarray, kind: str, what: str, texts: Callable[[np.ndarray], list[str]] | str) -> None:
        """Repair mode: drop the records in `mask`, logged and counted."""
        self.fix(kind, mask, what, texts)
        self.dropped += int(mask.sum())
        self.select(~mask)

    def select(self, keep: np.ndarray) -> None:
        """Keep the records in `keep` (a selection, e.g. one country: not logged, not counted)."""
        self.gdf = self.gdf.loc[keep].reset_index(drop=True)
        self.rows = self.rows[keep]


def is_blank(values: pd.Series) -> np.ndarray:
    """True where a cell is missing (NaN/None) or an empty (or all-space) string; vectorised (a column
    of text alone is trimmed by Arrow, about five times faster than pandas' own strings)."""
    blank = values.isna().to_numpy()
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        trimmed = pc.utf8_trim_whitespace(pa.array(values.to_numpy(object), type=pa.string(), from_pandas=True))
        blank |= pc.fill_null(pc.equal(trimmed, ""), True).to_numpy(zero_copy_only=False)
    elif values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        blank |= values.astype("string").str.strip().fillna("").eq("").to_numpy()
    return blank


def yes_no(values: pd.Series) -> np.ndarray:
    """True where a cell holds a yes/no value: every cell of a boolean column, and True / False (or the
    text 'True' / 'False') among other values; vectorised.

    Parameters
    ----------
    values : pandas.Series
        A column as read (a CSV column of only True / False cells is read as booleans).

    Returns
    -------
    numpy.ndarray of bool
        One flag per cell; missing cells are not flagged.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return ~values.isna().to_numpy()
    if values.dtype == object:
        return values.astype(str).isin(("True", "False")).to_numpy()
    return np.zeros(len(values), dtype=bool)


def numeric_values(values: pd.Series) -> np.ndarray:
    """A column's cells as float64, NaN where blank, text or a yes/no value (a boolean is never a number,
    although pandas reads True as 1).

    Parameters
    ----------
    values : pandas.Series
        A column as read; its unit is the caller's.

    Returns
    -------
    numpy.ndarray
        The numbers, in the column's unit.
    """
    flags = yes_no(values)
    out = np.full(len(values), np.nan)
    rest = ~flags
    if rest.any():
        out[rest] = pd.to_numeric(values[rest], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return out


def _parse(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values as float, blank, text): text marks cells given but not a finite number ('many', 'inf', True)."""
    values = numeric_values(raw)
    blank = is_blank(raw)
    return values, blank, ~blank & ~np.isfinite(values)


def _value_text(raw: pd.Series, blank: np.ndarray, r: int) -> str:
    if blank[r]:
        return "empty"
    if yes_no(raw.iloc[r:r + 1])[0]:
        return f"{show(raw.iloc[r])} is a yes/no value, not a number"
    return f"{show(raw.iloc[r])} is not a number"


def _not_degrees(x: float, y: float) -> str:
    return (f"({x:g}, {y:g}) is not WGS84 lon/lat in degrees; the file's CRS does not match its coordinates "
            "(reproject the file to EPSG:4326 or declare the right CRS)")


def _present(t: Rows) -> np.ndarray:
    """Records with a non-empty geometry."""
    geom = t.gdf.geometry
    return ~(geom.isna().to_numpy() | shapely.is_empty(geom.values))


# --- columns and rows -----------------------------------------------------------------------------

def required_columns(t: Rows, columns: Sequence[str], aliases: Mapping[str, Sequence[str]] | None = None) -> None:
    """Each of `columns` is present, under its name or (case-insensitive) one of its `aliases`.

    Level error; not repairable.

    Parameters
    ----------
    t : Rows
        The layer.
    columns : sequence of str
        Required column names.
    aliases : dict, optional
        Column name -> other accepted names (e.g. ``population_2011`` for ``population``).

    Raises
    ------
    InputError
        In raise and repair modes, naming the first missing column.
    """
    aliases = aliases or {}
    lower = {str(c).lower() for c in t.gdf.columns}
    found = list(t.gdf.columns)
    for col in columns:  # the required columns (a few), not records
        if col in t.gdf.columns or lower & set(aliases.get(col, ())):
            continue
        names = aliases.get(col)
        message = f"required column {col!r} is missing" + (
            f" (no {col} column under any of its names {', '.join(names)})" if names else "")
        message += f"; expected columns {', '.join(columns)}"
        t.found("missing_column", None, f"column {col}", level="error", first=f"{message}; found {found}",
                message=message)


def not_empty(t: Rows) -> None:
    """The layer has at least one record. Raised in every mode: nothing else can be checked."""
    if len(t.gdf) == 0:
        raise InputError(t.path, None, "the layer has no features (a table: no rows below the header)")


def empty_ids(t: Rows, column: str = "id", prefix: str = "row-", level: str = "error") -> None:
    """Blank ids (missing or empty text).

    Repair: the id becomes ``<prefix><row>`` (kind ``empty_id``).

    Parameters
    ----------
    t : Rows
        The layer.
    column : str
        The id column.
    prefix : str
        Prefix of a repaired id, followed by the record's row number.
    level : {"error", "warning"}
        Level of the problem (an error for a layer whose ids a run needs).

    Raises
    ------
    InputError
        In raise mode at level error, naming the first blank id's row.
    """
    blank = is_blank(t.gdf[column])
    if not blank.any():
        return
    n = int(blank.sum())

    def fix(mask: np.ndarray) -> None:
        ids = t.gdf[column].astype(object).to_numpy().copy()
        ids[mask] = pd.Series(t.rows[mask].astype(str), dtype=object).radd(prefix).to_numpy()
        t.fix("empty_id", mask, f"column {column}", lambda i: [f"empty id; set to {v!r}" for v in ids[i]])
        t.gdf[column] = ids

    t.found("empty_id", blank, f"column {column}", level=level, first=f"empty id ({n} row(s)); every row needs an id",
            message=f"{n} empty {column} value(s)", fix=fix)


def unique_ids(t: Rows, column: str = "id", existing: pd.Series | None = None, level: str = "error",
               of: str = "settlement") -> None:
    """Duplicate ids within the layer, or ids already among `existing` (blank ids are `empty_ids`).

    Repair: the second and later occurrences are renamed ``<id>-2``, ``<id>-3``... (a name already
    taken gets a further ``-dup``), kind ``duplicate_id``.

    Parameters
    ----------
    t : Rows
        The layer.
    column : str
        The id column.
    existing : pandas.Series, optional
        Ids of another layer (e.g. the settlements) that the layer's ids must not repeat.
    level : {"error", "warning"}
        Level of the problem.
    of : str
        What `existing` holds, for the message ("is already a settlement id").

    Raises
    ------
    InputError
        In raise mode at level error, naming the first repeated id's row.
    """
    ids = t.gdf[column]
    keys = ids.astype("string")
    blank = is_blank(ids)
    taken = pd.concat([existing.astype("string"), keys], ignore_index=True) if existing is not None else keys
    n_before = 0 if existing is None else len(existing)
    dup = taken.duplicated(keep="first").to_numpy()[n_before:] & ~blank
    if not dup.any():
        return
    repeated = keys[dup].unique()
    examples = sorted(str(v) for v in repeated)

    def first(r: int) -> str:
        if existing is not None and keys.iloc[r] in set(existing.astype("string")):
            return f"id {show(ids.iloc[r])} is already a {of} id; ids must be unique"
        return f"duplicate ids {examples[:5]} ({int(dup.sum())} repeat(s)); ids must be unique"

    def fix(mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        repeated_any = taken.duplicated(keep=False).to_numpy()  # occurrences counted among repeated ids only
        occurrence = np.ones(len(taken), dtype=int)
        occurrence[repeated_any] += taken[repeated_any].groupby(taken[repeated_any], sort=False).cumcount().to_numpy()
        occurrence = occurrence[n_before:]
        new = keys.astype(str).to_numpy(dtype=object).copy()
        new[idx] = (pd.Series(new[idx], dtype=object) + "-" + pd.Series(occurrence[idx]).astype(str)).to_numpy()
        used = pd.Index(taken.dropna().astype(str))
        clash = pd.Index(new[idx]).isin(used)
        while clash.any():  # rounds over the (rare) renamed ids that collide with existing ones
            new[idx[clash]] = (pd.Series(new[idx[clash]], dtype=object) + "-dup").to_numpy()
            clash = pd.Index(new[idx]).isin(used) | pd.Series(new).duplicated().to_numpy()[idx]
        t.fix("duplicate_id", mask, f"column {column}", lambda i: [f"duplicate id; renamed {v!r}" for v in new[i]])
        t.gdf[column] = new.astype(str)

    in_rows = int((keys.duplicated(keep=False).to_numpy() & ~blank).sum())
    t.found("duplicate_id", dup, f"column {column}", level=level, first=first, fix=fix,
            message=f"{len(repeated)} duplicate {column} value(s) in {in_rows} rows, e.g. {examples[:3]}")


def numbers(t: Rows, column: str, *, minimum: float | None = None, missing: str | None = "error",
            kind: str = "bad_value") -> None:
    """A numeric column: blank cells, text and values below `minimum`.

    In raise and repair modes the column becomes float64 (text NaN).

    Parameters
    ----------
    t : Rows
        The layer.
    column : str
        The column; its unit is the caller's (persons, kW...), `minimum` in the same unit.
    minimum : float, optional
        Smallest valid value; below it is an error (repair: as a bad value).
    missing : {"error", "warning", None}
        Level of a blank or non-numeric cell. ``"error"``: a required value (repair drops the row);
        ``"warning"``: worth a look (repair leaves text blank); None: blank is allowed and text is a
        warning, taken as blank (repair leaves it blank).
    kind : str
        Repair kind counted for this column (``bad_population``, ``bad_anchor_load``...).

    Raises
    ------
    InputError
        In raise mode, naming the first bad cell: blank or text when `missing` is ``"error"``, below
        `minimum` always.
    """
    raw = t.gdf[column]
    values, blank, text = _parse(raw)
    below = np.isfinite(values) & (values < minimum) if minimum is not None else np.zeros(len(values), bool)
    expect = "expected a number" + (f" >= {minimum:g}" if minimum is not None else "")
    what = f"column {column}"
    if t.mode == "repair":
        required = missing == "error"
        bad = ((blank | text) if required else text) | below

        def texts(i: np.ndarray) -> list[str]:
            done = "row dropped" if required else "left blank"
            return [f"{values[r]:g} is below {minimum:g}; {expect}; {done}" if below[r]
                    else f"{_value_text(raw, blank, r)}; {expect}; {done}" for r in i]

        if required:
            t.gdf[column] = values
            t.drop(bad, kind, what, texts)
        else:
            t.fix(kind, bad, what, texts)
            t.gdf[column] = np.where(bad, np.nan, values)
        return
    flagged = (blank | text) if missing is not None else text
    if flagged.any():
        n = int(flagged.sum())
        t.found(kind, flagged, what, level=missing or "warning",
                first=lambda r: f"{_value_text(raw, blank, r)} ({n} row(s)); {expect}",
                message=f"{n} missing or non-numeric {column}" if missing else f"{n} non-numeric {column}",
                note="" if missing else "taken as blank")
    if below.any():
        n = int(below.sum())
        t.found(kind, below, what, level="error",
                first=lambda r: f"{values[r]:g} is below {minimum:g} ({n} row(s)); {expect}",
                message=f"{n} negative {column}" if minimum == 0 else f"{n} {column} below {minimum:g}")
    if t.mode != "report":
        t.gdf[column] = values


def implausible(t: Rows, column: str, limit: float) -> None:
    """Values above `limit` for one place: a unit error of the whole column is likelier than a bad row.

    Level error; not repairable.

    Parameters
    ----------
    t : Rows
        The layer.
    column : str
        The column (e.g. population, persons).
    limit : float
        Largest plausible value, in the column's unit (``max_settlement_population`` of ``data/data_checks.yaml``).

    Raises
    ------
    InputError
        In raise and repair modes, naming the first value above `limit`.
    """
    values = numeric_values(t.gdf[column])
    large = values > limit
    if not large.any():
        return
    t.found("implausible_value", large, f"column {column}", level="error",
            first=lambda r: f"{values[r]:g} is implausibly large for one place (limit {limit:,.0f}, "
                            "data/data_checks.yaml); is the column in the right unit?",
            message=f"{int(large.sum())} {column} above {limit:,.0f} per place, implausible")


# --- coordinates and geometries -------------------------------------------------------------------

def points_from_columns(t: Rows, lon: str | None = None, lat: str | None = None, drop_missing: bool = False) -> None:
    """Point geometries (WGS84) from decimal-degree columns; ``t.gdf`` becomes a GeoDataFrame.

    Without coordinate columns the layer cannot be read: raised in every mode. In raise mode a
    missing or non-numeric coordinate names its column, and coordinates out of the degree ranges
    name both columns. In repair and report modes such records get no geometry (or their point out
    of range), left to `empty_geometry` and `degrees`.

    Parameters
    ----------
    t : Rows
        The layer (a table).
    lon, lat : str, optional
        The coordinate columns (degrees); default the first of `LON_NAMES` / `LAT_NAMES` present
        (case-insensitive).
    drop_missing : bool
        Records with a blank coordinate are dropped and counted in ``t.dropped`` (for layers where
        such rows are expected, e.g. power plants of unknown location); otherwise they are a problem.

    Raises
    ------
    InputError
        Without coordinate columns (every mode); in raise mode, naming the first missing, non-numeric or
        out-of-range coordinate.
    """
    cols = {str(c).lower(): c for c in t.gdf.columns}
    lon = lon if lon in t.gdf.columns else next((cols[c] for c in LON_NAMES if c in cols), None)
    lat = lat if lat in t.gdf.columns else next((cols[c] for c in LAT_NAMES if c in cols), None)
    if lon is None or lat is None:
        raise InputError(t.path, "lon/lat", f"no coordinate columns; expected one of {LON_NAMES} and "
                                            f"one of {LAT_NAMES}, found {list(t.gdf.columns)}")
    if drop_missing:
        ok = ~(is_blank(t.gdf[lon]) | is_blank(t.gdf[lat]))
        t.dropped += int((~ok).sum())
        t.select(ok)
    (x, x_blank, _), (y, y_blank, _) = _parse(t.gdf[lon]), _parse(t.gdf[lat])
    if t.mode == "raise":
        for name, values, blank in ((lon, x, x_blank), (lat, y, y_blank)):
            bad = np.flatnonzero(~np.isfinite(values))
            if len(bad):
                r = bad[0]
                raise InputError(t.path, f"row {t.rows[r]}, column {name}",
                                 f"{_value_text(t.gdf[name], blank, r)} ({len(bad)} row(s)); "
                                 "expected a coordinate in decimal degrees")
        out = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 90))
        if len(out):
            r = out[0]
            raise InputError(t.path, f"row {t.rows[r]}, columns {lon}/{lat}", _not_degrees(x[r], y[r]))
    ok = np.isfinite(x) & np.isfinite(y)
    geom = np.full(len(t.gdf), None, dtype=object)
    geom[ok] = shapely.points(x[ok], y[ok])
    t.gdf = gpd.GeoDataFrame(t.gdf, geometry=gpd.GeoSeries(geom, index=t.gdf.index, crs=WGS84), crs=WGS84)


def missing_crs(t: Rows) -> None:
    """The layer has a coordinate reference system that pyproj knows.

    A CRS the file declares that pyproj cannot resolve (``t.unresolved_crs``: an unknown code or
    name in a GeoJSON ``crs`` member, an unreadable .prj of a shapefile, an unknown GeoPackage srs_id)
    is an error in every mode but report. A layer without any CRS is an error too; repair assumes
    EPSG:4326 (kind ``missing_crs``), but only when every coordinate lies within the degree ranges
    (-180..180, -90..90): otherwise nothing can be assumed and the error is raised in repair mode too.
    """
    if t.unresolved_crs is not None:
        text = (f"unknown CRS {t.unresolved_crs}: pyproj cannot resolve it; declare a known CRS "
                "(e.g. EPSG:4326) or reproject the file")
        t.found("unknown_crs", None, "CRS", level="error", first=text, message=text)
        return
    if t.gdf.crs is not None:
        return
    present = _present(t)
    x0, y0, x1, y1 = shapely.total_bounds(t.gdf.geometry.values[present]) if present.any() else (0.0, 0.0, 0.0, 0.0)
    in_degrees = bool(-180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90)

    def fix(_: None) -> None:
        t.fixes.add("missing_crs", 1, ["CRS"], ["no coordinate reference system; EPSG:4326 (WGS84 lon/lat degrees) assumed"])
        t.gdf = t.gdf.set_crs(WGS84)

    text = "no coordinate reference system; set one (e.g. EPSG:4326)"
    if not in_degrees:
        text += (f"; the coordinates ({x0:.0f}..{x1:.0f}, {y0:.0f}..{y1:.0f}) are not lon/lat degrees, so "
                 "EPSG:4326 cannot be assumed")
    t.found("missing_crs", None, "CRS", level="error", first=text, message=text, fix=fix if in_degrees else None)


def reproject(t: Rows) -> bool:
    """Reproject the layer to WGS84 (a layer without CRS is left as it is).

    Returns
    -------
    bool
        False when the reprojection is impossible (an error; in report mode the layer stays as stored).
    """
    if t.gdf.crs is None or t.gdf.crs.equals(WGS84):
        return True
    try:
        t.gdf = t.gdf.to_crs(WGS84)
    except Exception as exc:  # pyproj raises several errors for impossible transformations
        text = f"cannot reproject to EPSG:4326 ({str(exc).splitlines()[0]})"
        t.found("reproject", None, "CRS", level="error", first=text, message=text)
        return False
    return True


def empty_geometry(t: Rows, level: str = "error") -> None:
    """Empty or missing geometries (in a table: missing or non-numeric coordinates).

    Repair: the row is dropped (kind ``empty_geometry``).

    Parameters
    ----------
    t : Rows
        The layer.
    level : {"error", "warning"}
        An error where every record needs a place (settlements), a warning where such rows are skipped.
    """
    empty = ~_present(t)
    if not empty.any():
        return
    n = int(empty.sum())
    t.found("empty_geometry", empty, "geometry", level=level,
            first=f"empty or missing geometry ({n} row(s)); every record needs a point or shape",
            message=f"{n} empty or missing geometries or coordinates",
            fix=lambda m: t.drop(m, "empty_geometry", "geometry", "empty or missing geometry or coordinates; row dropped"))


def invalid_geometry(t: Rows) -> None:
    """Invalid geometries (e.g. self-intersecting polygons); a warning.

    Repair: ``shapely.make_valid`` (kind ``invalid_geometry``); records left empty are dropped
    (kind ``empty_geometry``).
    """
    invalid = _present(t) & ~shapely.is_valid(t.gdf.geometry.values)
    if not invalid.any():
        return

    def fix(mask: np.ndarray) -> None:
        t.fix("invalid_geometry", mask, "geometry", "invalid geometry; repaired with make_valid")
        geoms = t.gdf.geometry.to_numpy().copy()
        geoms[mask] = shapely.make_valid(geoms[mask])
        t.gdf = t.gdf.set_geometry(gpd.GeoSeries(geoms, index=t.gdf.index, crs=t.gdf.crs))
        empty = shapely.is_empty(geoms)
        if empty.any():
            t.drop(empty, "empty_geometry", "geometry", "geometry empty after make_valid; row dropped")

    t.found("invalid_geometry", invalid, "geometry", level="warning", message=f"{int(invalid.sum())} invalid geometries",
            first="", note="make_valid repairs them: settlements and anchor loads with --repair, land and districts always",
            fix=fix)


def degrees(t: Rows) -> None:
    """Under a geographic CRS, coordinates outside -180..180 / -90..90 (or not finite): the file's CRS
    does not match its coordinates (projected metres declared as degrees). Checked on each record's bounds.

    Repair: the row is dropped (kind ``outside_region``).
    """
    if t.gdf.crs is None or not t.gdf.crs.is_geographic:
        return
    present = _present(t)
    bounds = np.full((len(t.gdf), 4), np.nan)
    bounds[present] = shapely.bounds(t.gdf.geometry.values[present])
    x0, y0, x1, y1 = bounds.T
    with np.errstate(invalid="ignore"):
        bad = present & ((x0 < -180) | (x1 > 180) | (y0 < -90) | (y1 > 90) | ~np.isfinite(bounds).all(axis=1))
    if not bad.any():
        return
    crs = t.gdf.crs.to_string()
    span = (f"({np.nanmin(x0[bad]):.0f}..{np.nanmax(x1[bad]):.0f}, {np.nanmin(y0[bad]):.0f}..{np.nanmax(y1[bad]):.0f})"
            if np.isfinite(bounds[bad]).any() else "(not finite)")
    t.found("not_degrees", bad, "geometry", level="error", first=lambda r: _not_degrees(x0[r], y0[r]),
            message=f"coordinates {span} are not degrees but the CRS {crs} is geographic; declare the file's real CRS",
            fix=lambda m: t.drop(m, "outside_region", "geometry", lambda i: [
                f"({x0[r]:g}, {y0[r]:g}) is not lon/lat in degrees (wrong CRS?); row dropped" for r in i]))


def projected_degrees(t: Rows) -> None:
    """Under a projected CRS, every coordinate within the degree ranges: probably degrees with a wrong
    CRS declared. A warning of the whole layer; no repair."""
    present = _present(t)
    if t.gdf.crs is None or not t.gdf.crs.is_projected or not present.any():
        return
    x0, y0, x1, y1 = shapely.total_bounds(t.gdf.geometry.values[present])
    if -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90:
        crs = t.gdf.crs.to_string()
        text = f"coordinates look like degrees but the CRS {crs} is projected; is the CRS right?"
        t.found("projected_degrees", None, "CRS", level="warning", first=text, message=text)


def outside_region(t: Rows, box: dict[str, float], region: str) -> None:
    """Records (in WGS84) that do not touch the region's bounding box; a warning.

    Repair: the row is dropped (kind ``outside_region``).

    Parameters
    ----------
    t : Rows
        The layer, in WGS84.
    box : dict
        ``min_lon``, ``min_lat``, ``max_lon``, ``max_lat`` (degrees), e.g. ``regions`` of ``data/data_checks.yaml``.
    region : str
        The region's name, for the messages.
    """
    present = _present(t)
    geoms = t.gdf.geometry.values
    is_point = present & (shapely.get_type_id(geoms) == 0)
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)  # a point, or a shape's lower-left corner
    x[present], y[present] = shapely.bounds(geoms[present])[:, :2].T
    inside = ~present | ((x >= box["min_lon"]) & (x <= box["max_lon"]) & (y >= box["min_lat"]) & (y <= box["max_lat"]))
    shapes = present & ~is_point
    inside[shapes] = shapely.intersects(geoms[shapes], shapely.box(box["min_lon"], box["min_lat"], box["max_lon"],
                                                                   box["max_lat"]))
    outside = ~inside
    if not outside.any():
        return
    span = f"{box['min_lon']:g}..{box['max_lon']:g} E, {box['min_lat']:g}..{box['max_lat']:g} N"
    message = f"{int(outside.sum())} of {int(present.sum())} features outside the region {region} ({span})"
    pts = outside & is_point
    if pts.any():
        swapped = ((y[pts] >= box["min_lon"]) & (y[pts] <= box["max_lon"])
                   & (x[pts] >= box["min_lat"]) & (x[pts] <= box["max_lat"]))
        if swapped.mean() > 0.5:
            message += "; most would fall inside with lon and lat swapped"
    t.found("outside_region", outside, "geometry", level="warning", first="", message=message,
            note="kept; --repair drops them" if t.mode == "raise" else "",
            fix=lambda m: t.drop(m, "outside_region", "geometry", lambda i: [
                f"({x[r]:g}, {y[r]:g}) is outside the region {region} ({span}); row dropped" for r in i]))
