"""A demo reward catalog (YAML text) and a CSV writer for test catalogs.

The demo has a cheap unlimited reward, one with a single unit (the second partner asking is
refused for stock), one for Gold and above, and an expensive one (refused for points)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from loyalty.points.catalog import COLUMNS as CATALOG_COLUMNS

DEMO_CATALOG = """\
version: demo-2026.1
description: The demo program's rewards
rewards:
  - id: MUG
    name: Branded coffee mug
    description: Ceramic, 300 ml, the program's logo
    points: 200
    stock: unlimited
    limit_per_period: 5
    fmv_eur: "6.50"
  - id: HEADPHONES
    name: Noise-cancelling headphones
    description: The last unit of the season
    points: 1000
    stock: 1
    fmv_eur: "180.00"
  - id: GOLD-SUMMIT
    name: Gold partner summit ticket
    description: Two days, travel included
    points: 1500
    stock: 20
    limit_per_period: 1
    min_tier: Gold
    valid_from: 2026-01-01
    valid_to: 2027-12-31
    fmv_eur: "950.00"
  - id: EBIKE
    name: Electric bike
    points: 250000
    stock: 3
    fmv_eur: "2400.00"
"""

COLUMNS = tuple(c for c in CATALOG_COLUMNS if c != "version")  # the file's columns, version aside


def catalog_csv(rows: Sequence[Mapping[str, str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """A catalog CSV of these rows (columns: COLUMNS, plus `version` if a row gives one)."""
    cols = list(COLUMNS) + (["version"] if any("version" in r for r in rows) else [])
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
    return buf.getvalue().encode(encoding)
