"""Configuration loads on in-memory adapters: registry, rates and rules, row by row."""

from __future__ import annotations

import json

from loyalty.adapters.memory.container import MemoryContainer

from tests.conftest import RATES, REGISTRY, RULES

HEAD = b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier\n"


def with_rules() -> MemoryContainer:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    return c


def load(c: MemoryContainer, key: str, body: bytes) -> dict[str, object]:
    c.blobs.put(key, body, "text/csv")
    report = c.config().handle(key)
    assert json.loads(c.blobs.get(f"reports/config/{key}.report.json"))["rows"] == report.rows
    return report.to_json()


def test_registry_loads_good_rows_and_reports_bad_ones() -> None:
    c = with_rules()
    body = HEAD + b"P00001,Acme,a@x.example,smb,DE,,2026-01-01,,,\nbad id!,X,nope,smb,DE,,2026-01-01,,,\n"
    r = load(c, "registry/partners.csv", body)
    assert (r["rows"], r["accepted"], r["rejected"], r["reconciled"]) == (2, 1, 1, True)
    assert r["errors"][0]["column"] == "partner_id"  # type: ignore[index]
    assert c.store.get_partner("P00001") is not None


def test_registry_starting_tier_is_the_tier_of_the_join_month() -> None:
    c = with_rules()
    load(c, "registry/partners.csv", REGISTRY)
    assert c.store.tier_for("P00002", "2026-01") == "Silver"
    assert c.store.tier_for("P00001", "2026-01") is None


def test_registry_before_rules_refuses_starting_tiers_and_their_recruits() -> None:
    c = MemoryContainer()
    r = load(c, "registry/partners.csv", REGISTRY)
    assert (r["accepted"], r["rejected"]) == (2, 2)
    assert [p.partner_id for p in c.store.list_partners()] == ["D00001", "P00001"]
    errs = {e["column"]: e["value"] for e in r["errors"]}  # type: ignore[attr-defined]
    assert errs == {"starting_tier": "Silver", "sponsor_id": "P00002"}


def test_registry_that_is_not_csv_is_one_file_error() -> None:
    c = with_rules()
    r = load(c, "registry/partners.csv", b"\x00\x01PK\x03")
    assert r["status"] == "rejected" and r["file_error"]
    assert list(c.store.list_partners()) == []


def test_rates_load_with_bad_rows() -> None:
    c = MemoryContainer()
    body = RATES + b"2026-10-40,USD,1.1\n2026-10-20,XXX,1.2\n2026-10-21,GBP,-1\n"
    r = load(c, "rates/fx.csv", body)
    assert (r["rows"], r["accepted"], r["rejected"]) == (6, 3, 3)
    assert r["currencies"] == ["USD"]
    assert len(list(c.store.fx_rates())) == 3


def test_rules_load_once_and_a_changed_file_of_the_same_version_is_refused() -> None:
    c = MemoryContainer()
    assert load(c, "rules/a.yaml", RULES)["new"] is True
    assert load(c, "rules/a.yaml", RULES)["new"] is False
    changed = RULES.replace(b"program: default", b"program: other")
    try:
        load(c, "rules/b.yaml", changed)
    except ValueError as exc:
        assert "bump the version" in str(exc)
    else:
        raise AssertionError("a changed rules file of the same version was accepted")
    assert len(c.store.rule_versions()) == 1


def test_invalid_rules_file_is_rejected_with_its_reason() -> None:
    c = MemoryContainer()
    r = load(c, "rules/bad.yaml", b"program: x\nversion: 1\ntiers: []\n")
    assert r["status"] == "rejected" and "invalid rules file" in str(r["file_error"])
    assert c.store.rule_versions() == []


def test_unknown_kind_of_file_is_reported_and_announced() -> None:
    c = MemoryContainer()
    r = load(c, "other/thing.txt", b"x")
    assert r["kind"] == "unknown" and r["status"] == "rejected"
    (note,) = c.notifier.published
    assert note.attributes == {"type": "unknown_loaded", "partner": "program"}
