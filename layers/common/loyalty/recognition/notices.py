"""The notifications of recognition, shaped like the close's (`loyalty/close/notices.py`): a
subject, a JSON message with its `type`, and the attributes subscribers filter on.

SNS has no deduplication id, so every message carries a deterministic `notice_id` (the same
publication gives the same id): a subscriber that sees an id twice drops the second."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loyalty.kernel.ports import Notifier
from loyalty.recognition.certificate import Certificate
from loyalty.recognition.leaderboard import Leaderboard


@dataclass(frozen=True)
class Notice:
    subject: str
    message: Mapping[str, Any]
    attributes: Mapping[str, str]

    def send(self, to: Notifier) -> None:
        to.publish(self.subject, self.message, self.attributes)


def notice_id(*parts: str) -> str:
    return hashlib.sha256("|".join(("recognition", *parts)).encode()).hexdigest()[:24]


def leaderboard_published(board: Leaderboard, top_n: int, key: str, digest: str) -> Notice:
    """Per segment: the top N of the period and where the whole board is (each partner finds its
    own rank and neighbours there). `digest`: of the published board (part of the id)."""
    top = [p.to_json() for p in board.top(top_n)]
    return Notice(
        f"Leaderboard {board.period} ({board.segment}) published",
        {
            "type": "leaderboard_published",
            "notice_id": notice_id("leaderboard_published", board.period, board.segment, digest),
            "period": board.period,
            "segment": board.segment,
            "metric": board.metric,
            "top_n": top_n,
            "top": top,
            "ranked": len(board.places),
            "excluded": board.excluded,
            "board": key,
            "how": f"loyalty leaderboard --period {board.period} --segment {board.segment}",
        },
        {"type": "leaderboard_published", "period": board.period, "segment": board.segment},
    )


def partner_of_the_month(cert: Certificate, keys: Mapping[str, str]) -> Notice:
    """To the partner: it is partner of the month in its segment; the certificate in each language."""
    return Notice(
        f"Partner of the month {cert.period}: congratulations",
        {
            "type": "partner_of_the_month",
            "notice_id": notice_id("partner_of_the_month", cert.period, cert.segment, cert.partner_id),
            "partner_id": cert.partner_id,
            "period": cert.period,
            "segment": cert.segment,
            "metric": cert.metric,
            "value": str(cert.value),
            "certificate": cert.number,
            "certificates": dict(keys),
        },
        {"partner": cert.partner_id, "type": "partner_of_the_month"},
    )
