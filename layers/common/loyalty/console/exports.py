"""CSV exports of a proposal (payouts, anomalies, excluded): spreadsheet-formula safe
(`loyalty.kernel.reports.safe_cell`: a partner's name is the partner's own text), written one
shard of the projection at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from loyalty.kernel.reports import safe_cell

COLUMNS: Mapping[str, tuple[str, ...]] = {
    "payouts": (
        "partner_id",
        "name",
        "segment",
        "tier",
        "payout",
        "carried_in",
        "matured_now",
        "carried_out",
        "anomalies",
        "reason",
    ),
    "anomalies": ("partner_id", "name", "payout", "reason"),
    "excluded": ("partner_id", "name", "segment", "tier", "carried_in", "matured_now", "carried_out", "why"),
}
KINDS = tuple(COLUMNS)


def csv_chunks(kind: str, rows: Iterable[Mapping[str, Any]], every: int = 500) -> Iterator[str]:
    """The CSV text of an export in pieces (a header, then `every` rows at a time)."""
    columns = COLUMNS[kind]
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(columns)
    for n, r in enumerate(rows, 1):
        out.writerow([safe_cell(r.get(c, "")) for c in columns])
        if n % every == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def export_name(period: str, run: str, kind: str) -> str:
    return f"{kind}-{period}-{run}.csv"
