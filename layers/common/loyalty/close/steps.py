"""The monthly close as services over the ports: each Step Functions state calls one method."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from decimal import Decimal

from loyalty.close.bankfiles import Debtor, Payment, bank_csv, pain001
from loyalty.close.batches import JSON, PaymentRow, RunFiles
from loyalty.close.header import CloseMeta, Decision
from loyalty.close.notices import approval_requested, close_finished, partner_notices
from loyalty.close.ports import CloseStore, Workflow
from loyalty.close.proposal import summarize
from loyalty.close.results import (
    BankFiles,
    Frozen,
    Paid,
    Plan,
    Proposed,
    Reviewed,
    StartResult,
    Statements,
    StatusResult,
)
from loyalty.close.review import (
    CloseLine,
    MonthFacts,
    PartnerFacts,
    ledger_entries,
    next_tier,
    review_partner,
)
from loyalty.close.runs import (
    ACTIVE,
    FINISHED,
    RERUNNABLE,
    CloseError,
    CloseStatus,
    _prefix,
    check_may_start,
    ending,
    run_name,
    starts_new_attempt,
    unclosed_predecessor,
)
from loyalty.close.settlement import payment_of, settle
from loyalty.close.statements import StatementLine, statement_csv, statement_html
from loyalty.kernel.clock import iso_seconds, parse_seconds
from loyalty.kernel.identity import Caller
from loyalty.kernel.periods import check_period, cutoff
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.program.rules import RuleBook, RuleVersion

S = CloseStatus


class CloseService:
    BATCH = 500

    def __init__(
        self,
        store: CloseStore,
        blobs: BlobStore,
        events: Notifier,
        finance: Notifier,
        debtor: Debtor,
        batch_size: int = BATCH,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.files = RunFiles(blobs)
        self.events = events
        self.finance = finance
        self.debtor = debtor
        self.batch_size = batch_size

    # -- starting -----------------------------------------------------------------------------
    def start(
        self, workflow: Workflow, period: str, caller: Caller, rerun: bool, now: dt.datetime
    ) -> StartResult:
        """Start (or find) the close of a period. Idempotent: the execution name is derived from
        the period and attempt; a finished or running close is reported, not started again."""
        check_period(period)
        check_may_start(period, caller, now)
        meta = self.store.close_meta(period)
        if not starts_new_attempt(period, meta.status if meta else None, rerun):
            assert meta is not None
            return self._report(workflow, meta)
        attempt = meta.attempt + 1 if meta else 1
        run = run_name(period, attempt)
        new = CloseMeta(
            period, S.STARTED, run, attempt=attempt, started_by=caller.user, started_at=iso_seconds(now)
        )
        if not self.store.save_close_meta(new, expect=(meta.status if meta else None,)):
            raise CloseError(f"the close of {period} was started concurrently; look again", 409)
        self.store.audit(period, caller.user, "close started", {"run": run, "rerun": rerun})
        arn, started = workflow.start(run, {"period": period, "run": run})
        return StartResult(period, run, S.STARTED, started, arn)

    @staticmethod
    def _report(workflow: Workflow, meta: CloseMeta) -> StartResult:
        """A finished or running close: nothing new (a crash may have come between recording a
        start and starting its execution: starting it again by its name is a no-op otherwise)."""
        execution = None
        if meta.status == S.STARTED:
            execution = workflow.start(meta.run, {"period": meta.period, "run": meta.run})[0]
        return StartResult(meta.period, meta.run, meta.status, False, execution)

    # -- workflow steps -----------------------------------------------------------------------
    def _meta(self, period: str, run: str) -> CloseMeta:
        meta = self.store.close_meta(period)
        if meta is None or meta.run != run:
            raise CloseError(f"run {run} is not the current run of {period}", 409)
        return meta

    def _advance(self, meta: CloseMeta, status: CloseStatus, expect: Collection[CloseStatus]) -> bool:
        run = meta.run
        meta.status = status
        # once paying, finance's callback has reached the workflow: its token is of no more use
        done = status in (S.PAYING, FINISHED)
        return self.store.save_close_meta(meta, expect=expect, expect_run=run, clear_token=done)

    def freeze(self, period: str, run: str) -> Frozen:
        check_period(period)
        meta = self._meta(period, run)
        if meta.status == FINISHED:
            return Frozen(period, run, already_closed=True)
        first = unclosed_predecessor(period, {c.period: c.status for c in self.store.list_closes()})
        if first is not None:
            raise CloseError(
                f"close {first} first: closes run in order (balances carry from one to the next)"
            )
        self.store.freeze_period(period)
        if meta.status == S.STARTED:
            self._advance(meta, S.FROZEN, (S.STARTED,))
        return Frozen(period, run, already_closed=False)

    def plan(self, period: str, run: str) -> Plan:
        """Partner list -> batch files in S3 and a manifest the Distributed Map reads."""
        partners = sorted(self.store.list_partners(), key=lambda p: p.partner_id)
        manifest, total, batches = self.files.write_plan(_prefix(period, run), partners, self.batch_size)
        return Plan(manifest, total, batches)

    def _rules(self, period: str) -> RuleVersion:
        return RuleBook(self.store.rule_versions()).in_effect(cutoff(period))

    def review(self, period: str, run: str, batch_key: str) -> Reviewed:
        """KPIs, tier review and payable amount of each partner of a batch. The proposal is a file
        (`.../review/<batch>.json`): nothing in the table changes until finance approves."""
        rules = self._rules(period)
        lines = []
        for p in self.files.batch(batch_key):
            months, history = self.store.close_facts(p.partner_id, period)
            facts = PartnerFacts(
                partner_id=p.partner_id,
                name=p.name,
                segment=p.segment,
                certified=p.certified,
                has_bank=p.has_bank,
                tier_now=self.store.tier_for(p.partner_id, period) or p.starting_tier or rules.entry_tier,
                months=[
                    MonthFacts(t.month, t.net_eur, t.lines, t.returns, t.by_day, t.new_customers)
                    for t in months
                ],
                history=history,
            )
            lines.append(review_partner(rules, period, run, facts))
        self.files.put_review(batch_key, lines)
        return Reviewed(len(lines), sum(ln.dormant for ln in lines))

    def propose(self, period: str, run: str, manifest: str) -> Proposed:
        meta = self._meta(period, run)
        proposal = summarize(period, run, self.files.reviews(manifest))
        key = f"{_prefix(period, run)}proposal.json"
        self.blobs.put(key, json.dumps(proposal.to_json(), indent=1).encode(), JSON)
        meta.proposal, meta.summary, meta.manifest = key, proposal.figures, manifest
        self._advance(meta, S.PROPOSED, (S.FROZEN, S.PROPOSED))
        return Proposed(key, proposal.figures)

    def request_approval(self, period: str, run: str, token: str, now: dt.datetime) -> StatusResult:
        """The callback task: keep the token (never shown), tell finance what to decide."""
        meta = self._meta(period, run)
        meta.requested_at, meta.reminded_at = iso_seconds(now), ""
        meta.status = S.AWAITING_APPROVAL
        expect = (S.PROPOSED, S.AWAITING_APPROVAL)
        if not self.store.save_close_meta(meta, expect=expect, expect_run=run, token=token):
            raise CloseError(f"{period} is not waiting for a proposal decision")
        self.store.audit(period, "system", "approval requested", {"run": run, "summary": meta.summary_json()})
        approval_requested(meta).send(self.finance)
        return StatusResult(period, S.AWAITING_APPROVAL)

    def pay(self, period: str, run: str, batch_key: str, decision: Decision) -> Paid:
        """Commit each partner once: close line, payout, ledger entries and next tier in one
        transaction keyed by (partner, period). A retry finds the committed ones and skips them."""
        proposals = [ln for ln in self.files.review(batch_key) if not ln.dormant]
        current = self.store.close_lines(period, [ln.partner_id for ln in proposals])
        payments: list[PaymentRow] = []
        committed = already = 0
        for proposal in proposals:
            line, new = self._commit(current.get(proposal.partner_id), proposal, decision)
            committed += new
            already += not new
            row = payment_of(line)
            if row is not None:
                payments.append(row)
        self.files.put_payments(batch_key, payments)
        return Paid(committed, already, len(payments))

    def _commit(
        self, current: CloseLine | None, proposal: CloseLine, decision: Decision
    ) -> tuple[CloseLine, bool]:
        """The partner's committed line, and whether this call committed it."""
        if current is not None:
            return current, False
        line = settle(proposal, decision)
        if self.store.commit_close(line, ledger_entries(line), next_tier(line)):
            return line, True
        # committed by an earlier attempt that crashed before answering
        return self.store.close_lines(line.period, [line.partner_id])[line.partner_id], False

    def bank_files(self, period: str, run: str, manifest: str, now: dt.datetime) -> BankFiles:
        meta = self._meta(period, run)
        rows = self.files.payments(manifest)
        bank = self.store.bank_details([r.partner_id for r in rows])
        payments = [
            Payment(
                r.partner_id, r.name, r.amount, *bank.get(r.partner_id, ("", "")), f"{period}-{r.partner_id}"
            )
            for r in rows
        ]
        created = parse_seconds(meta.approved_at or iso_seconds(now))
        base = f"payouts/{period}/"
        self.blobs.put(base + "payouts.csv", bank_csv(payments), "text/csv")
        d = self.debtor
        xml = pain001(payments, run, created, created.date(), d.name, d.iban, d.bic)
        self.blobs.put(base + "pain001.xml", xml, "application/xml")
        total = sum((p.amount for p in payments), Decimal(0))
        meta.bank_files = [base + "payouts.csv", base + "pain001.xml"]
        meta.paid_total, meta.payees = str(total), len(payments)
        self._advance(meta, S.PAYING, (S.APPROVED, S.PAYING))
        return BankFiles(len(payments), total, meta.bank_files)

    def statements(self, period: str, run: str, batch_key: str) -> Statements:
        """Statement and notifications for every partner with a committed line (dormant partners,
        with nothing new to say, get none)."""
        ids = [p.partner_id for p in self.files.batch(batch_key)]
        lines = self.store.close_lines(period, ids)
        for pid in ids:
            if pid in lines:
                self._statement(lines[pid])
        return Statements(sum(pid in lines for pid in ids))

    def _statement(self, line: CloseLine) -> None:
        pid, period = line.partner_id, line.period
        sales = sorted(
            (s for s in self.store.partner_sales(pid, period) if (s.period or s.month) == period),
            key=lambda s: (s.sold_at, s.sale_id),
        )
        rows = [StatementLine.of(s) for s in sales]
        base = f"statements/{pid}/{period}"
        self.blobs.put(base + ".csv", statement_csv(line, rows), "text/csv")
        self.blobs.put(base + ".html", statement_html(line, rows), "text/html")
        for notice in partner_notices(line, base + ".csv", base + ".html"):
            notice.send(self.events)

    def finish(self, period: str, run: str, now: dt.datetime) -> StatusResult:
        meta = self._meta(period, run)
        if meta.status != FINISHED:
            meta.finished_at = iso_seconds(now)
            self._advance(meta, FINISHED, (S.PAYING,))
            self.store.audit(period, "system", "close finished", {"run": run, "paid_total": meta.paid_total})
            close_finished(meta).send(self.finance)
        return StatusResult(period, FINISHED)

    def outcome(self, period: str, run: str, error: str, cause: str) -> StatusResult:
        """The run ended without paying (rejected, timed out or failed): record why."""
        status = ending(error)
        meta = self._meta(period, run)
        if meta.status not in RERUNNABLE:
            meta.ended, meta.reason, meta.status = error, cause[:500], status
            self.store.save_close_meta(meta, expect_run=run, clear_token=True)
            self.store.audit(
                period, "system", f"run {status}", {"run": run, "error": error, "cause": cause[:500]}
            )
        return StatusResult(period, status)


__all__ = ["ACTIVE", "FINISHED", "RERUNNABLE", "CloseError", "CloseService"]
