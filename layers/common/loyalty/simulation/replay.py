"""Replaying history in an isolated world: stored lines back through the real accrual writer as
chunks, and each month through the real close (plan, review, proposal, approval, payment).

Lines are written period by period in the order they were first written (their version), all
of a period's lines before its close: a line of an already closed month is written after that
month's close, so it lands in the period it landed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from loyalty.close.header import Decision
from loyalty.close.results import Approved
from loyalty.close.runs import CloseError, CloseStatus
from loyalty.earning.records import SaleRecord
from loyalty.ingest.chunks import Chunk
from loyalty.ingest.sales.block import SaleBlock
from loyalty.ingest.sales.contract import SaleRow
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller
from loyalty.kernel.periods import next_period
from loyalty.simulation.ports import World

OPERATOR_CALLER = Caller("simulation", frozenset({OPERATOR}))
APPROVERS = (
    Caller("simulation-finance-1", frozenset({FINANCE})),
    Caller("simulation-finance-2", frozenset({FINANCE})),
)
CHUNK_ROWS = 500


def close_time(period: str) -> dt.datetime:
    """The 1st of the next month, 02:00 UTC (when the schedule starts the close)."""
    nxt = next_period(period)
    return dt.datetime(int(nxt[:4]), int(nxt[5:7]), 1, 2, 0, tzinfo=dt.UTC)


def chunk_of(period: str, index: int, records: Sequence[SaleRecord]) -> Chunk:
    """Stored lines as the splitter would send them; versions sort after every live one, so a
    line that replaces an earlier one (a correction) wins as it did."""
    rows = [
        SaleRow(
            i,
            r.sale_id,
            r.partner_id,
            r.sold_at,
            r.sku,
            r.quantity,
            r.unit_price,
            r.currency,
            r.category,
            r.customer_id,
            r.original_sale_id,
        )
        for i, r in enumerate(records, start=1)
    ]
    upload = f"simulation-{period}-{index:06d}"
    version = f"9999-{period}~{index:06d}~simulation"
    return Chunk(
        upload, "0000-000001", f"simulation/{period}", "simulation", version, SaleBlock.from_rows(rows)
    )


def write_period(
    world: World, period: str, records: Sequence[SaleRecord], chunk_rows: int = CHUNK_ROWS
) -> int:
    """Every line landing in `period` through the writer; the number of lines written."""
    writer = world.accruals()
    for i in range(0, len(records), chunk_rows):
        writer.handle(chunk_of(period, i // chunk_rows, records[i : i + chunk_rows]))
    return len(records)


def close_period(world: World, period: str) -> None:
    """One close, start to finish, as the state machine runs it (approved by two simulated
    finance approvers when the payout total needs two); statements and bank files are not made."""
    svc, wf, now = world.close(), world.workflow(), close_time(period)
    run = svc.start(wf, period, OPERATOR_CALLER, False, now).run
    svc.freeze(period, run)
    manifest = svc.plan(period, run).manifest
    batches = svc.files.batches(manifest)
    for b in batches:
        svc.review(period, run, b)
    svc.propose(period, run, manifest)
    svc.request_approval(period, run, f"simulation-{run}", now)
    meta = svc.store.close_meta(period)
    assert meta is not None
    approvals = world.approvals()
    decision: Decision | None = None
    for who in APPROVERS:
        got = approvals.approve(who, period, "simulation", (), now, run=meta.run, digest=meta.proposal_digest)
        if isinstance(got, Approved):
            decision = Decision.from_json(got.decision.to_json())  # as the workflow hands it on
            break
    if decision is None:
        raise CloseError(f"the simulated close of {period} was not approved")
    for b in batches:
        svc.pay(period, run, b, decision)
    # the bank-files step (the only one that decrypts IBANs) is not run: it would only move the
    # run on to paying, which is done here as it does
    paying = svc.store.close_meta(period)
    assert paying is not None
    paying.status = CloseStatus.PAYING
    approved = (CloseStatus.APPROVED, CloseStatus.PAYING)
    svc.store.save_close_meta(paying, expect=approved, expect_run=run, clear_token=True)
    svc.finish(period, run, now)
