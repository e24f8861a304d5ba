"""A small program on the in-memory container, uploaded and closed month by month the way the
state machine does it: the service-level harness of the PRODUCT §5 rule tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.adapters.memory.container import MemoryContainer
from loyalty.close.header import Decision
from loyalty.close.review import CloseLine
from loyalty.earning.records import MonthTotals, SaleRecord
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller

from tests.conftest import RULES, sales_csv

OLGA = Caller("olga", frozenset({OPERATOR}))
FRANK = Caller("frank", frozenset({FINANCE}))
REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,iban,bic\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,,,,DE89370400440532013000,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,smb,DE,,2026-01-01,,,Gold,DE02120300000000202051,BYLADEM1001\n"
)
_files = iter(range(1, 10**6))


def program() -> MemoryContainer:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    return c


def sale(
    sale_id: str,
    sold_at: str,
    qty: int = 1,
    price: str = "100.00",
    partner: str = "P00001",
    sku: str = "SKU-1",
    original: str = "",
    category: str = "hardware",
) -> list[Any]:
    return [sale_id, partner, sold_at, sku, qty, price, "EUR", category, "C1", original]


def upload(c: MemoryContainer, rows: list[list[Any]], partner: str = "P00001") -> list[Any]:
    """Upload a sales file and write its chunks; the chunk results (rejections in `.rejected`)."""
    c.upload(f"incoming/{partner}/f{next(_files)}.csv", sales_csv(rows))
    return c.deliver()


def after(period: str) -> dt.datetime:
    y, m = int(period[:4]), int(period[5:])
    return dt.datetime(y + m // 12, m % 12 + 1, 1, 2, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ClosedRun:
    """What a re-run of one of a close's steps needs."""

    run: str
    manifest: str
    batches: list[str]
    decision: Decision


def close_run(
    c: MemoryContainer, period: str, while_awaiting: Callable[[], object] | None = None
) -> ClosedRun:
    """One close, start to finish, as the state machine runs it; `while_awaiting` runs while
    finance has not decided yet."""
    svc, wf, now = c.close(), c.workflow(), after(period)
    run = svc.start(wf, period, OLGA, False, now).run
    svc.freeze(period, run)
    manifest = svc.plan(period, run).manifest
    batches = svc.files.batches(manifest)
    for b in batches:
        svc.review(period, run, b)
    svc.propose(period, run, manifest)
    svc.request_approval(period, run, f"token-{run}", now)
    if while_awaiting is not None:
        while_awaiting()
    shown = c.store.close_meta(period)
    assert shown is not None
    c.approvals().approve(FRANK, period, "ok", (), now, run=shown.run, digest=shown.proposal_digest)
    decision = Decision.from_json(wf.succeeded[-1][1])
    for b in batches:
        svc.pay(period, run, b, decision)
    c.bank_files().bank_files(period, run, manifest, now)
    svc.recognize(period, run, manifest)
    for b in batches:
        svc.statements(period, run, b)
    svc.finish(period, run, now)
    return ClosedRun(run, manifest, batches, decision)


def close(
    c: MemoryContainer, period: str, while_awaiting: Callable[[], object] | None = None
) -> dict[str, CloseLine]:
    """One close, start to finish; the committed lines of the two partners."""
    close_run(c, period, while_awaiting)
    return c.store.close_lines(period, ["P00001", "P00002"])


def line(c: MemoryContainer, sale_id: str, partner: str = "P00001") -> SaleRecord:
    return {s.sale_id: s for s in c.store.partner_sales(partner)}[sale_id]


def month(c: MemoryContainer, m: str, partner: str = "P00001") -> MonthTotals:
    return {t.month: t for t in c.store.month_totals(partner)}[m]


def statement_rows(c: MemoryContainer, period: str, partner: str = "P00001") -> dict[str, list[str]]:
    """The statement's CSV lines by sale id, and its summary rows by label."""
    text = c.blobs.get(f"statements/{partner}/{period}.csv").decode()
    return {r.split(",")[0]: r.split(",") for r in text.splitlines() if r}


def ledger_total(c: MemoryContainer, partner: str, period: str, kind_memo: str) -> Decimal:
    return sum(
        (
            e.amount
            for e in c.store.ledger_entries(partner)
            if e.period == period and e.memo.startswith(kind_memo)
        ),
        Decimal(0),
    )
