"""Catalog files (YAML and CSV): good rows load, every bad row is rejected with line, column and
reason; the loader upserts rewards (keeping `taken`) and a re-upload changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.kernel import MemoryBlobs
from loyalty.kernel.csvio.model import FileError
from loyalty.points.catalog import CatalogLoader, parse_catalog
from loyalty_factories.catalog import DEMO_CATALOG, catalog_csv

TIERS = ["Bronze", "Silver", "Gold", "Platinum"]

YAML = """\
version: "2026.1"
rewards:
  - id: MUG
    name: Branded mug
    description: Ceramic, 300 ml
    points: 500
    stock: unlimited
    fmv_eur: 6.50
  - id: TRIP
    name: Partner trip
    points: 40000
    stock: 2
    limit_per_period: 1
    valid_from: 2026-01-01
    valid_to: 2026-12-31
    min_tier: gold
    fmv_eur: "1200"
"""


def test_yaml_catalog_parses_every_field_as_written() -> None:
    cat = parse_catalog(YAML, "catalog/2026.yaml", TIERS)
    assert cat.version == "2026.1" and cat.rows == 2 and cat.issues == []
    mug, trip = cat.rewards
    assert (mug.reward_id, mug.points, mug.stock, mug.limit_per_period, mug.fmv_eur) == (
        "MUG",
        500,
        None,
        None,
        Decimal("6.50"),
    )
    assert mug.description == "Ceramic, 300 ml" and mug.catalog_version == "2026.1"
    assert (trip.stock, trip.limit_per_period, trip.min_tier) == (2, 1, "Gold")
    assert (trip.valid_from, trip.valid_to) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert trip.fmv_eur == Decimal("1200.00")


BAD_YAML = """\
version: v2
rewards:
  - {id: OK, name: Fine, points: 10, stock: 0, fmv_eur: 1}
  - {id: ZERO, name: Zero, points: 0, stock: 1, fmv_eur: 1}
  - {id: FRAC, name: Frac, points: 10.5, stock: 1, fmv_eur: 1}
  - {id: NEG, name: Neg, points: 10, stock: -1, fmv_eur: 1}
  - {id: DAY, name: Day, points: 10, stock: 1, fmv_eur: 1, valid_from: 2026-13-01}
  - {id: ORDER, name: Order, points: 10, stock: 1, fmv_eur: 1, valid_from: 2026-05-01, valid_to: 2026-04-30}
  - {id: FMV, name: Fmv, points: 10, stock: 1, fmv_eur: -3}
  - {id: CENTS, name: Cents, points: 10, stock: 1, fmv_eur: 1.234}
  - {id: TIER, name: Tier, points: 10, stock: 1, fmv_eur: 1, min_tier: Diamond}
  - {id: OK, name: Again, points: 10, stock: 1, fmv_eur: 1}
  - {id: "=CMD", name: Formula, points: 10, stock: 1, fmv_eur: 1}
  - {id: EXTRA, name: Extra, points: 10, stock: 1, fmv_eur: 1, colour: red}
  - {id: NONAME, points: 10, stock: 1, fmv_eur: 1}
  - just text
"""


def test_every_bad_yaml_row_has_line_column_and_reason() -> None:
    cat = parse_catalog(BAD_YAML, "catalog/x.yml", TIERS)
    assert [r.reward_id for r in cat.rewards] == ["OK"] and cat.rewards[0].stock == 0
    got = {(i.line, i.column): i.reason for i in cat.issues}
    assert cat.rows == 14 and len(cat.issues) == 13
    assert "points must be a whole number from 1" in got[(4, "points")]
    assert "whole number" in got[(5, "points")]
    assert "stock must be empty or `unlimited`" in got[(6, "stock")]
    assert "not an ISO date" in got[(7, "valid_from")]
    assert got[(8, "valid_to")] == "valid_to 2026-04-30 is before valid_from 2026-05-01"
    assert "at least 0" in got[(9, "fmv_eur")]
    assert "at most 2 decimals" in got[(10, "fmv_eur")]
    assert "unknown tier 'Diamond'" in got[(11, "min_tier")]
    assert got[(12, "id")] == "OK is already on line 3"
    assert "not starting with =" in got[(13, "id")]
    assert got[(14, "colour")] == "unknown field 'colour'"
    assert "name is required" in got[(15, "name")]
    assert got[(16, "")] == "a reward must be a mapping of fields"


def test_csv_semicolons_cp1251_and_the_file_name_as_version() -> None:
    text = (
        "id;name;points;stock;limit_per_period;min_tier;fmv_eur\n"
        "KRUZHKA;Кружка, логотип;300;;;;4,50\n"
        "BAD;Плохо;много;1;;;1\n"
    )
    cat = parse_catalog(text.encode("cp1251"), "catalog/spring 2026.csv", TIERS)
    assert cat.version == "spring-2026"
    (r,) = cat.rewards
    assert r.name == "Кружка, логотип" and r.stock is None and r.fmv_eur == Decimal("4.50")
    (issue,) = cat.issues
    assert (issue.line, issue.column, issue.value) == (3, "points", "много")


def test_csv_version_column_and_the_demo_catalogs() -> None:
    data = catalog_csv(
        [{"id": "A", "name": "A", "points": "5", "stock": "unlimited", "fmv_eur": "0", "version": "v7"}]
    )
    assert parse_catalog(data, "catalog/a.csv").version == "v7"
    demo = parse_catalog(DEMO_CATALOG, "catalog/demo.yaml", TIERS)
    assert demo.issues == [] and len(demo.rewards) >= 4
    assert any(r.stock == 1 for r in demo.rewards) and any(r.min_tier == "Gold" for r in demo.rewards)


@pytest.mark.parametrize(
    ("text", "name", "code"),
    [
        ("", "catalog/e.csv", "empty_file"),
        ("id,name,points\nA,B,1\n", "catalog/m.csv", "missing_columns"),
        ("rewards: []\n", "catalog/v.yaml", "version"),
        ("version: 1\nrewards: {a: 1}\n", "catalog/l.yaml", "yaml"),
        ("version: 1\nitems: []\n", "catalog/u.yaml", "unknown_fields"),
        ("[1, 2", "catalog/b.yaml", "yaml"),
        ("id,name\n", "catalog/t.txt", "not_catalog"),
        ("id,name,points,stock,fmv_eur,version\nA,A,1,1,1,v1\nB,B,1,1,1,v2\n", "catalog/two.csv", "version"),
    ],
)
def test_whole_file_problems(text: str, name: str, code: str) -> None:
    with pytest.raises(FileError) as exc:
        parse_catalog(text, name, TIERS)
    assert exc.value.code == code


def test_loader_upserts_keeps_taken_and_a_reupload_changes_nothing() -> None:
    store, blobs = MemoryStore(), MemoryBlobs()
    loader = CatalogLoader(store, blobs, lambda: TIERS)
    blobs.put("catalog/2026.yaml", YAML.encode(), "text/yaml")
    rep = loader.load("catalog/2026.yaml")
    assert (rep.kind, rep.rows, rep.accepted, rep.rejected, rep.file_error) == ("catalog", 2, 2, 0, "")
    assert rep.detail["new"] == ["MUG", "TRIP"] and rep.detail["version"] == "2026.1"
    mug = store.reward("MUG")
    assert mug is not None
    store.reward_items["MUG"] = dataclasses.replace(mug, taken=3)  # as redemptions would
    again = loader.load("catalog/2026.yaml")
    assert again.detail["unchanged"] == ["MUG", "TRIP"] and again.detail["new"] == []
    blobs.put("catalog/2026.yaml", YAML.replace("points: 500", "points: 450").encode(), "text/yaml")
    changed = loader.load("catalog/2026.yaml")
    assert changed.detail["updated"] == ["MUG"]
    mug = store.reward("MUG")
    assert mug is not None and mug.points == 450 and mug.taken == 3
    blobs.put("catalog/bad.yaml", BAD_YAML.encode(), "text/yaml")
    bad = loader.load("catalog/bad.yaml")
    assert (bad.accepted, bad.rejected) == (1, 13) and bad.to_json()["reconciled"]
    blobs.put("catalog/none.csv", b"id,name,points,stock,fmv_eur\n", "text/csv")
    assert loader.load("catalog/none.csv").file_error == "the catalog lists no rewards"
    blobs.put("catalog/x.yaml", b"rewards: []", "text/yaml")
    assert "version" in loader.load("catalog/x.yaml").file_error
