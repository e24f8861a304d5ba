"""Points, training and recognition through the close (issue 11), on the in-memory container:
the review's points intent, applied once after payment, course points once per person and
course, certification from training imports, the Recognize step, the statement's sections and
the notices; tier qualification never depends on points."""

from __future__ import annotations

import dataclasses

import pytest
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.close.recognize import recognition_key
from loyalty.points.service import PointsLedger

from tests.conftest import RULES
from tests.unit.close_world import REGISTRY, close_run, sale, upload

TRAINING = (
    b"partner_id,person_id,course,completed_on,certificate_id\n"
    b"P00001,ivan,CERT-SALES,2026-01-20,CS-1\n"
    b"P00001,olga,PRODUCT-101,2026-01-25,\n"
)


def world(rules: bytes = RULES) -> MemoryContainer:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", rules)
    c.load("registry/partners.csv", REGISTRY)
    return c


def month_sales(c: MemoryContainer, period: str, eur: str, partner: str = "P00001") -> None:
    upload(c, [sale(f"{partner}-{period}", f"{period}-05", price=eur, partner=partner)], partner)


def test_the_close_earns_month_points_once_after_payment_and_a_re_run_changes_nothing() -> None:
    c = world()
    month_sales(c, "2026-01", "1000.00")
    month_sales(c, "2026-01", "400.00", "P00002")  # Gold from the registry: x1.5
    done = close_run(c, "2026-01")
    proposal = c.store.close_meta("2026-01")
    assert proposal is not None and proposal.proposal
    shown = c.blobs.get(proposal.proposal)
    assert b'"month_earned": 160' in shown  # 100 (Bronze x1) + 60 (Gold x1.5) before approval
    lots = {lot.lot_id: lot for lot in c.store.lots("P00001")}
    assert lots["month:2026-01"].points == 100 and lots["month:2026-01"].state == "pending"
    assert {lot.lot_id: lot.points for lot in c.store.lots("P00002")}["month:2026-01"] == 60
    head = c.store.points_head("P00001")
    svc = c.close()
    for b in done.batches:  # the pay step delivered again: nothing changes
        svc.pay("2026-01", done.run, b, done.decision)
    assert c.store.points_head("P00001") == head
    # activated at the first close whose cut-off passes the holding period (January 31 + 30 days)
    month_sales(c, "2026-02", "50.00")
    close_run(c, "2026-02")
    assert {lot.lot_id: lot.state for lot in c.store.lots("P00001")}["month:2026-01"] == "pending"
    close_run(c, "2026-03")
    assert {lot.lot_id: lot.state for lot in c.store.lots("P00001")}["month:2026-01"] == "active"


def test_courses_award_points_once_and_certificates_count_for_platinum() -> None:
    c, control = world(), world()
    c.load("training/2026-01.csv", TRAINING)
    for w in (c, control):
        for period in ("2026-01", "2026-02", "2026-03"):
            month_sales(w, period, "100000.00")
            close_run(w, period)
    # 300 000 over three months: Platinum needs one person certified on CERT-SALES
    assert c.store.tier_for("P00001", "2026-04") == "Platinum"
    assert control.store.tier_for("P00001", "2026-04") == "Gold"
    courses = [lot for lot in c.store.lots("P00001") if lot.source == "course"]
    assert [(lot.lot_id, lot.points) for lot in courses] == [("course:2026-01", 1000)]  # 2 x 500
    c.load("training/again.csv", TRAINING)  # the same completions again: nothing new
    month_sales(c, "2026-04", "10.00")
    close_run(c, "2026-04")
    assert sum(lot.points for lot in c.store.lots("P00001") if lot.source == "course") == 1000
    line = c.store.close_lines("2026-04", ["P00001"])["P00001"]
    assert line.certificates == [["CERT-SALES", "ivan", "CS-1", ""]]


def test_recognition_ranks_publishes_certifies_and_awards_once() -> None:
    c = world()
    month_sales(c, "2026-01", "5000.00")
    month_sales(c, "2026-01", "3000.00", "P00002")
    done = close_run(c, "2026-01")
    board = c.blobs.get("leaderboards/2026-01/smb.json")
    assert b"P00001" in board and b"P00002" in board
    for lang in ("ru", "en"):
        assert c.blobs.get(f"certificates/2026-01/smb/P00001.{lang}.pdf").startswith(b"%PDF")
    bonus = {lot.lot_id: lot for lot in c.store.lots("P00001")}["bonus:potm:2026-01"]
    assert bonus.points == 1000 and bonus.state == "active"
    sent = len(c.notifier.published)
    head = c.store.points_head("P00001")
    again = c.close().recognize("2026-01", done.run, done.manifest)
    assert again.partners_of_month == {"smb": "P00001"}
    assert len(c.notifier.published) == sent and c.store.points_head("P00001") == head
    assert c.notifier.of_type("partner_of_the_month") and c.notifier.of_type("leaderboard_published")
    summary = c.blobs.get(recognition_key("2026-01", done.run))
    assert b'"ranked": 2' in summary
    statement = c.blobs.get("statements/P00002/2026-01.csv").decode()
    assert "Rank in segment smb" in statement and "just above" in statement
    mine = c.blobs.get("statements/P00001/2026-01.csv").decode()
    assert "Points" in mine and "earned this month (bonus),1000" in mine and "partner of the month" in mine
    assert c.notifier.of_type("points_earned")


def test_a_dormant_partner_s_points_still_expire() -> None:
    rules = RULES.replace(b"expiry_months: 12", b"expiry_months: 2")
    c = world(rules)
    month_sales(c, "2026-01", "1000.00")
    close_run(c, "2026-01")
    close_run(c, "2026-02")  # no sales: the partner is dormant
    close_run(c, "2026-03")  # the January lot expires at the end of March
    lots = {lot.lot_id: lot for lot in c.store.lots("P00001")}
    assert lots["month:2026-01"].state == "expired" and lots["month:2026-01"].remaining == 0
    head = c.store.points_head("P00001")
    assert head is not None and head.expired >= 100
    assert head.pending + head.active - head.debt == head.earned - head.spent - head.expired - head.deducted
    breakage = [
        p for p in c.store.points_postings(partner_id="P00001") if p.credit == "income:points-breakage"
    ]
    assert breakage


def test_tier_qualification_never_depends_on_points() -> None:
    rich, plain = world(), world()
    rules = next(iter(rich.store.rule_versions()))
    PointsLedger(rich.store).award_bonus(
        "P00001",
        "bonus:gift",
        10_000_000,
        "a gift",
        "2026-01",
        rules.version,
        rules.points.liability_eur_per_point,
        "2026-01-01T00:00:00Z",
    )
    for w in (rich, plain):
        month_sales(w, "2026-01", "20000.00")
        close_run(w, "2026-01")
    a = rich.store.close_lines("2026-01", ["P00001"])["P00001"]
    b = plain.store.close_lines("2026-01", ["P00001"])["P00001"]
    assert (a.tier_after, a.qualifying, a.tier_reason) == (b.tier_after, b.qualifying, b.tier_reason)
    assert dataclasses.replace(a, points={}, certificates=[]).tier_change == b.tier_change


def test_without_a_pdf_renderer_the_boards_and_bonus_still_count_and_finance_hears_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host without WeasyPrint's native libraries (a Lambda without a Pango layer) must not fail
    a close that has paid: the boards and bonus points stand, no certificate is written, finance
    is told why."""
    reason = "WeasyPrint cannot load its native libraries: cannot load library 'libpango-1.0-0'"
    monkeypatch.setattr("loyalty.recognition.certificate.renderer_problem", lambda: reason)
    c = world()
    month_sales(c, "2026-01", "5000.00")
    done = close_run(c, "2026-01")
    assert c.store.close_meta("2026-01").status == "paid"  # type: ignore[union-attr]
    assert b"P00001" in c.blobs.get("leaderboards/2026-01/smb.json")
    assert not [k for k in c.blobs.keys("certificates/")]
    assert "bonus:potm:2026-01" in {lot.lot_id for lot in c.store.lots("P00001")}
    told = c.finance_notifier.of_type("certificates_not_rendered")
    assert told and told[0].message["reason"] == reason
    assert reason.encode() in c.blobs.get(recognition_key("2026-01", done.run))
