"""The notifications of a close: to finance (approval requested, reminder, paid) and to each
partner (statement ready, tier changed, payout sent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.close.engagement import PointsView
from loyalty.close.header import CloseMeta
from loyalty.close.review import CloseLine
from loyalty.kernel.clock import iso_seconds, parse_seconds
from loyalty.kernel.periods import next_period
from loyalty.kernel.ports import Notifier


@dataclass(frozen=True)
class Notice:
    subject: str
    message: Mapping[str, Any]
    attributes: Mapping[str, str]

    def send(self, to: Notifier) -> None:
        to.publish(self.subject, self.message, self.attributes)


def approval_requested(meta: CloseMeta) -> Notice:
    period, run = meta.period, meta.run
    return Notice(
        f"Payout run {period} awaits approval",
        {
            "type": "approval_requested",
            "period": period,
            "run": run,
            "started_by": meta.started_by,
            "summary": meta.summary_json(),
            "proposal": meta.proposal or "",
            "how": f"loyalty approvals show {period}; loyalty approvals approve|reject {period}",
        },
        {"type": "approval_requested", "period": period},
    )


def approval_reminder(meta: CloseMeta, timeout: dt.timedelta) -> Notice:
    requested = meta.requested_at or ""
    return Notice(
        f"Reminder: payout run {meta.period} awaits approval",
        {
            "type": "approval_reminder",
            "period": meta.period,
            "run": meta.run,
            "waiting_since": requested,
            "auto_reject_at": iso_seconds(parse_seconds(requested) + timeout),
            "summary": meta.summary_json(),
        },
        {"type": "approval_reminder", "period": meta.period},
    )


def close_failed(meta: CloseMeta) -> Notice:
    """A run that failed (an invariant, a digest or a bank check stopped it: it fails closed and
    finance hears of it at once)."""
    return Notice(
        f"Payout run {meta.period} failed: nothing more was paid",
        {
            "type": "close_failed",
            "period": meta.period,
            "run": meta.run,
            "error": meta.ended or "",
            "reason": meta.reason or "",
            "how": f"loyalty approvals show {meta.period}; fix the cause, then loyalty close --period "
            f"{meta.period} --rerun",
        },
        {"type": "close_failed", "period": meta.period},
    )


def close_finished(meta: CloseMeta) -> Notice:
    return Notice(
        f"Payout run {meta.period} paid",
        {
            "type": "close_finished",
            "period": meta.period,
            "run": meta.run,
            "paid_total": meta.paid_total,
            "files": meta.bank_files,
        },
        {"type": "close_finished", "period": meta.period},
    )


def partner_notices(line: CloseLine, csv_key: str, html_key: str) -> list[Notice]:
    """Statement ready; tier changed (up or down); payout sent (paid lines with a payout)."""
    pid, period = line.partner_id, line.period
    out = [
        Notice(
            f"Statement {period} ready",
            {
                "type": "statement_ready",
                "partner_id": pid,
                "period": period,
                "csv": csv_key,
                "html": html_key,
            },
            {"partner": pid, "type": "statement_ready"},
        )
    ]
    if line.tier_change in {"up", "down"}:
        out.append(
            Notice(
                f"Tier changed to {line.tier_after}",
                {
                    "type": "tier_changed",
                    "partner_id": pid,
                    "from": line.tier_before,
                    "to": line.tier_after,
                    "applies_from": next_period(period),
                    "reason": line.tier_reason,
                },
                {"partner": pid, "type": "tier_changed"},
            )
        )
    if line.payout > 0 and line.state == "paid":
        out.append(
            Notice(
                f"Payout {period} sent",
                {"type": "payout_sent", "partner_id": pid, "period": period, "amount_eur": str(line.payout)},
                {"partner": pid, "type": "payout_sent"},
            )
        )
    return out


def points_notices(line: CloseLine, view: PointsView | None) -> list[Notice]:
    """Points earned at this close; points expiring soon (the window of the rules)."""
    if view is None:
        return []
    pid, period = line.partner_id, line.period
    out = []
    if view.earned_total > 0:
        out.append(
            Notice(
                f"{view.earned_total} points earned in {period}",
                {
                    "type": "points_earned",
                    "partner_id": pid,
                    "period": period,
                    "points": view.earned_total,
                    "by_source": view.earned,
                    "active": view.balance.active,
                    "pending": view.balance.pending,
                },
                {"partner": pid, "type": "points_earned"},
            )
        )
    if view.balance.expiring_soon > 0:
        first = view.balance.expiring_on.isoformat() if view.balance.expiring_on else ""
        out.append(
            Notice(
                f"{view.balance.expiring_soon} points expire soon",
                {
                    "type": "points_expiring",
                    "partner_id": pid,
                    "period": period,
                    "points": view.balance.expiring_soon,
                    "first_expiry": first,
                    "lots": [
                        [lot.lot_id, lot.remaining, lot.expires_on.isoformat()] for lot in view.expiring
                    ],
                },
                {"partner": pid, "type": "points_expiring"},
            )
        )
    return out


def targets_reached(line: CloseLine) -> list[Notice]:
    """Each target the partner has reached (attainment at least 100 %) at this close. A target
    stays reached for the rest of its interval: the notifier sends its email once per target and
    interval (the event's id)."""
    out = []
    for t in line.targets:
        if Decimal(str(t.get("attainment", "0"))) < 1:
            continue
        out.append(
            Notice(
                f"Target {t.get('target_id', '')} reached",
                {
                    "type": "target_reached",
                    "partner_id": line.partner_id,
                    "period": line.period,
                    "target_id": t.get("target_id", ""),
                    "interval": t.get("interval", ""),
                    "metric": t.get("metric", ""),
                    "goal_total": t.get("goal_total", ""),
                    "actual": t.get("actual", ""),
                    "attainment": t.get("attainment", ""),
                },
                {"partner": line.partner_id, "type": "target_reached"},
            )
        )
    return out
