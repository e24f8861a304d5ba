"""The close's ports, one suite against both adapters: DynamoDB (on moto) and in memory. Same
answers, and the conditional writes refuse the same things."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import boto3
import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.memory import MemoryCipher, MemoryStore
from loyalty.adapters.s3sqs import KmsTokenCipher
from loyalty.close.header import CloseMeta
from loyalty.close.ledger import Entry, entry_id
from loyalty.close.proposal import SummaryFigures
from loyalty.close.review import CloseLine, NextTier, ledger_entries
from loyalty.close.runs import CloseStatus
from loyalty.earning.records import MonthDelta
from loyalty_local.cloud import REGION

from tests.contract.conftest import make_table

S = CloseStatus
D = Decimal
Store = DynamoStore | MemoryStore


def dynamo_table() -> DynamoStore:
    """A DynamoStore on a fresh table with the template's key schema, on moto; callback tokens
    encrypted with a KMS key of their own (as the stack's TOKEN_KEY_ID)."""
    key = boto3.client("kms", region_name=REGION).create_key(Description="tokens")["KeyMetadata"]["KeyId"]
    return DynamoStore(make_table(), REGION).with_token_cipher(KmsTokenCipher(key, REGION))


@pytest.fixture(params=["dynamo", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    yield dynamo_table() if request.param == "dynamo" else MemoryStore(MemoryCipher())


def seed_month(store: Store, partner: str, month: str, net: str, by_day: dict[int, Decimal]) -> None:
    """Month totals through each adapter's own writer (the earning's side of the table)."""
    delta = MonthDelta(net_eur=D(net), commission=sum(by_day.values(), D(0)), lines=1, by_day=by_day)
    delta.customers = {"C1"}
    store.apply_month_delta(partner, month, "chunk-1", delta)


def header(status: CloseStatus = S.STARTED, run: str = "close-2026-08", **kw: object) -> CloseMeta:
    meta = CloseMeta("2026-08", status, run, attempt=1, started_by="olga", started_at="2026-09-01T02:00:00Z")
    for k, v in kw.items():
        setattr(meta, k, v)
    return meta


def line(partner: str = "P00001", period: str = "2026-08", payout: str = "60.00", **kw: object) -> CloseLine:
    base = CloseLine(partner, period, f"close-{period}", name="Acme", matured_total=D(payout))
    base.matured_now, base.payout, base.state = D(payout), D(payout), "paid"
    for k, v in kw.items():
        setattr(base, k, v)
    return base


# -- headers -----------------------------------------------------------------------------------
def test_a_header_reads_back_as_written(store: Store) -> None:
    assert store.close_meta("2026-08") is None and store.list_closes() == []
    figures = SummaryFigures(4, 2, {"payout": "660.00"}, {"hold": 3, "up": 1}, 1)
    meta = header(S.PROPOSED, proposal="close/2026-08/close-2026-08/proposal.json", summary=figures)
    assert store.save_close_meta(meta, expect=(None,))
    got = store.close_meta("2026-08")
    assert got == meta
    assert got is not None and got.to_json() == {
        "attempt": 1,
        "started_by": "olga",
        "started_at": "2026-09-01T02:00:00Z",
        "proposal": "close/2026-08/close-2026-08/proposal.json",
        "summary": figures.to_json(),
        "period": "2026-08",
        "status": "proposed",
        "run": "close-2026-08",
    }
    store.save_close_meta(CloseMeta("2026-07", S.PAID, "close-2026-07"))
    assert [(m.period, m.status) for m in store.list_closes()] == [
        ("2026-07", S.PAID),
        ("2026-08", S.PROPOSED),
    ]


def test_the_proposal_digest_and_the_committed_run_are_kept(store: Store) -> None:
    meta = header(S.FAILED, proposal_digest="ab" * 32, committed_run="close-2026-08", approved_at="x")
    assert store.save_close_meta(meta, expect=(None,))
    got = store.close_meta("2026-08")
    assert got is not None and (got.proposal_digest, got.committed_run) == ("ab" * 32, "close-2026-08")
    assert [m.proposal_digest for m in store.list_closes()] == ["ab" * 32]


def test_a_new_header_is_written_once(store: Store) -> None:
    assert store.save_close_meta(header(), expect=(None,))
    assert not store.save_close_meta(header(started_by="eve"), expect=(None,))
    got = store.close_meta("2026-08")
    assert got is not None and got.started_by == "olga"


def test_a_stale_status_or_run_is_refused_and_changes_nothing(store: Store) -> None:
    store.save_close_meta(header(S.FROZEN), expect=(None,))
    assert not store.save_close_meta(header(S.PROPOSED), expect=(S.STARTED,), expect_run="close-2026-08")
    assert not store.save_close_meta(header(S.PROPOSED), expect=(S.FROZEN,), expect_run="close-2026-08-r2")
    assert not store.save_close_meta(header(S.PROPOSED), expect_run="close-2026-08-r2")
    meta = store.close_meta("2026-08")
    assert meta is not None and meta.status == S.FROZEN
    assert store.save_close_meta(
        header(S.PROPOSED), expect=(S.FROZEN, S.PROPOSED), expect_run="close-2026-08"
    )
    meta = store.close_meta("2026-08")
    assert meta is not None and meta.status == S.PROPOSED


def test_a_rerun_replaces_the_header_of_a_rejected_run(store: Store) -> None:
    store.save_close_meta(header(S.REJECTED, rejected_by="fiona", comment="no"), expect=(None,))
    rerun = CloseMeta("2026-08", S.STARTED, "close-2026-08-r2", attempt=2, started_by="fiona")
    assert not store.save_close_meta(rerun, expect=(S.TIMED_OUT,))
    assert store.save_close_meta(rerun, expect=(S.REJECTED,))
    got = store.close_meta("2026-08")
    assert got is not None and (got.run, got.attempt, got.comment) == ("close-2026-08-r2", 2, None)


def test_the_callback_token_is_kept_never_shown_and_cleared(store: Store) -> None:
    store.save_close_meta(header(S.AWAITING_APPROVAL), token="secret-token")
    assert store.close_token("2026-08") == "secret-token"
    meta = store.close_meta("2026-08")
    assert meta is not None and meta.has_token and "secret-token" not in str(meta.to_json())
    assert [m.has_token for m in store.list_closes()] == [True]  # the sweep reads it from the list
    store.save_close_meta(header(S.AWAITING_APPROVAL, reminded_at="x"))  # a plain save keeps it
    assert store.close_token("2026-08") == "secret-token"
    store.save_close_meta(header(S.APPROVED), clear_token=True)
    assert store.close_token("2026-08") is None and store.close_token("2026-01") is None
    meta = store.close_meta("2026-08")
    assert meta is not None and not meta.has_token
    assert [m.has_token for m in store.list_closes()] == [False]


def test_the_audit_trail_keeps_order_and_details(store: Store) -> None:
    store.audit("2026-08", "olga", "close started", {"run": "close-2026-08", "rerun": False})
    store.audit("2026-08", "frank", "approved", {"run": "close-2026-08", "exclude": ["P00003"]})
    log = store.audit_log("2026-08")
    assert [(e.actor, e.action) for e in log] == [("olga", "close started"), ("frank", "approved")]
    assert log[1].detail == {"run": "close-2026-08", "exclude": ["P00003"]}
    assert log[0].at.endswith("Z") and store.audit_log("2026-09") == []


# -- commits and the books ---------------------------------------------------------------------
def test_a_close_is_committed_once(store: Store) -> None:
    ln = line(tier_change="up", tier_after="Silver", tier_reason="sales")
    tier = NextTier("2026-09", "Silver", "sales")
    assert store.commit_close(ln, ledger_entries(ln), tier)
    again = line(payout="99.00")
    assert not store.commit_close(again, ledger_entries(again), None)
    got = store.close_lines("2026-08", ["P00001", "P00002", "P00001"])
    assert list(got) == ["P00001"] and got["P00001"] == ln
    assert store.payout("P00001", "2026-08") == D("60.00") and store.payout("P00002", "2026-08") is None
    assert store.tier_for("P00001", "2026-09") == "Silver" and store.tier_for("P00001", "2026-08") is None
    assert store.close_lines("2026-08", []) == {}


def test_ledger_entries_are_append_only(store: Store) -> None:
    first = line()
    store.commit_close(first, ledger_entries(first), None)
    # another close that would post an entry under an existing id: refused as a whole
    clash = Entry(entry_id("2026-08", "P00001", "payout"), "2026-08", "a:x", "a:y", D("1.00"), "rewrite")
    later = line(period="2026-09", payout="0")
    assert not store.commit_close(later, [clash], None)
    assert store.close_lines("2026-09", ["P00001"]) == {}
    assert [e.memo for e in store.ledger_entries(partner_id="P00001")] == [
        e.memo for e in sorted(ledger_entries(first), key=lambda e: e.entry_id)
    ]


def test_the_books_read_by_partner_and_by_period(store: Store) -> None:
    for pid, period in (("P00002", "2026-08"), ("P00001", "2026-08"), ("P00001", "2026-09")):
        ln = line(pid, period)
        store.commit_close(ln, ledger_entries(ln), None)
    by_partner = store.ledger_entries(partner_id="P00001")
    assert [e.period for e in by_partner] == ["2026-08", "2026-08", "2026-09", "2026-09"]
    by_period = store.ledger_entries(period="2026-08")
    assert len(by_period) == 4 and all(e.period == "2026-08" for e in by_period)
    assert {e.amount for e in by_period} == {D("60.00")}
    with pytest.raises(ValueError, match="needs a partner or a period"):
        store.ledger_entries()
    history = store.close_history("P00001", "2026-10")
    assert [h.period for h in history] == ["2026-09", "2026-08"]
    assert [h.period for h in store.close_history("P00001", "2026-10", 1)] == ["2026-09"]


def test_close_facts_are_month_totals_and_the_closes_before(store: Store) -> None:
    seed_month(store, "P00001", "2026-07", "100.00", {3: D("2.00")})
    seed_month(store, "P00001", "2026-08", "200.00", {1: D("4.00"), 20: D("1.00")})
    for period in ("2026-06", "2026-07", "2026-08"):
        ln = line(period=period)
        store.commit_close(ln, ledger_entries(ln), None)
    months, history = store.close_facts("P00001", "2026-08")
    assert [(m.month, m.net_eur, m.by_day, m.new_customers) for m in months] == [
        ("2026-07", D("100.00"), {3: D("2.00")}, 1),
        ("2026-08", D("200.00"), {1: D("4.00"), 20: D("1.00")}, 0),  # C1 bought in July first
    ]
    assert [h.period for h in history] == ["2026-07", "2026-06"]
    assert store.close_facts("P00001", "2026-08", history=1)[1][0].period == "2026-07"
    assert store.close_facts("P00009", "2026-08") == ([], [])


def test_a_header_write_can_be_conditional_on_the_approvals_it_holds(store: Store) -> None:
    """Two first approvals read the same header: the write expecting none recorded succeeds
    once; the other, expecting none as well, is refused (nothing overwritten)."""
    assert store.save_close_meta(header(S.AWAITING_APPROVAL), expect=(None,))
    frank = header(S.AWAITING_APPROVAL, approvals=[{"by": "frank"}])
    fiona = header(S.AWAITING_APPROVAL, approvals=[{"by": "fiona"}])
    assert store.save_close_meta(frank, expect=(S.AWAITING_APPROVAL,), expect_approvals=0)
    assert not store.save_close_meta(fiona, expect=(S.AWAITING_APPROVAL,), expect_approvals=0)
    got = store.close_meta("2026-08")
    assert got is not None and got.approvals == [{"by": "frank"}]
    both = header(S.AWAITING_APPROVAL, approvals=[{"by": "frank"}, {"by": "fiona"}])
    assert store.save_close_meta(both, expect=(S.AWAITING_APPROVAL,), expect_approvals=1)
    got = store.close_meta("2026-08")
    assert got is not None and [a["by"] for a in got.approvals or []] == ["frank", "fiona"]
