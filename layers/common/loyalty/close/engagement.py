"""Points, training and recognition at the close (issue 11): what the review adds to a partner's
close line, what the pay step applies to its points, and what its statement shows.

- Review: the certification criteria of the tiers count the partner's valid training
  certificates at the cut-off (the registry's `certified` column is the initial import: per
  course the larger of the two counts); the courses completed by then and not yet awarded, and the
  month's points (`CloseIntent`), go on the close line, so finance approves them with the rest.
- Pay: once the partner's close is committed, its points intent is applied to the points ledger
  (lots, activation, expiry, deductions) exactly once (the `close:<period>` move); a dormant
  partner that has points still gets its lots activated and expired.
- Statements: points of the month by source, spent, expired, balance, expiring soon; the rank in
  the segment with the partners just above and below; the certificates held.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from loyalty.close.review import CloseLine
from loyalty.close.statement_render import TierStep
from loyalty.kernel.periods import cutoff
from loyalty.kernel.ports import BlobStore
from loyalty.points.balances import Balance, balance_of, expiring
from loyalty.points.close import CloseIntent, CourseAward
from loyalty.points.model import EXPIRE, EXPIRED, RECREDIT, SPEND, Lot, Move, PointsHead
from loyalty.points.ports import PointsReader
from loyalty.points.service import PointsLedger
from loyalty.program.ports import RuleSource
from loyalty.program.rules import Points, RuleBook
from loyalty.recognition.leaderboard import Leaderboard
from loyalty.training.certification import certified_counts, merge_certified, new_completions
from loyalty.training.records import Completion

MAX_CERTIFICATES = 20  # certificates kept on a close line (and shown on the statement)
Section = tuple[str, list[str], list[list[str]]]


@dataclass(frozen=True)
class Engagement:
    """What the training records add to a partner's review at one close."""

    certified: dict[str, int]  # course -> certified people counted for the tiers
    courses: tuple[CourseAward, ...]  # completed by the cut-off, points not yet awarded
    certificates: list[list[str]]  # valid at the cut-off: [course, person, certificate id, expires]


def engagement_of(
    registry_certified: Mapping[str, int],
    completions: Sequence[Completion],
    awarded: Collection[tuple[str, str]],
    at: dt.date,
) -> Engagement:
    """Certified counts (registry vs training, the larger per course), the courses to award now
    (once per person and course) and the certificates the partner's people hold at `at`."""
    certified = merge_certified(registry_certified, certified_counts(completions, at))
    seen: set[tuple[str, str]] = set(awarded)
    courses: list[CourseAward] = []
    for c in sorted(new_completions(completions, at), key=lambda c: (c.completed_on, c.person_id, c.course)):
        pair = (c.person_id, c.course)
        if pair not in seen:
            seen.add(pair)
            courses.append(CourseAward(c.person_id, c.course, c.completed_on, c.certificate_id))
    certificates = [
        [c.course, c.person_id, c.certificate_id, c.expires_on.isoformat() if c.expires_on else ""]
        for c in sorted(completions, key=lambda c: (c.course, c.person_id))
        if c.certificate_id and c.completed_on <= at and (c.expires_on is None or c.expires_on >= at)
    ][:MAX_CERTIFICATES]
    return Engagement(certified, tuple(courses), certificates)


def apply_points(
    ledger: PointsLedger,
    lines: Iterable[CloseLine],
    committed: Collection[str],
    heads: Mapping[str, PointsHead],
    at_iso: str,
) -> int:
    """Apply each partner's points intent once its close is committed (`committed`); a dormant
    partner only when it has points (its head in `heads`, read for the batch at once: its lots
    still activate and expire). Returns how many partners' points changed by this call."""
    changed = 0
    for line in lines:
        if not line.points:
            continue
        pid = line.partner_id
        if (line.dormant and pid in heads) or (not line.dormant and pid in committed):
            changed += ledger.apply_close(CloseIntent.from_json(line.points), at_iso, heads.get(pid))
    return changed


@dataclass(frozen=True)
class PointsView:
    """A partner's points as its statement of one period shows them."""

    balance: Balance
    earned: dict[str, int]  # lot source -> points earned in the period
    spent: int  # redeemed in the period (net of cancellations)
    expired: int
    expiring: list[Lot]  # lots expiring soon (with what is left)

    @property
    def earned_total(self) -> int:
        return sum(self.earned.values())


def points_view(
    lots: Sequence[Lot], moves: Sequence[Move], balance: Balance, period: str, soon: Sequence[Lot]
) -> PointsView:
    earned: dict[str, int] = defaultdict(int)
    for lot in lots:
        if lot.period == period:
            earned[lot.source] += lot.points
    spent = -sum(m.points for m in moves if m.kind in (SPEND, RECREDIT))
    expired = -sum(m.points for m in moves if m.kind == EXPIRE)
    return PointsView(balance, dict(sorted(earned.items())), spent, expired, list(soon))


def statement_points_view(
    head: PointsHead | None,
    lots: Sequence[Lot],
    moves: Sequence[Move],
    period: str,
    today: dt.date,
    soon_days: int,
) -> PointsView | None:
    """The view from the stored head, lots and the period's moves (None: the partner has none)."""
    if head is None:
        return None
    bal = balance_of(head, lots, today, soon_days)
    soon = [lot for lot in expiring(lots, today, soon_days) if lot.state != EXPIRED]
    return points_view(lots, moves, bal, period, soon)


def points_section(view: PointsView) -> Section:
    b = view.balance
    rows = [[f"earned this month ({source})", str(n)] for source, n in view.earned.items()]
    rows += [
        ["earned this month (total)", str(view.earned_total)],
        ["spent this month", str(view.spent)],
        ["expired this month", str(view.expired)],
        ["balance: active (spendable)", str(b.active)],
        ["balance: pending (holding period)", str(b.pending)],
    ]
    if b.debt:
        rows.append(["balance: owed (returns after the points were earned)", str(-b.debt)])
    soon = f"{b.expiring_soon}" + (f" (first on {b.expiring_on.isoformat()})" if b.expiring_on else "")
    rows += [
        ["expiring soon", soon],
        ["lifetime earned", str(b.lifetime_earned)],
    ]
    rows += [
        [f"lot {lot.lot_id} expires {lot.expires_on.isoformat()}", str(lot.remaining)]
        for lot in view.expiring
    ]
    return ("Points", ["item", "points"], rows)


def rank_section(board: Leaderboard, partner_id: str, top_n: int) -> Section | None:
    """The partner's rank in its segment and the places just above and below it."""
    above, me, below = board.around(partner_id)
    if me is None:
        return None
    rows = [["you", str(me.rank), me.partner_id, me.name, str(me.value)]]
    if above is not None:
        rows.insert(0, ["just above", str(above.rank), above.partner_id, above.name, str(above.value)])
    if below is not None:
        rows.append(["just below", str(below.rank), below.partner_id, below.name, str(below.value)])
    rows += [["top", str(p.rank), p.partner_id, p.name, str(p.value)] for p in board.top(top_n)]
    title = f"Rank in segment {board.segment} ({board.metric}, {len(board.places)} ranked)"
    return (title, ["place", "rank", "partner", "name", "value"], rows)


def certificates_section(line: CloseLine, awards: Sequence[str]) -> Section | None:
    rows = [[c[0], c[1], c[2], c[3] or "no expiry"] for c in line.certificates]
    rows += [["partner of the month", line.segment, key, ""] for key in awards]
    if not rows:
        return None
    return ("Certificates", ["course / award", "person / segment", "certificate", "valid until"], rows)


class ExtrasStore(PointsReader, RuleSource, Protocol):
    """What a statement's engagement sections read."""


class StatementExtras:
    """The engagement sections of one statements batch: points, rank and certificates (the
    leaderboards are read once per segment, the rule versions once)."""

    def __init__(
        self,
        store: ExtrasStore,
        blobs: BlobStore,
        boards: Mapping[str, str],
        awards: Mapping[str, Sequence[str]],
    ) -> None:
        self.store, self.blobs = store, blobs
        self.boards, self.awards = boards, awards
        self._boards: dict[str, Leaderboard | None] = {}
        self._rules = {v.version: v for v in RuleBook(store.rule_versions()).versions}

    def board(self, segment: str) -> Leaderboard | None:
        if segment not in self._boards:
            key = self.boards.get(segment)
            self._boards[segment] = Leaderboard.from_json(json.loads(self.blobs.get(key))) if key else None
        return self._boards[segment]

    def tiers(self, rule_version: str) -> list[TierStep]:
        """The tiers of a rule version (the statement's tier progress bar)."""
        rules = self._rules.get(rule_version)
        return [TierStep(t.name, t.threshold_eur) for t in rules.tiers] if rules else []

    def liability_per_point(self, rule_version: str) -> Decimal:
        """EUR a point is worth in the ledger under a rule version (the analytics' points cost)."""
        rules = self._rules.get(rule_version)
        return rules.points.liability_eur_per_point if rules else Points().liability_eur_per_point

    def of(self, line: CloseLine, head: PointsHead | None) -> tuple[PointsView | None, list[Section]]:
        """The partner's sections; `head` is its points head as read for the batch (None: no
        points)."""
        pid, period = line.partner_id, line.period
        rules = self._rules.get(line.rule_version)
        soon_days = rules.points.expiring_soon_days if rules else 60
        top_n = rules.recognition.top_n if rules else 10
        view = None
        if head is not None:
            lots = self.store.lots(pid)
            view = statement_points_view(
                head, lots, self.store.moves(pid, period), period, cutoff(period), soon_days
            )
        sections: list[Section] = []
        if view is not None:
            sections.append(points_section(view))
        board = self.board(line.segment)
        rank = rank_section(board, pid, top_n) if board is not None else None
        if rank is not None:
            sections.append(rank)
        certs = certificates_section(line, self.awards.get(pid, ()))
        if certs is not None:
            sections.append(certs)
        return view, sections
