"""Text columns of a few repeated values as Categoricals: fixed categories refuse a value outside them,
and tables joined keep their categorical columns categorical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smrplan.categories import categorical, concat, repeated


def test_fixed_categories_keep_their_order_and_refuse_an_unknown_value():
    out = categorical(np.array(["weak", "connected"]), ("connected", "weak", "unconnected"))
    assert list(out.categories) == ["connected", "weak", "unconnected"] and list(out) == ["weak", "connected"]
    with pytest.raises(ValueError, match="'barge'"):
        categorical(["land", "barge"], ("land", "micro", "floating"))
    assert list(categorical(["b", None, "a"]).categories) == ["a", "b"]  # from the data, sorted; missing stays missing
    assert list(repeated("micro", 3, ("land", "micro"))) == ["micro"] * 3


def test_concat_of_different_categories_stays_categorical_with_their_union():
    a = pd.DataFrame({"s": categorical(["y", "x"]), "v": [1.0, 2.0]})
    b = pd.DataFrame({"s": categorical(["z"]), "v": [3.0]})
    out = concat([a, b], ignore_index=True)
    assert isinstance(out["s"].dtype, pd.CategoricalDtype)
    assert list(out["s"].cat.categories) == ["x", "y", "z"] and out["s"].tolist() == ["y", "x", "z"]
    assert out["v"].tolist() == [1.0, 2.0, 3.0]
    assert pd.concat([a, b])["s"].dtype == object  # what pandas alone does
