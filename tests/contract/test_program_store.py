"""Contract of the program ports (PartnerDirectory, TierBook, RuleStore, FxStore): the same
results from the in-memory store and the DynamoDB store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loyalty.adapters.memory import MemoryStore
from loyalty.kernel.iban import bank_fingerprint
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleVersion, parse_rules

ROOT = Path(__file__).resolve().parents[2]
RULES = parse_rules((ROOT / "rules/default-program.yaml").read_text())
IBAN = "DE89370400440532013000"


def partner(pid: str, **kw: Any) -> Partner:
    base = Partner(pid, f"Name {pid}", f"{pid.lower()}@x.example", "smb", "DE", "", dt.date(2026, 1, 1), "")
    return dataclasses.replace(base, **kw)


def test_partner_round_trip_with_masked_iban(store: Any) -> None:
    p = partner(
        "P00001",
        sponsor_id="P00009",
        cohort="pilot",
        distributor_for=("P00002", "P00003"),
        starting_tier="Silver",
        certified=(("CERT-PRE", 1), ("CERT-SALES", 2)),
        iban=IBAN,
        bic="COBADEFFXXX",
    )
    store.put_partners([p])
    got = store.get_partner("P00001")
    assert got == dataclasses.replace(p, iban="DE89 **** 3000")


def test_recognition_opt_out_round_trips(store: Any) -> None:
    store.put_partners([partner("P00001", recognition_opt_out=True), partner("P00002")])
    got = {p.partner_id: p.recognition_opt_out for p in store.list_partners()}
    assert got == {"P00001": True, "P00002": False}


def test_missing_partner_is_none(store: Any) -> None:
    assert store.get_partner("P404") is None


def test_list_partners_in_id_order_and_put_replaces(store: Any) -> None:
    store.put_partners([partner("P00003"), partner("P00001")])
    store.put_partners([partner("P00002"), partner("P00001", name="Renamed")])
    listed = list(store.list_partners())
    assert [p.partner_id for p in listed] == ["P00001", "P00002", "P00003"]
    assert listed[0].name == "Renamed"


def test_bank_details_decrypt_only_partners_with_an_iban(store: Any) -> None:
    store.put_partners([partner("P00001", iban=IBAN, bic="COBADEFFXXX"), partner("P00002")])
    assert store.bank_details(["P00001", "P00002", "P00001", "P404"]) == {"P00001": (IBAN, "COBADEFFXXX")}
    assert store.bank_details([]) == {}


def test_bank_snapshots_keep_the_ciphertext_and_the_date_of_a_change(store: Any) -> None:
    """What the close's proposal snapshots (issue 9, point 2): nothing decrypted, a fingerprint,
    and when the details were loaded (kept while they stay the same)."""
    store.put_partners([partner("P00001", iban=IBAN, bic="COBADEFFXXX"), partner("P00002")])
    snaps = store.bank_snapshots(["P00001", "P00002", "P404", "P00001"])
    assert list(snaps) == ["P00001"]
    s = snaps["P00001"]
    fp = bank_fingerprint("P00001", IBAN, "COBADEFFXXX")
    assert (s.name, s.iban_mask, s.bic, s.fingerprint) == ("Name P00001", "DE89 **** 3000", "COBADEFFXXX", fp)
    assert IBAN not in s.iban_enc and store.decrypt_iban("P00001", s.iban_enc) == IBAN
    assert s.since and store.bank_snapshots([]) == {}
    store.put_partners([partner("P00001", name="Renamed", iban=IBAN, bic="COBADEFFXXX")])
    assert store.bank_snapshots(["P00001"])["P00001"].since == s.since  # same details, same date
    store.put_partners([partner("P00001", iban="GB33BUKB20201555555555")])
    changed = store.bank_snapshots(["P00001"])["P00001"]
    assert changed.fingerprint not in {"", fp} and changed.since >= s.since


def test_iban_without_cipher_is_refused(store: Any) -> None:
    store.cipher = None
    with pytest.raises(RuntimeError, match="data key"):
        store.put_partners([partner("P00001", iban=IBAN)])
    store.put_partners([partner("P00002")])  # no bank details: fine without a key
    assert store.get_partner("P00002") is not None


def test_tier_for_is_the_latest_at_or_before_the_month(store: Any) -> None:
    store.put_tier("P00001", "2026-03", "Silver", "review")
    store.put_tier("P00001", "2026-06", "Gold", "review")
    store.put_tier("P00002", "2026-01", "Platinum", "starting tier")
    assert store.tier_for("P00001", "2026-02") is None
    assert store.tier_for("P00001", "2026-03") == "Silver"
    assert store.tier_for("P00001", "2026-05") == "Silver"
    assert store.tier_for("P00001", "2026-12") == "Gold"
    assert store.tier_for("P404", "2026-12") is None
    store.put_tier("P00001", "2026-06", "Bronze", "corrected")
    assert store.tier_for("P00001", "2026-07") == "Bronze"


def test_rule_versions_are_ordered_and_immutable(store: Any) -> None:
    later = RULES.model_copy(update={"version": "2027.1", "effective_from": dt.date(2027, 1, 1)})
    assert store.put_rule_version(later, "rules/b.yaml") is True
    assert store.put_rule_version(RULES, "rules/a.yaml") is True
    assert store.put_rule_version(RULES, "rules/a-again.yaml") is False  # same content: no-op
    assert [v.version for v in store.rule_versions()] == ["2026.1", "2027.1"]
    assert store.rule_versions()[0] == RULES
    changed = RULES.model_copy(update={"description": "other"})
    with pytest.raises(ValueError, match="other content"):
        store.put_rule_version(changed, "rules/c.yaml")
    moved = RULES.model_copy(update={"effective_from": dt.date(2026, 2, 1)})
    with pytest.raises(ValueError, match="already exists"):
        store.put_rule_version(moved, "rules/d.yaml")
    assert len(store.rule_versions()) == 2


def test_no_rules_no_rates(store: Any) -> None:
    assert store.rule_versions() == []
    assert list(store.fx_rates()) == []


def test_fx_rates_merge_and_come_back_in_currency_and_date_order(store: Any) -> None:
    d = dt.date
    store.put_fx_rates([(d(2026, 10, 15), "USD", Decimal("1.12")), (d(2026, 9, 1), "USD", Decimal("1.10"))])
    store.put_fx_rates([(d(2026, 10, 1), "USD", Decimal("1.08")), (d(2026, 10, 1), "GBP", Decimal("0.87"))])
    store.put_fx_rates([(d(2026, 10, 15), "USD", Decimal("1.125"))])  # a later load corrects a day
    assert list(store.fx_rates()) == [
        (d(2026, 10, 1), "GBP", Decimal("0.87")),
        (d(2026, 9, 1), "USD", Decimal("1.10")),
        (d(2026, 10, 1), "USD", Decimal("1.08")),
        (d(2026, 10, 15), "USD", Decimal("1.125")),
    ]


def test_memory_store_keeps_no_reference_to_callers_objects() -> None:
    store = MemoryStore()
    rules: RuleVersion = RULES
    store.put_rule_version(rules, "rules/a.yaml")
    assert store.rule_versions()[0] is not rules
