"""Pilots that really apply (issue 10): a rule version scoped to a cohort governs everything the
close does for the partners in scope — tier thresholds and review, holding, minimum payout, the
month's final rates, balances and the position — while a control partner in the same close stays
on the general version. On the in-memory container, closed the way the state machine does."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import yaml
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.close.position import PositionService
from loyalty.earning.balances import BalanceService
from loyalty.program.rules import RuleBook, RuleVersion, Scope

from tests.conftest import RULES
from tests.unit.close_world import close, line, sale, statement_rows, upload

D = Decimal
PILOT = "2026.1-pilot"
REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,iban,bic\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,Pilot,,,DE89370400440532013000,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,smb,DE,,2026-01-01,control,,,DE02120300000000202051,BYLADEM1001\n"
)


def pilot_rules() -> bytes:
    """The default program for the cohort " PILOT " (any case): its own tiers (an entry tier
    named Starter at 3 %, Silver from EUR 500 at 4.5 %), no holding period and a EUR 10 minimum."""
    data: dict[str, Any] = yaml.safe_load(RULES)
    data.update(
        version=PILOT,
        scope={"cohort": " PILOT "},
        holding_days=0,
        minimum_payout_eur="10",
        tiers=[
            {"name": "Starter", "threshold_eur": "0", "commission_pct": "3"},
            {"name": "Silver", "threshold_eur": "500", "commission_pct": "4.5"},
            {"name": "Gold", "threshold_eur": "100000", "commission_pct": "6"},
        ],
    )
    return yaml.safe_dump(data).encode()


def pilot_program() -> MemoryContainer:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    c.load("rules/pilot.yaml", pilot_rules())
    c.load("registry/partners.csv", REGISTRY)
    return c


def test_a_pilot_scope_s_cohort_is_normalised_and_matched_in_any_case() -> None:
    assert Scope(cohort=" PILOT ").cohort == "pilot" and Scope(cohort="  ").cohort is None
    general = RuleVersion.model_validate(yaml.safe_load(RULES))
    pilot = RuleVersion.model_validate(yaml.safe_load(pilot_rules()))
    book = RuleBook([general, pilot])
    day = dt.date(2026, 8, 31)
    assert book.in_effect(day, "Pilot", "smb").version == PILOT
    assert book.in_effect(day, "pilot ", None).version == PILOT
    assert book.in_effect(day, "control", "smb").version == general.version
    assert book.in_effect(day).version == general.version and book.scoped


def test_pilot_and_control_partners_in_one_close_get_their_own_rules() -> None:
    c = pilot_program()
    upload(c, [sale("S1", "2026-08-20T10:00:00", price="1000.00")])
    upload(c, [sale("S2", "2026-08-20T10:00:00", price="1000.00", partner="P00002")], partner="P00002")
    assert (line(c, "S1").rate, line(c, "S1").rule_version) == (D("0.03"), PILOT)
    assert (line(c, "S2", "P00002").rate, line(c, "S2", "P00002").rule_version) == (D("0.02"), "2026.1")
    aug = close(c, "2026-08")
    pilot, control = aug["P00001"], aug["P00002"]
    assert (pilot.rule_version, control.rule_version) == (PILOT, "2026.1")
    # thresholds and review: EUR 1 000 trailing reaches the pilot's Silver (EUR 500), not the general's
    assert (pilot.tier_before, pilot.tier_after, pilot.tier_change) == ("Starter", "Silver", "up")
    assert (control.tier_after, control.tier_change) == ("Bronze", "hold")
    assert "Gold" in pilot.progress and "Silver" in control.progress
    # holding (0 days against 30) and minimum payout (EUR 10 against 50)
    assert (pilot.matured_now, pilot.payout) == (D("30.00"), D("30.00"))
    assert (control.matured_now, control.payout) == (D(0), D(0))
    assert statement_rows(c, "2026-08")["rule version"][1] == PILOT
    html = c.blobs.get("statements/P00001/2026-08.html").decode()
    assert f"Rule version {PILOT}" in html
    meta = c.store.close_meta("2026-08")
    assert meta is not None and meta.proposal
    cohorts = json.loads(c.blobs.get(meta.proposal))["by_cohort"]
    assert cohorts["pilot"]["rule_versions"] == [PILOT] and cohorts["control"]["rule_versions"] == ["2026.1"]
    assert (cohorts["pilot"]["payout"], cohorts["control"]["payout"]) == ("30.00", "0.00")


def test_the_month_is_made_final_at_the_pilot_s_rates() -> None:
    c = pilot_program()
    upload(c, [sale("S1", "2026-08-20T10:00:00", price="1000.00")])
    # a September sale uploaded while August's close awaits approval: provisional, at Starter
    close(c, "2026-08", lambda: upload(c, [sale("S3", "2026-09-10T10:00:00", price="1000.00")]))
    assert (line(c, "S3").tier, line(c, "S3").rate) == ("Starter", D("0.03"))
    sep = close(c, "2026-09")["P00001"]
    final = line(c, "S3")
    assert (final.tier, final.rate, final.rule_version, final.commission) == (
        "Silver",
        D("0.045"),
        PILOT,
        D("45.00"),
    )
    assert sep.rule_version == PILOT and sep.matured_now == D("45.00") and sep.payout == D("45.00")


def test_balances_and_the_position_follow_the_partner_s_version() -> None:
    c = pilot_program()
    upload(c, [sale("S1", "2026-08-20T10:00:00", price="1000.00")])
    upload(c, [sale("S2", "2026-08-20T10:00:00", price="1000.00", partner="P00002")], partner="P00002")
    balances = BalanceService(c.store)
    assert balances.balance("P00001", "2026-08").tier == "Starter"
    assert balances.balance("P00002", "2026-08").tier == "Bronze"
    close(c, "2026-08")
    positions = PositionService(c.store)
    sep_1 = dt.date(2026, 9, 1)
    pilot = positions.position("P00001", sep_1)  # no holding: matured and paid at the close
    assert (pilot.held, pilot.payable, pilot.paid) == (D(0), D(0), D("30.00"))
    control = positions.position("P00002", sep_1)  # 30 days from Aug 20: held until Sep 19
    assert (control.held, control.payable, control.paid) == (D("20.00"), D(0), D(0))
