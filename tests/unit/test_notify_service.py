"""The notifier on its in-memory adapters: one email per (event, partner) however often the event
is delivered, in the partner's language, only its own data, preferences and unsubscribe, bounces
recorded and suppressed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from loyalty.adapters.memory.kernel import MemoryBlobs
from loyalty.adapters.memory.notify import MemoryMailer, MemoryNotifyStore
from loyalty.notify.model import ALL, KINDS, Prefs, partner_event
from loyalty.notify.ports import BOUNCED, FAILED, SENT
from loyalty.notify.service import NotifyService
from loyalty.notify.tokens import InvalidToken, UnsubscribeTokens
from loyalty.program.registry import Partner

NBSP = "\xa0"
PORTAL = "https://portal.example"


def partner(pid: str, name: str, email: str, country: str) -> Partner:
    return Partner(pid, name, email, "smb", country, "", dt.date(2026, 1, 1), "")


class Directory:
    def __init__(self, *partners: Partner) -> None:
        self.by_id = {p.partner_id: p for p in partners}

    def get_partner(self, partner_id: str) -> Partner | None:
        return self.by_id.get(partner_id)


A = partner("P00001", "ООО «Ромашка»", "a@romashka.example", "RU")
B = partner("P00002", "Beta IT", "finance@beta.example", "DE")


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def service(
    mailer: MemoryMailer | None = None, reports: MemoryBlobs | None = None
) -> tuple[NotifyService, MemoryNotifyStore, MemoryMailer, Clock]:
    store, mail, clock = MemoryNotifyStore(), mailer or MemoryMailer(), Clock()
    svc = NotifyService(
        store, mail, Directory(A, B), UnsubscribeTokens(b"k" * 32), PORTAL, reports=reports, clock=clock
    )
    return svc, store, mail, clock


def payout(pid: str, amount: str = "1234.56", period: str = "2026-08") -> dict[str, Any]:
    return {"type": "payout_sent", "partner_id": pid, "period": period, "amount_eur": amount}


def statement(pid: str) -> dict[str, Any]:
    return {
        "type": "statement_ready",
        "partner_id": pid,
        "period": "2026-08",
        "csv": f"statements/{pid}/2026-08.csv",
        "html": f"statements/{pid}/2026-08.html",
    }


def test_a_duplicate_delivery_sends_one_email() -> None:
    svc, store, mail, _ = service()
    first = svc.handle(payout("P00001"), {"type": "payout_sent"})
    again = svc.handle(payout("P00001"), {"type": "payout_sent"})
    assert (first.status, again.status) == ("sent", "duplicate") and len(mail.sent) == 1
    assert store.marker("P00001", "payout_sent:2026-08") == SENT


def test_the_email_is_in_the_partner_s_language_with_babel_figures_and_a_statement_link() -> None:
    svc, _, mail, _ = service()
    svc.handle(payout("P00001"))
    svc.handle(payout("P00002"))
    svc.handle(statement("P00001"))
    ru, en, st = mail.sent
    assert (ru.lang, ru.to) == ("ru", "a@romashka.example")
    assert ru.subject == f"Выплата за август 2026\u202fг. отправлена: 1{NBSP}234,56{NBSP}€"
    assert "Здравствуйте, ООО «Ромашка»!" in ru.text and "ООО «Ромашка»" in ru.html
    assert (en.lang, en.subject) == ("en", "Payout for August 2026 sent: €1,234.56")
    assert f"{PORTAL}/partner?statement=2026-08#statements" in st.html and st.kind == "statement_ready"
    assert st.unsubscribe_url.startswith(f"{PORTAL}/email/unsubscribe?token=")
    assert st.unsubscribe_url in st.text


def test_a_saved_language_wins_over_the_country() -> None:
    svc, store, mail, _ = service()
    store.put_prefs(Prefs("P00001", lang="en"))
    svc.handle(payout("P00001"))
    assert mail.sent[0].lang == "en" and "€1,234.56" in mail.sent[0].subject


def test_an_email_for_a_holds_nothing_of_b() -> None:
    svc, _, mail, _ = service()
    svc.handle(payout("P00001", "10.00"))
    svc.handle(payout("P00002", "987.65"))
    a = mail.sent[0]
    for text in (a.subject, a.text, a.html, a.to):
        assert (
            "P00002" not in text and "Beta" not in text and "beta.example" not in text and "987" not in text
        )


def test_an_unsubscribed_kind_sends_none_and_the_others_still_go() -> None:
    svc, _, mail, _ = service()
    svc.handle(statement("P00002"))
    token = mail.sent[0].unsubscribe_url.split("token=", 1)[1]
    from urllib.parse import unquote

    prefs = svc.unsubscribe(unquote(token))
    assert prefs.off == {"statement_ready"} and svc.unsubscribe(unquote(token)) == prefs  # idempotent
    again = {**statement("P00002"), "period": "2026-09"}
    assert svc.handle(again).status == "opted_out"
    assert svc.handle(payout("P00002")).status == "sent" and len(mail.sent) == 2


def test_unsubscribe_from_all_and_forged_tokens() -> None:
    svc, store, _, _ = service()
    tokens = UnsubscribeTokens(b"k" * 32)
    svc.unsubscribe(tokens.make("P00001", ALL))
    assert all(svc.handle({**payout("P00001"), "type": k}).status == "opted_out" for k in KINDS)
    forged = UnsubscribeTokens(b"x" * 32).make("P00002", "payout_sent")
    for bad in (forged, "", "abc", "a.b", tokens.make("P00002", "nonsense")):
        with pytest.raises(InvalidToken):
            svc.unsubscribe(bad)
    assert store.prefs("P00002").off == frozenset()


def test_a_rejected_address_is_recorded_and_later_sends_are_suppressed() -> None:
    svc, store, mail, _ = service(MemoryMailer(rejects={"finance@beta.example"}))
    assert svc.handle(payout("P00002")).status == "bounced"
    assert store.marker("P00002", "payout_sent:2026-08") == BOUNCED
    assert store.suppressed("finance@beta.example") and store.suppressed("FINANCE@beta.example ")
    assert svc.handle(statement("P00002")).status == "suppressed" and mail.sent == []


def test_ses_bounce_and_complaint_notifications_suppress_transient_ones_do_not() -> None:
    svc, store, _, _ = service()
    transient = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "a@romashka.example"}]},
    }
    assert svc.feedback(transient) == 0 and not store.suppressed("a@romashka.example")
    permanent = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "a@romashka.example"}]},
    }
    assert svc.feedback(permanent) == 1 and svc.handle(payout("P00001")).status == "suppressed"
    complaint = {
        "notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "finance@beta.example"}]},
    }
    assert svc.feedback(complaint) == 1 and store.suppressed("finance@beta.example") == "complaint"


class Flaky(MemoryMailer):
    def send(self, email: Any) -> str:
        if not getattr(self, "failed", False):
            self.failed = True
            raise ConnectionError("SES timed out")
        return super().send(email)


def test_a_failed_send_is_retried_and_a_crashed_one_after_the_stale_time() -> None:
    svc, store, mail, clock = service(Flaky())
    with pytest.raises(ConnectionError):
        svc.handle(payout("P00001"))
    assert store.marker("P00001", "payout_sent:2026-08") == FAILED
    assert svc.handle(payout("P00001")).status == "sent" and len(mail.sent) == 1
    # a send that crashed after its claim (no settle): nothing until the claim is stale
    store.claim("P00002", "payout_sent:2026-08", int(clock.now), 900)
    assert svc.handle(payout("P00002")).status == "duplicate"
    clock.now += 901
    assert svc.handle(payout("P00002")).status == "sent"


def test_events_that_are_not_for_partners_are_ignored_and_unknown_partners_get_nothing() -> None:
    svc, _, mail, _ = service()
    assert svc.handle({"type": "approval_requested", "period": "2026-08"}).status == "ignored"
    assert svc.handle({"type": "points_earned", "partner_id": "P00001"}).status == "ignored"
    assert svc.handle(payout("P09999")).status == "no_partner" and mail.sent == []


def test_the_event_id_is_the_fact_not_the_delivery() -> None:
    ev = partner_event(payout("P00001"), {})
    assert ev is not None and ev.event_id == "payout_sent:2026-08"
    target = {
        "type": "target_reached",
        "partner_id": "P00001",
        "target_id": "T1",
        "interval": "2026-Q3",
        "period": "2026-08",
    }
    later = {**target, "period": "2026-09", "actual": "40000"}
    e1, e2 = partner_event(target, {}), partner_event(later, {})
    assert e1 is not None and e2 is not None and e1.event_id == e2.event_id == "target_reached:T1:2026-Q3"
    up = partner_event(
        {"upload_id": "u1", "uploader": "P00001"}, {"type": "upload_processed", "partner": "P00001"}
    )
    assert up is not None and (up.kind, up.partner_id, up.event_id) == (
        "upload_processed",
        "P00001",
        "upload_processed:u1",
    )


def test_an_upload_email_lists_its_first_errors_and_escapes_them() -> None:
    blobs = MemoryBlobs()
    rows = "".join(f"{i},amount,not a number <b>{i}</b>\n" for i in range(2, 12))
    blobs.put("reports/ingest/P00002/f.errors.csv", f"row,column,message\n{rows}".encode(), "text/csv")
    svc, _, mail, _ = service(reports=blobs)
    summary = {
        "upload_id": "u-7", "key": "incoming/P00002/sales.csv", "uploader": "P00002", "rows": 12,
        "accepted": 2, "rejected": 10, "held": 0, "errors_report": "reports/ingest/P00002/f.errors.csv",
    }  # fmt: skip
    assert svc.handle(summary, {"type": "upload_processed", "partner": "P00002"}).status == "sent"
    email = mail.sent[0]
    assert email.subject == "Your file sales.csv was processed: 2 accepted, 10 rejected"
    assert "row: 2; column: amount; message: not a number &lt;b&gt;2&lt;/b&gt;" in email.html
    assert "row: 6;" in email.text and "row: 7;" not in email.text  # the first five
    assert f"{PORTAL}/partner?upload=u-7#uploads" in email.html


def test_target_reached_and_points_expiring_read_well() -> None:
    svc, _, mail, _ = service()
    svc.handle({"type": "target_reached", "partner_id": "P00002", "target_id": "T-Q3", "interval": "2026-Q3",
                "metric": "net_sales", "goal_total": "30000", "actual": "31500.50", "attainment": "1.0500"})  # fmt: skip
    svc.handle({"type": "points_expiring", "partner_id": "P00001", "period": "2026-08", "points": 1500,
                "first_expiry": "2026-10-31", "lots": []})  # fmt: skip
    target, points = mail.sent
    assert "You reached target T-Q3 for 2026-Q3: €31,500.50 of €30,000.00 (105.0%)." in target.text
    assert points.subject == f"Скоро сгорят баллы: 1{NBSP}500" and "31 окт. 2026" in points.text
