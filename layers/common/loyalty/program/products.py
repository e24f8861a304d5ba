"""The product master `products/*.csv` (sku, category): the category of a SKU as the program
knows it, which wins over the category a sales file declares (issue 9, point 15).

Headers are matched case-insensitively; UTF-8 with or without BOM. A row without a SKU or a
category, with a category that is not a plain value (or looks like a formula), or with a SKU
already given on an earlier line is rejected with its line and reason; the others load.
"""

from __future__ import annotations

import csv
import io
from typing import IO

from loyalty.kernel.csvio.model import FileError, RowIssue
from loyalty.kernel.ids import ID_RE, is_formula


def check_category(text: str) -> str:
    """A category as sales files give it (the sales contract's rule): lower case, up to 40
    printable characters, not a formula."""
    lc = text.strip().lower()
    if lc and (len(lc) > 40 or is_formula(lc) or not ID_RE.match(lc)):
        raise ValueError("category must be up to 40 printable characters, not a formula")
    return lc


def parse_products(stream: IO[bytes]) -> tuple[dict[str, str], list[RowIssue], int]:
    """(sku -> category, rejected rows, data rows) of a product master file."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    header = [h.strip().lower() for h in next(reader, [])]
    if "sku" not in header or "category" not in header:
        raise FileError("missing_columns", "a product master needs the columns sku and category")
    i_sku, i_cat = header.index("sku"), header.index("category")
    products: dict[str, str] = {}
    first_line: dict[str, int] = {}
    issues: list[RowIssue] = []
    rows = 0
    for line, rec in enumerate(reader, start=2):
        if not any(v.strip() for v in rec):
            continue
        rows += 1
        sku = rec[i_sku].strip() if len(rec) > i_sku else ""
        raw = rec[i_cat] if len(rec) > i_cat else ""
        reason = _problem(sku, raw, first_line)
        if reason is not None:
            issues.append(RowIssue(line, reason[0], sku if reason[0] == "sku" else raw, reason[1]))
            continue
        products[sku] = check_category(raw)
        first_line[sku] = line
    return products, issues, rows


def _problem(sku: str, raw: str, first_line: dict[str, int]) -> tuple[str, str] | None:
    if not sku:
        return "sku", "the SKU is empty"
    if sku in first_line:
        return "sku", f"{sku} is already on line {first_line[sku]}: one category per SKU"
    try:
        category = check_category(raw)
    except ValueError as exc:
        return "category", str(exc)
    if not category:
        return "category", "the category is empty"
    return None
