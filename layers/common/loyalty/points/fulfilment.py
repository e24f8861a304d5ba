"""The fulfilment list finance and operations work from: every redemption of a period (CSV,
spreadsheet-formula safe: partner text such as reward names never becomes a formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from loyalty.kernel.reports import safe_cell
from loyalty.points.model import Redemption

HEADER = (
    "period",
    "partner_id",
    "request_id",
    "reward_id",
    "reward_name",
    "points",
    "fmv_eur",
    "state",
    "requested_at",
    "updated_at",
    "note",
)


def fulfilment_csv(rows: Iterable[Redemption]) -> bytes:
    """One line per redemption, ordered by (requested_at, partner, request id)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in sorted(rows, key=lambda r: (r.requested_at, r.partner_id, r.request_id)):
        w.writerow(
            [
                safe_cell(v)
                for v in (
                    r.period,
                    r.partner_id,
                    r.request_id,
                    r.reward_id,
                    r.reward_name,
                    r.points,
                    f"{r.fmv_eur:.2f}",
                    r.state,
                    r.requested_at,
                    r.updated_at,
                    r.note,
                )
            ]
        )
    return buf.getvalue().encode("utf-8")
