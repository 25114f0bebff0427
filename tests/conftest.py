"""Shared test fixtures: the real public data folder (skipped when absent) and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smrplan.catalogue.catalogue import Parameter, Technology

SHARED_DATA = Path(os.environ.get("SMRPLAN_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def tech(key: str, option: str, **values) -> Technology:
    """A catalogue entry built in a test, every number sourced to the test itself."""
    params = {k: Parameter(value=v, unit="USD" if "usd" in k else "-", source="test", year=2024,
                           low=v if not isinstance(v, str) else None, high=v if not isinstance(v, str) else None)
              for k, v in values.items()}
    return Technology(key=key, name=key, option=option, description="", confidence="high", parameters=params)
