"""The monthly close as services over the ports: each Step Functions state calls one method."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Mapping, Sequence

from loyalty.close.approval_rules import verify_for_payment
from loyalty.close.batches import JSON, DigestMismatch, EarlierPrograms, PaymentRow, RunFiles
from loyalty.close.engagement import PointsView, StatementExtras, apply_points
from loyalty.close.facts import FactsBatch
from loyalty.close.header import CloseMeta, Decision
from loyalty.close.invariants import position, problems
from loyalty.close.notices import (
    approval_requested,
    close_failed,
    close_finished,
    partner_notices,
    points_notices,
    targets_reached,
)
from loyalty.close.partner_review import PartnerReviewer
from loyalty.close.payees import PayeeHistory, check_payee
from loyalty.close.ports import CloseStore, Workflow
from loyalty.close.proposal import summarize
from loyalty.close.recognize import Recognized, Recognizer
from loyalty.close.results import (
    Frozen,
    Paid,
    Plan,
    Proposed,
    Reviewed,
    StartResult,
    Statements,
    StatusResult,
)
from loyalty.close.review import CloseLine, ledger_entries, next_tier
from loyalty.close.runs import (
    ACTIVE,
    COMMITTING,
    FINISHED,
    RERUNNABLE,
    CloseError,
    CloseState,
    CloseStatus,
    _prefix,
    check_may_start,
    ending,
    out_of_order,
    run_name,
    starts_new_attempt,
)
from loyalty.close.settlement import payment_of, settle
from loyalty.close.statement_render import render_statement_html
from loyalty.close.statements import StatementLine, statement_csv, statements_due
from loyalty.incentives.engine import Incentives
from loyalty.incentives.lines import ProgramAccrual
from loyalty.kernel.clock import iso_seconds
from loyalty.kernel.identity import Caller
from loyalty.kernel.periods import check_period, cutoff
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.points.model import PointsHead
from loyalty.points.service import PointsLedger
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleBook

S = CloseStatus
NO_INCENTIVES = Incentives(())


class CloseService:
    BATCH = 500

    def __init__(
        self,
        store: CloseStore,
        blobs: BlobStore,
        events: Notifier,
        finance: Notifier,
        batch_size: int = BATCH,
        incentives: Incentives = NO_INCENTIVES,
        downline: Callable[[Sequence[Partner]], Mapping[str, Sequence[tuple[str, int]]]] | None = None,
    ) -> None:
        self.store = store
        self.incentives = incentives
        self.downline = downline
        self.blobs = blobs
        self.files = RunFiles(blobs)
        self.events = events
        self.finance = finance
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
        self._check_order(period)
        attempt = meta.attempt + 1 if meta else 1
        run = run_name(period, attempt)
        new = CloseMeta(
            period, S.STARTED, run, attempt=attempt, started_by=caller.user, started_at=iso_seconds(now)
        )
        if meta is not None:  # an approved earlier attempt may have committed payouts
            new.committed_run = meta.committed_run or (meta.run if meta.approved_at else None)
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
        self._check_order(period)
        self.store.freeze_period(period)
        if meta.status == S.STARTED:
            self._advance(meta, S.FROZEN, (S.STARTED,))
        return Frozen(period, run, already_closed=False)

    def _check_order(self, period: str) -> None:
        """Closes run strictly in order from the rules' first close period (see `out_of_order`)."""
        closes = {
            c.period: CloseState(c.status, c.status in COMMITTING or bool(c.approved_at or c.committed_run))
            for c in self.store.list_closes()
        }
        general = [
            v
            for v in RuleBook(self.store.rule_versions()).versions
            if not (v.scope.cohort or v.scope.segments)
        ]
        # the latest general rules say where closes start (older versions may predate the setting)
        first = general[-1].payouts.first_close_period if general else None
        error = out_of_order(period, closes, first)
        if error is not None:
            raise error

    def _check_books(self, line: CloseLine) -> None:
        """Fail closed before any commit: the line must add up and continue the partner's books."""
        # the period's own entries are this very commit, made by an attempt whose answer was lost
        entries = [
            e for e in self.store.ledger_entries(partner_id=line.partner_id) if e.period != line.period
        ]
        found = problems(line, position(line.partner_id, entries))
        if found:
            raise CloseError(
                f"payout invariant broken for {line.partner_id} in {line.period}: " + "; ".join(found)
            )

    def plan(self, period: str, run: str) -> Plan:
        """Partner list -> batch files in S3 and a manifest the Distributed Map reads."""
        partners = sorted(self.store.list_partners(), key=lambda p: p.partner_id)
        recruits = self.downline(partners) if self.downline is not None else None
        manifest, total, batches = self.files.write_plan(
            _prefix(period, run), partners, self.batch_size, recruits
        )
        return Plan(manifest, total, batches)

    def review(self, period: str, run: str, batch_key: str) -> Reviewed:
        """KPIs, tier review and payable amount of each partner of a batch, each under its own
        rule version (pilots), with its program accruals. The proposal is a file
        (`.../review/<batch>.json`, the program lines in `.../program/<batch>.json`): nothing in
        the table changes until finance approves. A partner an earlier run of the period
        committed already is listed as committed (state paid or excluded), never proposed again."""
        batch = self.files.batch(batch_key)
        ids = [p.partner_id for p in batch]
        committed = self.store.close_lines(period, ids)
        bank = self.store.bank_snapshots(ids)
        reviewer = PartnerReviewer(self.store, self.incentives, period, run, self.store.completions_of(ids))
        earlier = EarlierPrograms(self.files, period)
        lines: list[CloseLine] = []
        program: list[tuple[str, ProgramAccrual]] = []
        for p in batch:
            if p.partner_id in committed:
                done = committed[p.partner_id]
                lines.append(done)
                program.extend((p.partner_id, a) for a in earlier.lines(done))
                continue
            got = reviewer.review(p)
            line, history = got.line, got.history
            past = PayeeHistory(
                history[0].bank_fp if history else "", any(h.payout > 0 or h.bank_fp for h in history)
            )
            check_payee(line, bank.get(p.partner_id), past, got.rules.payouts, cutoff(period))
            line.bank_fp = bank[p.partner_id].fingerprint if line.payout > 0 else past.last_fingerprint
            if not line.dormant:
                self._check_books(line)
            lines.append(line)
            program.extend((p.partner_id, a) for a in got.accruals)
        self.files.put_review(batch_key, lines)
        self.files.put_program(batch_key, program)
        # the bank details each payout goes to, as they are now (encrypted): what finance approves
        self.files.put_bank(
            batch_key, (bank[ln.partner_id] for ln in lines if ln.payout > 0 and ln.partner_id in bank)
        )
        return Reviewed(len(lines), sum(ln.dormant for ln in lines))

    def propose(self, period: str, run: str, manifest: str) -> Proposed:
        meta = self._meta(period, run)
        prefix = _prefix(period, run)
        digest = self.files.write_digests(prefix, manifest)
        proposal = summarize(period, run, self.files.verified_reviews(prefix, manifest, digest))
        proposal.digest = digest
        key = f"{prefix}proposal.json"
        self.blobs.put(key, json.dumps(proposal.to_json(), indent=1).encode(), JSON)
        meta.proposal, meta.summary, meta.manifest = key, proposal.figures, manifest
        meta.proposal_digest = digest
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
        transaction keyed by (partner, period). A retry finds the committed ones and skips them.
        Fails closed before committing anything of the batch when the run is not approved (the
        approvals context re-checks the approval record: approver, quorum, digest, expiry), its
        review differs from the approved proposal, or a line breaks the payout invariant."""
        meta = self._meta(period, run)
        if meta.status not in COMMITTING:
            raise CloseError(f"run {run} of {period} is {meta.status}, not approved: nothing is paid")
        # the approval's own time is checked against its request's window (the workflow's
        # clock is not the approver's: a recorded approval is not compared with the wall clock)
        verify_for_payment(meta, self.store.audit_log(period), None, decision)
        try:
            reviewed = self.files.verified_review(_prefix(period, run), batch_key, meta.proposal_digest)
            self.files.verified_program(_prefix(period, run), batch_key, meta.proposal_digest)
        except DigestMismatch as exc:
            raise CloseError(f"not paying {period}: {exc}") from None
        proposals = [ln for ln in reviewed if not ln.dormant]
        current = self.store.close_lines(period, [ln.partner_id for ln in proposals])
        todo = [
            settle(p, decision) for p in proposals if p.state == "proposed" and p.partner_id not in current
        ]
        for todo_line in todo:
            self._check_books(todo_line)
        settled = {ln.partner_id: ln for ln in todo}
        payments: list[PaymentRow] = []
        committed = already = 0
        for proposal in proposals:
            line, new = self._commit(current.get(proposal.partner_id), settled.get(proposal.partner_id))
            committed += new
            already += not new
            row = payment_of(line) if line is not None else None
            if row is not None:
                payments.append(row)
        self.files.put_payments(batch_key, payments)
        # points: each committed partner's intent once; dormant partners' lots still age
        done = set(self.store.close_lines(period, [ln.partner_id for ln in proposals]))
        heads = self.store.points_heads([ln.partner_id for ln in reviewed if ln.points])
        at = f"{cutoff(period).isoformat()}T23:59:59Z"
        apply_points(PointsLedger(self.store), reviewed, done, heads, at)
        return Paid(committed, already, len(payments))

    def _commit(self, current: CloseLine | None, line: CloseLine | None) -> tuple[CloseLine | None, bool]:
        """The partner's committed line, and whether this call committed it."""
        if current is not None or line is None:
            return current, False
        if self.store.commit_close(line, ledger_entries(line), next_tier(line)):
            return line, True
        # committed by an earlier attempt that crashed before answering
        return self.store.close_lines(line.period, [line.partner_id]).get(line.partner_id), False

    def statements(self, period: str, run: str, batch_key: str) -> Statements:
        """Statement and notifications for every partner with anything to report (`statements_due`:
        only a partner with nothing at all gets none)."""
        partners = self.files.batch(batch_key)
        ids = [p.partner_id for p in partners]
        langs = {p.partner_id: p.lang for p in partners}
        heads = self.store.points_heads(ids)
        balances = {pid: h.balance for pid, h in heads.items()}
        committed = self.store.close_lines(period, ids)
        reviewed = self.files.review(batch_key)
        due = statements_due(ids, committed, reviewed, balances)
        program = self.files.program(batch_key)
        rec = Recognizer(self.store, self.files, self.blobs, self.events, self.finance).done(period, run)
        extras = StatementExtras(
            self.store, self.blobs, rec.boards if rec else {}, rec.certificates if rec else {}
        )
        seen: dict[str, tuple[PointsView | None, list[StatementLine]]] = {}
        for line in due:
            pid = line.partner_id
            seen[pid] = self._statement(
                line, program.get(pid, []), extras, heads.get(pid), langs.get(pid, "")
            )
        # the analytics facts of every partner of the batch (issue 13): quiet ones too
        lines = {ln.partner_id: ln for ln in reviewed} | committed
        facts = FactsBatch.of_batch(partners, lines, seen, extras.liability_per_point)
        self.files.put_facts(batch_key, facts.to_json())
        return Statements(len(due))

    def recognize(self, period: str, run: str, manifest: str) -> Recognized:
        """Leaderboards per segment, partners of the month with their certificates and bonus
        points (`loyalty.close.recognize`); once per run."""
        meta = self._meta(period, run)
        if meta.status not in COMMITTING and meta.status != FINISHED:
            raise CloseError(f"run {run} of {period} is {meta.status}: nothing is recognised before payment")
        issued = dt.date.fromisoformat((meta.approved_at or cutoff(period).isoformat())[:10])
        return Recognizer(self.store, self.files, self.blobs, self.events, self.finance).run(
            period, run, manifest, issued
        )

    def _statement(
        self,
        line: CloseLine,
        program: Sequence[ProgramAccrual],
        extras: StatementExtras,
        head: PointsHead | None,
        lang: str = "",
    ) -> tuple[PointsView | None, list[StatementLine]]:
        """Write the partner's statement and notices; returns its points view and lines (the
        batch's analytics facts are built from them, nothing read twice)."""
        pid, period = line.partner_id, line.period
        sales = sorted(
            (s for s in self.store.partner_sales(pid, period) if (s.period or s.month) == period),
            key=lambda s: (s.sold_at, s.sale_id),
        )
        rows = [StatementLine.of(s) for s in sales]
        base = f"statements/{pid}/{period}"
        view, sections = extras.of(line, head)
        self.blobs.put(base + ".csv", statement_csv(line, rows, program, sections), "text/csv")
        page = render_statement_html(line, rows, program, sections, lang, extras.tiers(line.rule_version))
        self.blobs.put(base + ".html", page, "text/html")
        notices = partner_notices(line, base + ".csv", base + ".html") + targets_reached(line)
        for notice in notices + points_notices(line, view):
            notice.send(self.events)
        return view, rows

    def finish(self, period: str, run: str, now: dt.datetime) -> StatusResult:
        meta = self._meta(period, run)
        if meta.status != FINISHED:
            meta.finished_at = iso_seconds(now)
            self._advance(meta, FINISHED, (S.PAYING,))
            self.store.audit(period, "system", "close finished", {"run": run, "paid_total": meta.paid_total})
            close_finished(meta).send(self.finance)
        return StatusResult(period, FINISHED)

    def outcome(self, period: str, run: str, error: str, cause: str) -> StatusResult:
        """The run ended without paying (rejected, timed out or failed): record why; finance hears
        of every failure (a failed run may have stopped a payment that does not add up)."""
        status = ending(error)
        meta = self._meta(period, run)
        if meta.status not in RERUNNABLE:
            if meta.approved_at and not meta.committed_run:
                meta.committed_run = run  # approved: some partners may be committed
            meta.ended, meta.reason, meta.status = error, cause[:500], status
            self.store.save_close_meta(meta, expect_run=run, clear_token=True)
            self.store.audit(
                period, "system", f"run {status}", {"run": run, "error": error, "cause": cause[:500]}
            )
            if status == S.FAILED:
                close_failed(meta).send(self.finance)
        return StatusResult(period, status)


__all__ = ["ACTIVE", "FINISHED", "RERUNNABLE", "CloseError", "CloseService"]
