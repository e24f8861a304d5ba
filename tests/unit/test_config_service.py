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


TARGETS_HEAD = b"target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,bands,method,version,effective_from\n"
TARGET_ROW = b"T-Q3,segment,SMB,net_sales,,quarter,2026-Q3,66000,,500,80:50|100:100,flat,T1,2026-01-01\n"


def test_targets_load_row_by_row_with_a_report() -> None:
    c = with_rules()
    body = TARGETS_HEAD + TARGET_ROW + b"T-BAD,segment,SMB,revenue,,month,2026-09,1,,1,,,T1,2026-01-01\n"
    r = load(c, "targets/q3.csv", body)
    assert (r["kind"], r["status"], r["rows"], r["accepted"], r["rejected"], r["reconciled"]) == (
        "targets",
        "processed",
        2,
        1,
        1,
        True,
    )
    assert r["errors"] == [  # type: ignore[comparison-overlap]
        {
            "line": 3,
            "column": "metric",
            "value": "revenue",
            "reason": "unknown metric: use one of net_sales, units, new_customers",
        }
    ]
    assert (r["version"], r["effective_from"], r["new"], r["targets"]) == (
        "T1",
        "2026-01-01",
        True,
        ["T-Q3@2026-Q3"],
    )
    assert c.blobs.keys("reports/config/targets/") == ["reports/config/targets/q3.csv.report.json"]
    (ts,) = c.store.target_sets()
    assert [t.target_id for t in ts.targets] == ["T-Q3"] and ts.source == "targets/q3.csv"
    assert c.notifier.published[-1].attributes["type"] == "targets_loaded"


def test_targets_same_version_again_is_no_change_other_content_is_refused() -> None:
    c = with_rules()
    load(c, "targets/q3.csv", TARGETS_HEAD + TARGET_ROW)
    again = load(c, "targets/q3-copy.csv", TARGETS_HEAD + TARGET_ROW)
    assert (again["status"], again["new"]) == ("processed", False)
    other = load(c, "targets/q3-edit.csv", TARGETS_HEAD + TARGET_ROW.replace(b"66000", b"70000"))
    assert other["status"] == "rejected" and "bump the version" in str(other["file_error"])
    assert len(c.store.target_sets()) == 1


def test_targets_yaml_and_file_errors() -> None:
    c = with_rules()
    yml = b"version: T2\neffective_from: 2026-07-01\ntargets:\n  - {target_id: T-U, scope: partner, scope_value: P00001, metric: units, interval: month, period: 2026-09, goal: 10, bonus_eur: 5}\n"
    r = load(c, "targets/pilot.yml", yml)
    assert (r["status"], r["accepted"], r["version"]) == ("processed", 1, "T2")
    bad = load(c, "targets/bad.csv", b"target_id,bonus\n")
    assert bad["status"] == "rejected" and "unknown column" in str(bad["file_error"])
    none = load(
        c, "targets/none.csv", TARGETS_HEAD + b"T-X,partner,,units,,month,2026-09,1,,1,,,T3,2026-01-01\n"
    )
    assert (none["status"], none["rows"], none["rejected"]) == ("rejected", 1, 1)
    assert [s.version for s in c.store.target_sets()] == ["T2"]
