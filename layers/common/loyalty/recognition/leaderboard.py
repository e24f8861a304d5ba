"""Monthly leaderboards per segment (pure): who ranks where, who is partner of the month.

Order within a segment: value desc, then net EUR desc, then lines desc, then partner id asc (the
same inputs always give the same order). Ranks are competition ranks on the value alone: equal
values share a rank and the next distinct value skips (1, 2, 2, 4); the tie-breakers only decide
the order in which tied partners are listed, and so which of them is partner of the month.
Excluded standings (opt-out, fraud hold: `excluded_reason` set) are not ranked, only counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.kernel.periods import check_period

METRICS = ("net_sales", "units", "new_customers")
OPT_OUT = "opt-out"  # the registry's `recognition` column
ON_HOLD = "hold"  # a fraud / compliance hold on the partner


def exclusion(opt_out: bool, on_hold: bool) -> str:
    """The `excluded_reason` of a partner's standing ("" = ranked)."""
    return OPT_OUT if opt_out else ON_HOLD if on_hold else ""


@dataclass(frozen=True)
class Standing:
    """A partner's month in its segment, from the close's month aggregates."""

    partner_id: str
    name: str
    segment: str
    value: Decimal  # the metric's value (net EUR, units, new customers)
    net_eur: Decimal
    lines: int
    excluded_reason: str = ""

    def order_key(self) -> tuple[Decimal, Decimal, int, str]:
        return (-self.value, -self.net_eur, -self.lines, self.partner_id)


@dataclass(frozen=True)
class Place:
    rank: int
    partner_id: str
    name: str
    value: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "partner_id": self.partner_id, "name": self.name, "value": str(self.value)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Place:
        return cls(int(d["rank"]), str(d["partner_id"]), str(d["name"]), Decimal(str(d["value"])))


@dataclass
class Leaderboard:
    """One segment's board for one period: every ranked partner, best first."""

    period: str
    segment: str
    metric: str
    places: list[Place]
    excluded: int
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index = {p.partner_id: i for i, p in enumerate(self.places)}

    def top(self, n: int) -> list[Place]:
        """The first `n` places in order (a tie across the cut keeps its shared rank; the order
        above decides who is listed, so a board never publishes more than `n`)."""
        return self.places[: max(0, n)]

    def rank_of(self, partner_id: str) -> Place | None:
        i = self._index.get(partner_id)
        return None if i is None else self.places[i]

    def around(self, partner_id: str) -> tuple[Place | None, Place | None, Place | None]:
        """(the place just above, the partner's own, the place just below); all None when the
        partner is not ranked (excluded, another segment, no standing)."""
        i = self._index.get(partner_id)
        if i is None:
            return None, None, None
        above = self.places[i - 1] if i > 0 else None
        below = self.places[i + 1] if i + 1 < len(self.places) else None
        return above, self.places[i], below

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "segment": self.segment,
            "metric": self.metric,
            "excluded": self.excluded,
            "places": [p.to_json() for p in self.places],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Leaderboard:
        return cls(
            period=str(d["period"]),
            segment=str(d["segment"]),
            metric=str(d["metric"]),
            places=[Place.from_json(p) for p in d["places"]],
            excluded=int(d["excluded"]),
        )


def ranked(standings: Iterable[Standing]) -> list[Place]:
    """Places of the given (included) standings, ordered and competition-ranked."""
    places: list[Place] = []
    prev: Decimal | None = None
    for i, s in enumerate(sorted(standings, key=Standing.order_key)):
        rank = places[-1].rank if prev is not None and s.value == prev else i + 1
        places.append(Place(rank, s.partner_id, s.name, s.value))
        prev = s.value
    return places


def build(period: str, standings: Iterable[Standing], metric: str) -> dict[str, Leaderboard]:
    """One board per segment that has any standing (a segment whose partners are all excluded
    gets an empty board that still counts them). A partner may stand once."""
    check_period(period)
    if metric not in METRICS:
        raise ValueError(f"unknown leaderboard metric {metric!r}; known: {', '.join(METRICS)}")
    by_segment: dict[str, list[Standing]] = {}
    excluded: dict[str, int] = {}
    seen: set[str] = set()
    for s in standings:
        if s.partner_id in seen:
            raise ValueError(f"partner {s.partner_id} stands more than once in {period}")
        seen.add(s.partner_id)
        by_segment.setdefault(s.segment, [])
        excluded.setdefault(s.segment, 0)
        if s.excluded_reason:
            excluded[s.segment] += 1
        else:
            by_segment[s.segment].append(s)
    return {
        seg: Leaderboard(period, seg, metric, ranked(by_segment[seg]), excluded[seg])
        for seg in sorted(by_segment)
    }


def partner_of_the_month(board: Leaderboard) -> Place | None:
    """The first place when its value is positive (a month without a positive result has no
    partner of the month); among tied values the board's order decides."""
    if board.places and board.places[0].value > 0:
        return board.places[0]
    return None
