#!/usr/bin/env python3
"""Write docs/catalogue-schema.md from src/smrplan/catalogue/parameters.csv and src/smrplan/data/options.csv.

Run after editing either file (tests/test_catalogue_schema.py fails while the page is stale):

    python scripts/make-catalogue-schema.py
"""

from pathlib import Path

from smrplan.catalogue.schema import markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "catalogue-schema.md"

if __name__ == "__main__":
    DOC.write_text(markdown(), encoding="utf-8")
    print(f"wrote {DOC}")
