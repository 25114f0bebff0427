"""Text columns that repeat a few values on every row (a settlement's grid status, a candidate
site's kind...) held as pandas Categorical: one small integer code per row and one copy of each text,
instead of a Python string object per row (about 60-110 MiB per column at a million rows).

Where the set of values is known it is declared once, next to the code that makes the values, and
every producer of the column uses it (`categorical`, `repeated`), so that the pieces of a
partitioned stage agree; a column whose texts come from the data takes the distinct values, sorted.
`concat` joins tables whose categorical columns hold different categories and keeps them
categorical (pandas.concat would turn them into object columns). The run directory's writers turn
them back into plain text (smrplan.outputs.write.gpkg_ready), so the files do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals


def categorical(values, categories: Sequence[str] | None = None) -> pd.Categorical[str]:
    """`values` as a Categorical: of the fixed `categories` (in their order), or of the distinct values
    (sorted) without them.

    Parameters
    ----------
    values : array-like of str
        The texts (missing values stay missing).
    categories : sequence of str, optional
        Every value the column may hold.

    Returns
    -------
    pandas.Categorical

    Raises
    ------
    ValueError
        When a value is not one of `categories` (pandas would make it missing without a word).
    """
    out = pd.Categorical(values, categories=None if categories is None else list(categories))
    if categories is not None:
        lost = (out.codes == -1) & ~pd.isna(np.asarray(values, dtype=object))
        if lost.any():
            raise ValueError(f"{np.asarray(values, dtype=object)[lost][0]!r} is not one of {list(categories)}")
    return out


def repeated(value: str, n: int, categories: Sequence[str]) -> pd.Categorical[str]:
    """`value` on `n` rows, as a Categorical of the fixed `categories`.

    Parameters
    ----------
    value : str
        The text; one of `categories`.
    n : int
        Rows.
    categories : sequence of str
        Every value the column may hold.

    Returns
    -------
    pandas.Categorical
    """
    names = list(categories)
    return pd.Categorical.from_codes(np.full(n, names.index(value), dtype=np.int32), categories=pd.Index(names))


def concat(frames: Sequence[pd.DataFrame], **kwargs) -> pd.DataFrame:
    """pandas.concat of `frames` whose categorical columns stay categorical: a column categorical in
    every frame takes the union of their categories (sorted) when they differ.

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        The tables, with the same columns.
    **kwargs
        Passed to pandas.concat.

    Returns
    -------
    pandas.DataFrame
    """
    frames = list(frames)
    first = frames[0]
    for col in first.columns:
        if not all(isinstance(f[col].dtype, pd.CategoricalDtype) for f in frames if col in f.columns):
            continue
        cats = [f[col].cat.categories for f in frames if col in f.columns]
        if all(c.equals(cats[0]) for c in cats):
            continue
        union = union_categoricals([f[col] for f in frames if col in f.columns], sort_categories=True).categories
        frames = [f.assign(**{col: f[col].cat.set_categories(union)}) if col in f.columns else f for f in frames]
    return pd.concat(frames, **kwargs)

