"""The compact rows of the candidate sites that fail the screen: one format, made where the rows are.

A rejected site keeps its ``site_id``, ``kind`` and point geometry, and instead of every criterion's
value and the reason text:

* ``first_failed``: the code of the first criterion it fails, in the screen's order;
* ``first_failed_value``: that criterion's measured value, in its own unit (NaN when not measurable);
* ``failed``: the codes of every criterion it fails, joined by `CODE_SEPARATOR`, in the screen's order.

A code is the criterion's name (``on_land``, ``population_density``...). The screen makes these rows in
its partitions when a run is large (smrplan.siting.screen, ``compact``), the writer from the full rows
otherwise (smrplan.outputs): either way the same rows. smrplan.report.sites reads them back and
rebuilds the reason text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REJECTED_COLUMNS = ("site_id", "kind", "first_failed", "first_failed_value", "failed")
CODE_SEPARATOR = ","


def kept(sites: pd.DataFrame) -> np.ndarray:
    """Which screened sites keep their full row: the suitable and the built ones (bool array).

    Parameters
    ----------
    sites : pandas.DataFrame
        The screened sites: ``suitable`` and, when a plan was made, ``built`` (bool).

    Returns
    -------
    numpy.ndarray
        True for a site whose full row is kept.
    """
    ok = sites["suitable"].to_numpy(bool)
    return ok | sites["built"].to_numpy(bool) if "built" in sites.columns else ok


def rejected_table(sites: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The compact rows of the sites that fail the screen (see the module notes), geometry kept.

    Parameters
    ----------
    sites : pandas.DataFrame
        The screened sites (a GeoDataFrame keeps its geometry): site_id, kind, ``<code>_pass`` and
        ``<code>_value`` of every criterion, suitable, built.
    codes : list of str
        The criteria in the screen's order (plan.json ``siting.criteria`` names); a criterion without
        a ``<code>_pass`` column is passed by every site.

    Returns
    -------
    pandas.DataFrame
        One row per site not `kept`, with the columns of `REJECTED_COLUMNS` (and geometry when
        `sites` has one); ``first_failed`` and ``kind`` are categorical.
    """
    present = [c for c in codes if f"{c}_pass" in sites.columns]
    read = ["site_id", "kind", *(f"{c}_{part}" for c in present for part in ("pass", "value")
                                 if f"{c}_{part}" in sites.columns), *(["geometry"] if "geometry" in sites.columns else [])]
    rows = sites[read][~kept(sites)]  # the columns read, then the rows: not a copy of every column
    n, k = len(rows), len(present)
    fails = np.zeros((n, k + 1), bool)  # the last column: a site failing nothing (not expected) points there
    values = np.full((n, k + 1), np.nan)
    for j, code in enumerate(present):  # criteria, not sites
        fails[:, j] = ~rows[f"{code}_pass"].to_numpy(bool)
        if f"{code}_value" in rows.columns:
            values[:, j] = rows[f"{code}_value"].to_numpy(float)
    fails[:, k] = ~fails[:, :k].any(axis=1)
    first = np.argmax(fails, axis=1)
    key = fails[:, :k].astype(np.int64) @ (np.int64(1) << np.arange(k, dtype=np.int64))  # one per combination
    combos, inverse = np.unique(key, return_inverse=True)
    spelt = np.array([CODE_SEPARATOR.join(c for j, c in enumerate(present) if (int(m) >> j) & 1) for m in combos],
                     dtype=object)  # the distinct combinations, a few hundred at most
    names = np.array([*present, ""], dtype=object)
    out = pd.DataFrame({"site_id": rows["site_id"].astype(str).to_numpy(), "kind": pd.Categorical(rows["kind"].astype(str)),
                        "first_failed": _categorical(first, names),
                        "first_failed_value": values[np.arange(n), first].astype(np.float32),
                        "failed": _categorical(inverse.ravel(), spelt)}, index=rows.index)
    if "geometry" in rows.columns:
        out["geometry"] = rows.geometry
    return out


def _categorical(index: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(labels[index])`` (categories: the labels used, sorted) without making a text
    per row; `labels` are distinct."""
    used = np.unique(index)
    names = labels[used].astype(str)
    order = np.argsort(names, kind="stable")
    code = np.zeros(len(labels), np.int64)
    code[used[order]] = np.arange(len(used))
    return pd.Categorical.from_codes(code[index], categories=names[order])
