"""The close publishes what the notifier emails: a target reached (once per target and interval
at the notifier), next to statement ready, payout sent and tier changed."""

from __future__ import annotations

from tests.unit.test_close_money import run_close
from tests.unit.test_close_program import program_world, progress


def test_the_close_publishes_a_reached_target_and_not_one_still_short() -> None:
    w = program_world()
    w.source.progress[("P00001", "2026-08")] = [
        progress("T1", "2026-Q3", "31500", "reached"),
        progress("T2", "2026-Q3", "12000", "EUR 18 000.00 to go"),
    ]
    run_close(w, "2026-08")
    reached = [n.message for n in w.events.of_type("target_reached")]
    assert [(m["partner_id"], m["target_id"], m["interval"]) for m in reached] == [
        ("P00001", "T1", "2026-Q3")
    ]
    assert reached[0]["attainment"] == "1.0500" and reached[0]["goal_total"] == "30000"
    ready = {n.message["partner_id"] for n in w.events.of_type("statement_ready")}
    assert "P00001" in ready


def test_a_close_s_events_delivered_twice_mail_each_partner_once_per_fact() -> None:
    from loyalty.adapters.memory.notify import MemoryMailer, MemoryNotifyStore
    from loyalty.notify.service import NotifyService
    from loyalty.notify.tokens import UnsubscribeTokens

    w = program_world()
    w.source.progress[("P00001", "2026-08")] = [progress("T1", "2026-Q3", "31500", "reached")]
    run_close(w, "2026-08")
    mailer = MemoryMailer()
    svc = NotifyService(
        MemoryNotifyStore(), mailer, w.store, UnsubscribeTokens(b"k" * 32), "https://p.example"
    )
    for _ in range(2):  # SNS delivers at least once; a retried Statements step publishes again
        for p in w.events.published:
            svc.handle(p.message, p.attributes)
    sent = [(e.partner_id, e.kind) for e in mailer.sent]
    assert len(sent) == len(set(sent)) and ("P00001", "target_reached") in sent
    assert {k for _, k in sent} >= {"statement_ready", "payout_sent", "target_reached"}
    for e in mailer.sent:
        partner = w.store.get_partner(e.partner_id)
        assert partner is not None and e.to == partner.email
