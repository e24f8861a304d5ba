"""Issue 9, point 15: `category` is self-declared (+1 pp for `services`). An optional product
master `products/*.csv` (sku, category), loaded like the registry, wins over the file's column;
each disagreement is reported in the upload report (`.categories.csv`, `category_disagreements`);
bad rows of the product master get line and reason."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from loyalty.ingest.keys import report_base
from loyalty.program.products import parse_products

from tests.unit.test_accrual_service import lines, world
from tests.unit.test_ingest_service import KEY, row, sales_csv, summary

MASTER = b"sku,category\nSKU-1,hardware\nSKU-2,Services\n"


def test_bad_rows_of_the_product_master_get_line_and_reason() -> None:
    body = b"SKU,Category\nSKU-1,hardware\n,services\nSKU-3,\nSKU-1,services\nSKU-4,=cmd\n"
    products, issues, rows = parse_products(io.BytesIO(body))
    assert products == {"SKU-1": "hardware"} and rows == 5
    assert [(i.line, i.column) for i in issues] == [(3, "sku"), (4, "category"), (5, "sku"), (6, "category")]
    assert "SKU-1 is already on line 2" in issues[2].reason


def test_the_master_wins_and_disagreements_are_reported() -> None:
    c = world()
    c.load("products/catalog.csv", MASTER)
    rep = c.blobs.get("reports/config/products/catalog.csv.report.json")
    assert b'"accepted": 2' in rep
    rows = [
        row("S1", price="100.00", sku="SKU-1", category="services"),  # claims services: master says hardware
        row("S2", price="100.00", sku="SKU-2", category=""),  # the master gives services
        row("S3", price="100.00", sku="SKU-9", category="services"),  # not in the master: the file's
    ]
    c.upload(KEY, sales_csv(rows))
    c.deliver()
    got = {k: (v.category, v.rate) for k, v in lines(c).items()}
    assert got == {
        "S1": ("hardware", Decimal("0.02")),
        "S2": ("services", Decimal("0.03")),
        "S3": ("services", Decimal("0.03")),
    }
    s = summary(c)
    assert s["category_disagreements"] == 2 and s["accepted"] == 3
    body = c.blobs.get(report_base(KEY) + ".categories.csv").decode()
    got_rows = [(r["line"], r["value"], r["reason"]) for r in csv.DictReader(io.StringIO(body))]
    assert got_rows == [
        ("2", "services", "the product master says 'hardware' for SKU-1; the master's category is used"),
        ("3", "", "the product master says 'services' for SKU-2; the master's category is used"),
    ]


def test_without_a_master_the_files_category_stands() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", price="100.00", category="services")]))
    c.deliver()
    assert lines(c)["S1"].rate == Decimal("0.03") and summary(c)["category_disagreements"] == 0
