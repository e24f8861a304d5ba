from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyalty.kernel.money import fmt_eur, parse_decimal, to_cents
from loyalty.program.rules import RuleBook, json_schema, parse_rules
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
RULES_TEXT = (ROOT / "rules/default-program.yaml").read_text()


def test_half_even_once_to_cents() -> None:
    assert to_cents(Decimal("0.125")) == Decimal("0.12")
    assert to_cents(Decimal("0.135")) == Decimal("0.14")
    assert to_cents(Decimal("-0.125")) == Decimal("-0.12")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10.50", "10.50"),
        ("10,50", "10.50"),
        (" 7 ", "7"),
        ("-3,5", "-3.5"),
        ("+2", "2"),
        ("0.000001", "0.000001"),
    ],
)
def test_parse_decimal_accepts_dot_and_comma(text: str, value: str) -> None:
    assert parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.234,50", "more than one decimal separator"),
        ("1 234", "thousands"),
        ("1_000", "thousands"),
        ("abc", "not a decimal"),
        ("", "empty"),
        ("1e3", "not a decimal"),
        ("٣", "not a decimal"),
    ],
)
def test_parse_decimal_refuses_with_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_decimal(text)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_fmt_eur_round_trips(value: Decimal) -> None:
    assert Decimal(fmt_eur(value).replace(" ", "")) == value


def test_default_rules_are_the_product_program() -> None:
    r = parse_rules(RULES_TEXT)
    assert [(t.name, t.threshold_eur, t.commission_pct) for t in r.tiers] == [
        ("Bronze", 0, 2),
        ("Silver", 25000, 3),
        ("Gold", 100000, 4),
        ("Platinum", 250000, 5),
    ]
    assert r.commission_rate("Gold", "services") == Decimal("0.05")
    assert r.commission_rate("Bronze", "hardware") == Decimal("0.02")
    assert r.tier("Platinum").requires_certifications == {"CERT-SALES": 1}
    assert r.holding_days == 30 and r.minimum_payout_eur == 50


def test_rules_schema_rejects_bad_files() -> None:
    with pytest.raises(ValidationError, match="strictly ascending"):
        parse_rules(RULES_TEXT.replace('threshold_eur: "100000"', 'threshold_eur: "10000"'))
    with pytest.raises(ValidationError, match="extra"):
        parse_rules(RULES_TEXT + "\nsurprise: 1\n")
    with pytest.raises(ValueError, match="mapping"):
        parse_rules("- just a list")


def test_rule_versions_by_date_and_pilot_scope() -> None:
    base = parse_rules(RULES_TEXT)
    v2 = base.model_copy(update={"version": "2026.2", "effective_from": dt.date(2026, 10, 1)})
    pilot = base.model_copy(
        update={
            "version": "pilot-1",
            "effective_from": dt.date(2026, 9, 1),
            "scope": base.scope.model_copy(update={"cohort": "pilot"}),
        }
    )
    book = RuleBook([v2, base, pilot])
    assert book.in_effect(dt.date(2026, 9, 30)).version == "2026.1"
    assert book.in_effect(dt.date(2026, 10, 1)).version == "2026.2"
    assert book.in_effect(dt.date(2026, 9, 15), cohort="pilot").version == "pilot-1"
    assert book.in_effect(dt.date(2026, 10, 15), cohort="pilot").version == "2026.2"
    with pytest.raises(LookupError, match="no program rules in effect on 2025-12-31"):
        book.in_effect(dt.date(2025, 12, 31))


def test_published_json_schema_is_current() -> None:
    published = json.loads((ROOT / "rules/program.schema.json").read_text())
    assert published == json.loads(json.dumps(json_schema()))
