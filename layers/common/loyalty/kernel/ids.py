"""Identifier shapes shared by every file contract, and the spreadsheet-formula triggers."""

from __future__ import annotations

import re

ID_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
PARTNER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}[A-Za-z0-9]$|^[A-Za-z0-9]$")
# What makes a spreadsheet evaluate a cell (OWASP "CSV injection", plus `|` and `%` for DDE and
# LibreOffice): ids starting with one are rejected at ingest, and every CSV cell we write that
# starts with one is escaped (`kernel.reports.safe_cell`). The one definition of both.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "|", "%")
# The printable ones (tab and CR are already refused as control characters).
FORMULA_PRINTABLE = "".join(c for c in FORMULA_PREFIXES if c.isprintable())


def is_formula(value: str) -> bool:
    return value.startswith(FORMULA_PREFIXES)
