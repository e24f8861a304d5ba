"""The close's Recognize step (issue 11): after the payments are committed, rank the partners of
each segment on the rules' metric (`recognition.metric`), publish the leaderboards, make each
segment's partner of the month a certificate (PDF, Russian and English) and award its bonus
points (`recognition.partner_of_month_points` of the partner's own rule version).

Only committed close lines are ranked (a dormant partner had no sales); a partner who opted out
of recognition (registry column `recognition`) or whom finance excluded from the run (a hold) is
skipped and counted. The step writes `close/<period>/<run>/recognition.json` last: a retry that
finds it does nothing again (no second notification, no second bonus).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.close.batches import JSON, BatchPartner, RunFiles
from loyalty.close.notices import Notice
from loyalty.close.ports import CloseStore
from loyalty.close.review import CloseLine
from loyalty.close.runs import _prefix
from loyalty.kernel.periods import cutoff
from loyalty.kernel.ports import BlobStore, MissingBlob, Notifier
from loyalty.points.service import PointsLedger
from loyalty.program.rules import RuleBook
from loyalty.recognition import certificate
from loyalty.recognition.certificate import Certificate, certificate_key
from loyalty.recognition.leaderboard import Standing, build, exclusion
from loyalty.recognition.locales import LANGS
from loyalty.recognition.publish import Recognition, certificate_for, leaderboard_key


@dataclass(frozen=True)
class Recognized:
    period: str
    metric: str
    boards: dict[str, str] = field(default_factory=dict)  # segment -> leaderboard key
    partners_of_month: dict[str, str] = field(default_factory=dict)  # segment -> partner id
    certificates: dict[str, list[str]] = field(default_factory=dict)  # partner id -> PDF keys
    ranked: int = 0
    excluded: int = 0
    certificate_problem: str = ""  # why no certificate was rendered ("" = they were)

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "metric": self.metric,
            "boards": self.boards,
            "partners_of_month": self.partners_of_month,
            "certificates": self.certificates,
            "ranked": self.ranked,
            "excluded": self.excluded,
            "certificate_problem": self.certificate_problem,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Recognized:
        return cls(
            str(d["period"]),
            str(d["metric"]),
            dict(d.get("boards") or {}),
            dict(d.get("partners_of_month") or {}),
            {k: list(v) for k, v in dict(d.get("certificates") or {}).items()},
            int(d.get("ranked", 0)),
            int(d.get("excluded", 0)),
            str(d.get("certificate_problem", "")),
        )


def recognition_key(period: str, run: str) -> str:
    return f"{_prefix(period, run)}recognition.json"


class Recognizer:
    def __init__(
        self, store: CloseStore, files: RunFiles, blobs: BlobStore, events: Notifier, finance: Notifier
    ) -> None:
        self.store, self.files, self.blobs, self.events, self.finance = store, files, blobs, events, finance

    def done(self, period: str, run: str) -> Recognized | None:
        try:
            return Recognized.from_json(json.loads(self.blobs.get(recognition_key(period, run))))
        except MissingBlob:
            return None

    def run(self, period: str, run: str, manifest: str, issued_on: dt.date) -> Recognized:
        found = self.done(period, run)
        if found is not None:
            return found
        book = RuleBook(self.store.rule_versions())
        conf = book.in_effect(cutoff(period)).recognition
        result = Recognized(period, conf.metric)
        if conf.enabled:
            result = self._recognize(period, manifest, issued_on, book)
        self.blobs.put(recognition_key(period, run), json.dumps(result.to_json(), indent=1).encode(), JSON)
        return result

    def _recognize(self, period: str, manifest: str, issued_on: dt.date, book: RuleBook) -> Recognized:
        general = book.in_effect(cutoff(period))
        conf = general.recognition
        partners: dict[str, BatchPartner] = {}
        standings: list[Standing] = []
        for batch in self.files.batches(manifest):
            here = {p.partner_id: p for p in self.files.batch(batch)}
            partners.update(here)
            for pid, line in sorted(self.store.close_lines(period, list(here)).items()):
                reason = exclusion(here[pid].opt_out, line.state == "excluded")  # finance's hold
                standings.append(
                    Standing(
                        pid,
                        line.name,
                        line.segment,
                        metric_value(line, conf.metric),
                        line.net_sales,
                        line.lines,
                        reason,
                    )
                )
        boards = build(period, standings, conf.metric)
        certificates: dict[str, Certificate] = {}
        winners: dict[str, str] = {}
        ledger = PointsLedger(self.store)
        at = f"{cutoff(period).isoformat()}T23:59:59Z"
        for segment, board in sorted(boards.items()):
            cert = certificate_for(board, general.program, issued_on)
            if cert is None:
                continue
            winners[segment] = cert.partner_id
            certificates[segment] = cert
            p = partners[cert.partner_id]
            rules = book.in_effect(cutoff(period), p.cohort or None, p.segment or None)
            bonus = rules.recognition.partner_of_month_points
            if bonus:
                ledger.award_bonus(
                    cert.partner_id,
                    f"bonus:potm:{period}",
                    bonus,
                    f"partner of the month {period} ({segment})",
                    period,
                    rules.version,
                    rules.points.liability_eur_per_point,
                    at,
                    rules.points.expiry_months,
                )
        problem = certificate.renderer_problem()
        if problem:  # the boards and bonus points still count; finance hears why there is no PDF
            certificates = {}
            Notice(
                f"Partner of the month certificates of {period} not rendered",
                {
                    "type": "certificates_not_rendered",
                    "period": period,
                    "reason": problem,
                    "winners": winners,
                },
                {"partner": "program", "type": "certificates_not_rendered"},
            ).send(self.finance)
        keys = set(Recognition(self.blobs, self.events).publish(period, boards, certificates, conf.top_n))
        by_partner: dict[str, list[str]] = {}
        for segment, pid in winners.items():
            mine = [certificate_key(period, segment, pid, lang) for lang in LANGS]
            by_partner.setdefault(pid, []).extend(k for k in mine if k in keys)
        return Recognized(
            period,
            conf.metric,
            {seg: leaderboard_key(period, seg) for seg in sorted(boards)},
            winners,
            by_partner,
            sum(len(b.places) for b in boards.values()),
            sum(b.excluded for b in boards.values()),
            problem,
        )


def metric_value(line: CloseLine, metric: str) -> Decimal:
    """A committed close line's value on a leaderboard metric."""
    if metric == "units":
        return Decimal(line.units)
    if metric == "new_customers":
        return Decimal(line.new_customers)
    return line.net_sales
