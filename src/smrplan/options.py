"""The supply-option vocabulary, read from ``data/options.csv`` (the one place it is defined).

A plan gives every settlement one supply option: a stand-alone system of its own (diesel, PV + battery,
grid extension) or a reactor plant of one kind (land, micro, floating) at a candidate site. Catalogue
entries belong to catalogue options (their ``option`` field); each supplies at most one planning option,
and the reference ones (a grid-side large reactor, the local network entry) supply none.

Exports, all in the file's row order:

* ``ALL_OPTIONS``, ``STANDALONE_OPTIONS``, ``REACTOR_OPTIONS``: planning options;
* ``KIND_OPTION`` (reactor kind -> planning option) and ``KINDS`` (the kinds, candidate-site ``kind`` values);
* ``OPTION_LABELS``, ``OPTION_COLOURS``, ``OPTION_DESCRIPTIONS``: display text and colour per planning option;
* ``CATALOGUE_OPTIONS``: every valid catalogue ``option`` value; ``CATALOGUE_OPTION_SUPPLIES``: catalogue
  option -> planning option (None for the reference ones); ``REACTOR_CATALOGUE_OPTIONS``: catalogue
  options that are reactor designs (planned or not).
"""

from __future__ import annotations

import csv
from importlib import resources


def _rows() -> list[dict[str, str]]:
    """The rows of data/options.csv (comment lines start with '#'; colours contain '#' too)."""
    text = resources.files("smrplan.data").joinpath("options.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


_ROWS = _rows()
_PLANNED = [r for r in _ROWS if r["group"] != "reference"]

STANDALONE_OPTIONS: tuple[str, ...] = tuple(r["option"] for r in _ROWS if r["group"] == "standalone")
REACTOR_OPTIONS: tuple[str, ...] = tuple(r["option"] for r in _ROWS if r["group"] == "reactor")
ALL_OPTIONS: tuple[str, ...] = STANDALONE_OPTIONS + REACTOR_OPTIONS
KIND_OPTION: dict[str, str] = {r["reactor_kind"]: r["option"] for r in _ROWS if r["group"] == "reactor"}
KINDS: tuple[str, ...] = tuple(KIND_OPTION)
OPTION_LABELS: dict[str, str] = {r["option"]: r["label"] for r in _PLANNED}
OPTION_COLOURS: dict[str, str] = {r["option"]: r["colour"] for r in _PLANNED}
OPTION_DESCRIPTIONS: dict[str, str] = {r["option"]: r["description"] for r in _ROWS}
CATALOGUE_OPTION_SUPPLIES: dict[str, str | None] = {c: (None if r["group"] == "reference" else r["option"])
                                                    for r in _ROWS for c in r["catalogue_options"].split()}
CATALOGUE_OPTIONS: tuple[str, ...] = tuple(CATALOGUE_OPTION_SUPPLIES)
REACTOR_CATALOGUE_OPTIONS: tuple[str, ...] = tuple(c for r in _ROWS if r["reactor_kind"]
                                                   for c in r["catalogue_options"].split())
