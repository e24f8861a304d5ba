"""The finance console's use cases on the in-memory container (issue 12, point 3): who reads
what, the close awaiting a decision, drill-down reasons, downloads after payment only, exports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.close.header import Decision
from loyalty.close.review import CloseLine
from loyalty.console.exports import csv_chunks
from loyalty.console.index import ConsoleError, ProposalIndex
from loyalty.console.service import FinanceConsole
from loyalty.kernel.identity import Principal

from tests.unit.close_world import FRANK, OLGA, after, close_run, program, sale, upload

FIN = Principal("fiona", frozenset({"finance"}))
OPS = Principal("olga", frozenset({"operator"}))
PM = Principal("petra", frozenset({"program_manager"}))
PARTNER = Principal("acme", frozenset({"partner"}), "P00001")


def world() -> MemoryContainer:
    c = program()
    upload(c, [sale("S1", "2026-08-02", qty=30, price="1000.00")])
    upload(c, [sale("S2", "2026-08-03", qty=20, price="100.00", partner="P00002")], "P00002")
    return c


def awaiting(c: MemoryContainer, period: str = "2026-10") -> str:
    svc, wf, now = c.close(), c.workflow(), after(period)
    run = svc.start(wf, period, OLGA, False, now).run
    svc.freeze(period, run)
    manifest = svc.plan(period, run).manifest
    for b in svc.files.batches(manifest):
        svc.review(period, run, b)
    svc.propose(period, run, manifest)
    svc.request_approval(period, run, f"token-{run}", now)
    return run


def refused(status: int, fn: Any, *args: Any) -> str:
    with pytest.raises(ConsoleError) as exc:
        fn(*args)
    assert exc.value.status == status, str(exc.value)
    return str(exc.value)


def test_who_reads_what() -> None:
    c = world()
    awaiting(c)
    con = c.console()
    for who in (FIN, OPS, PM):
        assert [x["period"] for x in con.closes(who, "en")] == ["2026-10"]
        assert con.close(who, "2026-10", "en")["figures"]["eligible"]["count"] == 2
    refused(403, con.closes, PARTNER, "en")
    refused(403, con.close, PARTNER, "2026-10", "en")
    refused(403, con.payouts, PM, "2026-10", None, 10, "amount", "en")  # no partner-level rows
    refused(403, con.partner, PM, "2026-10", "P00001", "en")
    refused(403, con.audit, PM, "2026-10", "en")
    refused(403, con.bank_files, OPS, "2026-10")  # payees' bank files: finance only
    assert con.payouts(OPS, "2026-10", None, 10, "amount", "en")["total"] == 2


def test_the_close_awaiting_a_decision_names_what_an_approval_must_name() -> None:
    c = world()
    run = awaiting(c)
    con = c.console()
    shown = con.close(FIN, "2026-10", "ru")
    meta = c.store.close_meta("2026-10")
    assert meta is not None
    assert (shown["run"], shown["digest"]) == (run, meta.proposal_digest)
    assert shown["may_approve"] and shown["may_reject"]
    assert shown["approvals_required"] == 1  # 680 EUR: one approver (two above the dual-approval total)
    dual = FinanceConsole(c.store, c.blobs, c.presigner(), dual_above_eur=Decimal(500))
    assert dual.close(FIN, "2026-10", "en")["approvals_required"] == 2
    assert not con.close(Principal("olga", frozenset({"finance", "operator"})), "2026-10", "en")[
        "may_approve"
    ]
    eligible = shown["figures"]["eligible"]["total"]
    assert eligible["amount"] == "680.00" and eligible["text"] == "680,00\xa0€"  # 600 + 2 000 x 4 % (Gold)
    assert shown["summary"]["totals"]["payout"]["amount"] == "680.00"
    assert [x["period"] for x in con.pending(FIN, "en")] == ["2026-10"]
    page = con.payouts(FIN, "2026-10", None, 1, "amount", "en")
    assert page["items"][0]["partner_id"] == "P00001" and page["next_cursor"]
    rest = con.payouts(FIN, "2026-10", page["next_cursor"], 1, "amount", "en")
    assert [r["partner_id"] for r in rest["items"]] == ["P00002"] and rest["next_cursor"] is None
    by_id = con.payouts(FIN, "2026-10", None, 10, "partner", "en")
    assert [r["partner_id"] for r in by_id["items"]] == ["P00001", "P00002"]


def test_unknown_and_malformed_are_specific() -> None:
    c = world()
    awaiting(c)
    con = c.console()
    refused(404, con.close, FIN, "2025-01", "en")
    refused(400, con.close, FIN, "2025-1", "en")
    refused(404, con.partner, FIN, "2026-10", "P77777", "en")
    refused(400, con.statement, FIN, "2026-10", "P00001", "docx")
    refused(404, con.statement, FIN, "2026-10", "P00001", "csv")  # not paid yet: no statement
    refused(400, con.export_rows, FIN, "2026-10", "everything")
    assert "once it is paid" in refused(409, con.bank_files, FIN, "2026-10")


def test_after_payment_the_excluded_partner_carries_forward_and_downloads_are_presigned() -> None:
    c = world()
    # the helper approves with no exclusion: exclude P00002 by approving ourselves instead
    svc, wf, now = c.close(), c.workflow(), after("2026-10")
    awaiting(c)
    meta = c.store.close_meta("2026-10")
    assert meta is not None
    c.approvals().approve(
        FRANK, "2026-10", "hold Beta", ["P00002"], now, run=meta.run, digest=meta.proposal_digest
    )
    decision = Decision.from_json(wf.succeeded[-1][1])
    manifest = meta.manifest or ""
    batches = svc.files.batches(manifest)
    for b in batches:
        svc.pay("2026-10", meta.run, b, decision)
    c.bank_files().bank_files("2026-10", meta.run, manifest, now)
    svc.recognize("2026-10", meta.run, manifest)
    for b in batches:
        svc.statements("2026-10", meta.run, b)
    svc.finish("2026-10", meta.run, now)

    con = c.console()
    beta = con.partner(FIN, "2026-10", "P00002", "en")
    assert beta["excluded"] and beta["committed"]["state"] == "excluded"
    assert beta["why"].startswith("excluded by finance (frank)")
    acme = con.partner(FIN, "2026-10", "P00001", "en")
    assert acme["committed"]["state"] == "paid" and acme["why"].startswith("balance EUR 600.00")
    files = con.bank_files(FIN, "2026-10")["files"]
    assert files and all(f["url"].startswith("memory://memory-bucket/payouts/2026-10/") for f in files)
    assert con.statement(FIN, "2026-10", "P00001", "csv")["url"].startswith(
        "memory://memory-bucket/statements/P00001/2026-10.csv"
    )
    signed = c.presigner().signed
    assert all(expires == 300 for _, _, expires in signed)
    _, rows = con.export_rows(FIN, "2026-10", "excluded")
    got = list(rows)
    assert [(r["partner_id"], r["why"]) for r in got] == [("P00002", "excluded by finance (frank)")]
    trail = con.audit(OPS, "2026-10", "en")["entries"]
    assert [e["action"] for e in trail if e["actor"] == "frank"] == ["approved"]
    assert con.close(FIN, "2026-10", "en")["paid_total"]["amount"] == "600.00"
    close_run(
        c, "2026-11"
    )  # the next close reads the carried balance: the console's projection changes nothing
    assert c.store.close_lines("2026-11", ["P00002"])["P00002"].carried_in == Decimal("80.00")


def test_exports_are_formula_safe() -> None:
    c = world()
    awaiting(c)
    meta = c.store.close_meta("2026-10")
    assert meta is not None
    rows = [
        {"partner_id": "P00001", "name": '=HYPERLINK("http://x")', "payout": "-5.00", "reason": "@SUM(A1)"}
    ]
    text = "".join(csv_chunks("payouts", rows))
    parsed = list(csv.reader(io.StringIO(text)))
    assert (
        parsed[1][1] == '\'=HYPERLINK("http://x")'
        and parsed[1][4] == "-5.00"
        and parsed[1][-1] == "'@SUM(A1)"
    )
    index, all_rows = c.console().export_rows(FIN, "2026-10", "payouts")
    body = "".join(csv_chunks("payouts", all_rows, every=1))
    assert body.splitlines()[0].startswith("partner_id,name,segment,tier,payout")
    assert len(body.splitlines()) == 1 + index.sizes["payouts-amount"]
    assert isinstance(ProposalIndex(c.blobs).line(meta, index, "P00001"), CloseLine)
