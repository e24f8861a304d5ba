"""The monthly close as services over the ports (no AWS here): each Step Functions state calls
one method of :class:`CloseService`; finance decisions go through :class:`ApprovalService`.

Every step is idempotent, so Step Functions' retries (and an operator's re-run of a failed run)
change nothing twice: proposals are overwritten only while not committed, a partner's payout,
ledger entries and next tier are committed in one transaction keyed by (partner, period), and
files are rewritten with the same content.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from loyalty.close import (
    CloseLine,
    MonthFacts,
    PartnerFacts,
    Payment,
    StatementLine,
    bank_csv,
    check_period,
    cutoff,
    exclude,
    ledger_entries,
    next_period,
    pain001,
    previous_period,
    review_partner,
    statement_csv,
    statement_html,
    summarize,
)
from loyalty.ingest import PARTNER_ID_RE
from loyalty.ledger import Entry
from loyalty.ports import BlobStore, MonthTotals, Notifier, SaleRecord
from loyalty.registry import Partner
from loyalty.rules import RuleBook, RuleVersion

FINISHED = "paid"
RERUNNABLE = ("rejected", "timed_out", "failed")
ACTIVE = ("started", "frozen", "proposed", "awaiting_approval", "approved", "paying")
FINANCE = "finance"
OPERATOR = "operator"


class CloseError(Exception):
    """A refusal with a reason the caller can act on (HTTP 4xx, CLI message)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class CloseStore(Protocol):
    def rule_versions(self) -> list[RuleVersion]: ...
    def list_partners(self) -> Iterator[Partner]: ...
    def bank_details(self, partner_ids: Sequence[str]) -> dict[str, tuple[str, str]]: ...
    def tier_for(self, partner_id: str, month: str) -> str | None: ...
    def partner_sales(self, partner_id: str, period: str | None = None) -> Iterator[SaleRecord]: ...
    def frozen_periods(self) -> set[str]: ...
    def freeze_period(self, period: str) -> None: ...
    def close_meta(self, period: str) -> dict[str, Any] | None: ...
    def close_token(self, period: str) -> str | None: ...
    def save_close_meta(
        self,
        period: str,
        status: str,
        run: str,
        data: dict[str, Any],
        expect: tuple[str, ...] | None = None,
        expect_run: str | None = None,
        token: str | None = None,
        clear_token: bool = False,
    ) -> bool: ...
    def list_closes(self) -> list[dict[str, Any]]: ...
    def audit(self, period: str, actor: str, action: str, detail: dict[str, Any]) -> None: ...
    def audit_log(self, period: str) -> list[dict[str, Any]]: ...
    def close_facts(
        self, partner_id: str, before: str, history: int = 7
    ) -> tuple[list[MonthTotals], list[CloseLine]]: ...
    def close_lines(self, period: str, partner_ids: Sequence[str]) -> dict[str, CloseLine]: ...
    def commit_close(
        self, line: CloseLine, entries: Sequence[Entry], tier: tuple[str, str, str] | None
    ) -> bool: ...


class Workflow(Protocol):
    def start(self, name: str, payload: Mapping[str, Any]) -> tuple[str, bool]: ...
    def succeed(self, token: str, output: Mapping[str, Any]) -> None: ...
    def fail(self, token: str, error: str, cause: str) -> None: ...
    def heartbeat(self, token: str) -> None: ...


@dataclass(frozen=True)
class Caller:
    """An authenticated person and the roles the identity provider (IAM role) gave them."""

    user: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Debtor:
    name: str
    iban: str
    bic: str


def run_name(period: str, attempt: int) -> str:
    """Execution name from the period: a second start of the same attempt is a no-op."""
    return f"close-{period}" if attempt <= 1 else f"close-{period}-r{attempt}"


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(t: str) -> dt.datetime:
    return dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _prefix(period: str, run: str) -> str:
    return f"close/{period}/{run}/"


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
        self.events = events
        self.finance = finance
        self.debtor = debtor
        self.batch_size = batch_size

    # -- starting -----------------------------------------------------------------------------
    def start(
        self, workflow: Workflow, period: str, caller: Caller, rerun: bool, now: dt.datetime
    ) -> dict[str, Any]:
        """Start (or find) the close of a period. Idempotent: the execution name is derived from
        the period and attempt; a finished or running close is reported, not started again."""
        check_period(period)
        if caller.user != "schedule" and not caller.roles & {FINANCE, OPERATOR}:
            raise CloseError(f"{caller.user} may not start a close (needs the finance or operator role)", 403)
        this_month = f"{now.year:04d}-{now.month:02d}"
        if period >= this_month:
            raise CloseError(
                f"{period} is not over yet; a period can be closed from the 1st of the next month", 400
            )
        meta = self.store.close_meta(period)
        status = meta["status"] if meta else ""
        if status == FINISHED:
            return {"period": period, "run": meta["run"] if meta else "", "status": status, "started": False}
        if status in ACTIVE:  # already under way: the same execution, nothing new
            assert meta is not None
            out = {"period": period, "run": meta["run"], "status": status, "started": False}
            if status == "started":  # a crash may have come between recording and starting it
                out["execution"] = workflow.start(meta["run"], {"period": period, "run": meta["run"]})[0]
            return out
        if status in RERUNNABLE and not rerun:
            raise CloseError(
                f"the close of {period} ended {status}; start it again with --rerun (a new attempt)", 409
            )
        attempt = int(meta.get("attempt", 0)) + 1 if meta else 1
        run = run_name(period, attempt)
        data = {"attempt": attempt, "started_by": caller.user, "started_at": _iso(now)}
        if not self.store.save_close_meta(
            period, "started", run, data, expect=(status,) if status else ("",)
        ):
            raise CloseError(f"the close of {period} was started concurrently; look again", 409)
        self.store.audit(period, caller.user, "close started", {"run": run, "rerun": rerun})
        arn, started = workflow.start(run, {"period": period, "run": run})
        return {"period": period, "run": run, "status": "started", "started": started, "execution": arn}

    # -- workflow steps -----------------------------------------------------------------------
    def _meta(self, period: str, run: str) -> dict[str, Any]:
        meta = self.store.close_meta(period)
        if meta is None or meta["run"] != run:
            raise CloseError(f"run {run} is not the current run of {period}", 409)
        return meta

    def freeze(self, period: str, run: str) -> dict[str, Any]:
        check_period(period)
        meta = self._meta(period, run)
        if meta["status"] == FINISHED:
            return {"period": period, "run": run, "already_closed": True}
        closes = {c["period"]: c["status"] for c in self.store.list_closes()}
        earlier = [p for p in closes if p < period]
        prev = previous_period(period)
        if earlier and closes.get(prev) != FINISHED:
            raise CloseError(f"close {prev} first: closes run in order (balances carry from one to the next)")
        self.store.freeze_period(period)
        if meta["status"] == "started":
            self.store.save_close_meta(period, "frozen", run, meta, expect=("started",), expect_run=run)
        return {"period": period, "run": run, "already_closed": False}

    def plan(self, period: str, run: str) -> dict[str, Any]:
        """Partner list -> batch files in S3 and a manifest the Distributed Map reads."""
        prefix = _prefix(period, run)
        batch: list[dict[str, Any]] = []
        items: list[dict[str, str]] = []
        total = 0

        def flush() -> None:
            key = f"{prefix}batches/{len(items):05d}.json"
            self.blobs.put(key, json.dumps(batch).encode(), "application/json")
            items.append({"batch": key})
            batch.clear()

        for p in sorted(self.store.list_partners(), key=lambda p: p.partner_id):
            batch.append(
                {
                    "id": p.partner_id,
                    "name": p.name,
                    "segment": p.segment,
                    "certified": p.certifications,
                    "has_bank": bool(p.iban),
                    "starting_tier": p.starting_tier,
                }
            )
            total += 1
            if len(batch) >= self.batch_size:
                flush()
        if batch or not items:
            flush()
        manifest = f"{prefix}manifest.json"
        self.blobs.put(manifest, json.dumps(items).encode(), "application/json")
        return {"manifest": manifest, "partners": total, "batches": len(items)}

    def _rules(self, period: str) -> RuleVersion:
        return RuleBook(self.store.rule_versions()).in_effect(cutoff(period))

    def review(self, period: str, run: str, batch_key: str) -> dict[str, Any]:
        """KPIs, tier review and payable amount of each partner of a batch. The proposal is a file
        (`.../review/<batch>.json`): nothing in the table changes until finance approves."""
        rules = self._rules(period)
        lines = []
        for p in self._batch(batch_key):
            pid = p["id"]
            months, history = self.store.close_facts(pid, period)
            facts = PartnerFacts(
                partner_id=pid,
                name=p["name"],
                segment=p["segment"],
                certified=p["certified"],
                has_bank=p["has_bank"],
                tier_now=self.store.tier_for(pid, period) or p["starting_tier"] or rules.entry_tier,
                months=[
                    MonthFacts(t.month, t.net_eur, t.lines, t.returns, t.by_day, t.customers) for t in months
                ],
                history=history,
            )
            lines.append(review_partner(rules, period, run, facts))
        out_key = batch_key.replace("/batches/", "/review/")
        self.blobs.put(out_key, json.dumps([ln.to_json() for ln in lines]).encode(), "application/json")
        return {"partners": len(lines), "dormant": sum(ln.dormant for ln in lines)}

    def _batch(self, batch_key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(self.blobs.get(batch_key))
        return items

    def _batch_results(self, manifest: str, part: str) -> Iterator[dict[str, Any]]:
        for item in json.loads(self.blobs.get(manifest)):
            yield from json.loads(self.blobs.get(item["batch"].replace("/batches/", f"/{part}/")))

    def propose(self, period: str, run: str, manifest: str) -> dict[str, Any]:
        meta = self._meta(period, run)
        summary = summarize(
            period, run, (CloseLine.from_json(d) for d in self._batch_results(manifest, "review"))
        )
        key = f"{_prefix(period, run)}proposal.json"
        self.blobs.put(key, json.dumps(summary, indent=1).encode(), "application/json")
        compact = {k: summary[k] for k in ("partners", "payees", "totals", "tier_moves", "anomaly_count")}
        meta.update(proposal=key, summary=compact, manifest=manifest)
        self.store.save_close_meta(
            period, "proposed", run, meta, expect=("frozen", "proposed"), expect_run=run
        )
        return {"proposal": key, **compact}

    def request_approval(self, period: str, run: str, token: str, now: dt.datetime) -> dict[str, Any]:
        """The callback task: keep the token (never shown), tell finance what to decide."""
        meta = self._meta(period, run)
        meta.update(requested_at=_iso(now), reminded_at="")
        if not self.store.save_close_meta(
            period,
            "awaiting_approval",
            run,
            meta,
            expect=("proposed", "awaiting_approval"),
            expect_run=run,
            token=token,
        ):
            raise CloseError(f"{period} is not waiting for a proposal decision")
        self.store.audit(
            period, "system", "approval requested", {"run": run, "summary": meta.get("summary", {})}
        )
        self.finance.publish(
            subject=f"Payout run {period} awaits approval",
            message={
                "type": "approval_requested",
                "period": period,
                "run": run,
                "started_by": meta.get("started_by", ""),
                "summary": meta.get("summary", {}),
                "proposal": meta.get("proposal", ""),
                "how": f"loyalty approvals show {period}; loyalty approvals approve|reject {period}",
            },
            attributes={"type": "approval_requested", "period": period},
        )
        return {"period": period, "status": "awaiting_approval"}

    def pay(self, period: str, run: str, batch_key: str, decision: Mapping[str, Any]) -> dict[str, Any]:
        """Commit each partner once: close line, payout, ledger entries and next tier in one
        transaction keyed by (partner, period). A retry finds the committed ones and skips them."""
        excluded = set(decision.get("exclude") or ())
        proposals = [
            CloseLine.from_json(d)
            for d in json.loads(self.blobs.get(batch_key.replace("/batches/", "/review/")))
        ]
        current = self.store.close_lines(period, [ln.partner_id for ln in proposals if not ln.dormant])
        payments, committed, already = [], 0, 0
        for proposal in proposals:
            pid, line = proposal.partner_id, proposal
            if line.dormant:
                continue
            if pid in current:
                line = current[pid]
                already += 1
            else:
                if pid in excluded:
                    exclude(line, f"excluded by finance ({decision.get('approved_by', '')}); carried forward")
                else:
                    line.state = "paid"
                tier = None
                if line.tier_change in {"up", "down"}:
                    tier = (next_period(period), line.tier_after, line.tier_reason)
                if self.store.commit_close(line, ledger_entries(line), tier):
                    committed += 1
                else:  # committed by an earlier attempt that crashed before answering
                    line = self.store.close_lines(period, [pid])[pid]
                    already += 1
            if line.state == "paid" and line.payout > 0:
                payments.append({"partner_id": pid, "name": line.name, "amount": str(line.payout)})
        out_key = batch_key.replace("/batches/", "/pay/")
        self.blobs.put(out_key, json.dumps(payments).encode(), "application/json")
        return {"committed": committed, "already": already, "payments": len(payments)}

    def bank_files(self, period: str, run: str, manifest: str, now: dt.datetime) -> dict[str, Any]:
        meta = self._meta(period, run)
        rows = list(self._batch_results(manifest, "pay"))
        bank = self.store.bank_details([r["partner_id"] for r in rows])
        payments = []
        for r in rows:
            iban, bic = bank.get(r["partner_id"], ("", ""))
            payments.append(
                Payment(
                    r["partner_id"], r["name"], Decimal(r["amount"]), iban, bic, f"{period}-{r['partner_id']}"
                )
            )
        created = _parse(meta.get("approved_at") or _iso(now))
        base = f"payouts/{period}/"
        self.blobs.put(base + "payouts.csv", bank_csv(payments), "text/csv")
        self.blobs.put(
            base + "pain001.xml",
            pain001(
                payments, run, created, created.date(), self.debtor.name, self.debtor.iban, self.debtor.bic
            ),
            "application/xml",
        )
        total = sum((p.amount for p in payments), Decimal(0))
        meta.update(
            bank_files=[base + "payouts.csv", base + "pain001.xml"],
            paid_total=str(total),
            payees=len(payments),
        )
        self.store.save_close_meta(period, "paying", run, meta, expect=("approved", "paying"), expect_run=run)
        return {"payments": len(payments), "total": str(total), "files": meta["bank_files"]}

    def statements(self, period: str, run: str, batch_key: str) -> dict[str, Any]:
        """Statement and notifications for every partner with a committed line (dormant partners,
        with nothing new to say, get none)."""
        ids = [p["id"] for p in self._batch(batch_key)]
        lines = self.store.close_lines(period, ids)
        written = 0
        for pid in ids:
            if pid not in lines:
                continue
            line = lines[pid]
            sales = sorted(
                (s for s in self.store.partner_sales(pid, period) if (s.period or s.month) == period),
                key=lambda s: (s.sold_at, s.sale_id),
            )
            rows = [
                StatementLine(
                    s.sale_id,
                    s.sold_at,
                    s.sku,
                    s.category,
                    s.quantity,
                    s.net,
                    s.currency,
                    s.fx_rate,
                    s.fx_date,
                    s.net_eur,
                    s.tier,
                    s.rate,
                    s.rule_version,
                    s.commission,
                    s.rate_basis,
                )
                for s in sales
            ]
            base = f"statements/{pid}/{period}"
            self.blobs.put(base + ".csv", statement_csv(line, rows), "text/csv")
            self.blobs.put(base + ".html", statement_html(line, rows), "text/html")
            written += 1
            attrs = {"partner": pid}
            self.events.publish(
                f"Statement {period} ready",
                {
                    "type": "statement_ready",
                    "partner_id": pid,
                    "period": period,
                    "csv": base + ".csv",
                    "html": base + ".html",
                },
                {**attrs, "type": "statement_ready"},
            )
            if line.tier_change in {"up", "down"}:
                self.events.publish(
                    f"Tier changed to {line.tier_after}",
                    {
                        "type": "tier_changed",
                        "partner_id": pid,
                        "from": line.tier_before,
                        "to": line.tier_after,
                        "applies_from": next_period(period),
                        "reason": line.tier_reason,
                    },
                    {**attrs, "type": "tier_changed"},
                )
            if line.payout > 0 and line.state == "paid":
                self.events.publish(
                    f"Payout {period} sent",
                    {
                        "type": "payout_sent",
                        "partner_id": pid,
                        "period": period,
                        "amount_eur": str(line.payout),
                    },
                    {**attrs, "type": "payout_sent"},
                )
        return {"statements": written}

    def finish(self, period: str, run: str, now: dt.datetime) -> dict[str, Any]:
        meta = self._meta(period, run)
        if meta["status"] != FINISHED:
            meta.update(finished_at=_iso(now))
            self.store.save_close_meta(period, FINISHED, run, meta, expect=("paying",), expect_run=run)
            self.store.audit(
                period, "system", "close finished", {"run": run, "paid_total": meta.get("paid_total")}
            )
            self.finance.publish(
                f"Payout run {period} paid",
                {
                    "type": "close_finished",
                    "period": period,
                    "run": run,
                    "paid_total": meta.get("paid_total"),
                    "files": meta.get("bank_files"),
                },
                {"type": "close_finished", "period": period},
            )
        return {"period": period, "status": FINISHED}

    def outcome(self, period: str, run: str, error: str, cause: str) -> dict[str, Any]:
        """The run ended without paying (rejected, timed out or failed): record why."""
        status = {
            "Approval.Rejected": "rejected",
            "Approval.TimedOut": "timed_out",
            "States.Timeout": "timed_out",
        }.get(error, "failed")
        meta = self._meta(period, run)
        if meta["status"] not in RERUNNABLE:
            meta.update(ended=error, reason=cause[:500])
            self.store.save_close_meta(period, status, run, meta, expect_run=run, clear_token=True)
            self.store.audit(
                period, "system", f"run {status}", {"run": run, "error": error, "cause": cause[:500]}
            )
        return {"period": period, "status": status}


class ApprovalService:
    """Finance's side: list, inspect, approve (optionally excluding partners) or reject; and the
    hourly sweep that heartbeats pending callbacks, reminds after 24 h and rejects after 72 h."""

    def __init__(
        self,
        store: CloseStore,
        blobs: BlobStore,
        finance: Notifier,
        workflow: Workflow,
        reminder: dt.timedelta,
        timeout: dt.timedelta,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.finance = finance
        self.workflow = workflow
        self.reminder = reminder
        self.timeout = timeout

    @staticmethod
    def _require_finance(caller: Caller) -> None:
        if FINANCE not in caller.roles:
            raise CloseError(f"{caller.user} does not hold the finance role", 403)

    @staticmethod
    def _require_reader(caller: Caller) -> None:
        if not caller.roles & {FINANCE, OPERATOR}:
            raise CloseError(f"{caller.user} holds neither the finance nor the operator role", 403)

    def pending(self, caller: Caller) -> list[dict[str, Any]]:
        self._require_reader(caller)
        return [_public(m) for m in self.store.list_closes() if m["status"] == "awaiting_approval"]

    def closes(self, caller: Caller) -> list[dict[str, Any]]:
        self._require_reader(caller)
        return [_public(m) for m in self.store.list_closes()]

    def show(self, caller: Caller, period: str) -> dict[str, Any]:
        self._require_reader(caller)
        meta = self.store.close_meta(check_period(period))
        if meta is None:
            raise CloseError(f"no close for {period}", 404)
        out = _public(meta)
        if meta.get("proposal"):
            out["proposal"] = json.loads(self.blobs.get(meta["proposal"]))
        out["audit"] = self.store.audit_log(period)
        return out

    def _awaiting(self, period: str) -> tuple[dict[str, Any], str]:
        meta = self.store.close_meta(check_period(period))
        if meta is None:
            raise CloseError(f"no close for {period}", 404)
        if meta["status"] != "awaiting_approval":
            raise CloseError(f"the close of {period} is {meta['status']}, not awaiting approval", 409)
        token = self.store.close_token(period)
        if not token:
            raise CloseError(f"the close of {period} has no pending approval", 409)
        return meta, token

    def approve(
        self, caller: Caller, period: str, comment: str, exclude: Sequence[str], now: dt.datetime
    ) -> dict[str, Any]:
        self._require_finance(caller)
        meta, token = self._awaiting(period)
        if caller.user == meta.get("started_by"):
            raise CloseError(f"{caller.user} started this run and may not approve it (maker-checker)", 403)
        bad = [p for p in exclude if not PARTNER_ID_RE.match(p)]
        if bad:
            raise CloseError(f"not partner ids: {', '.join(bad)}", 400)
        run = meta["run"]
        decision = {
            "approved_by": caller.user,
            "approved_at": _iso(now),
            "comment": comment,
            "exclude": sorted(set(exclude)),
        }
        meta.update(decision)
        if not self.store.save_close_meta(
            period, "approved", run, meta, expect=("awaiting_approval",), expect_run=run, clear_token=True
        ):
            raise CloseError(f"the close of {period} was decided concurrently", 409)
        self.store.audit(
            period, caller.user, "approved", {"run": run, "comment": comment, "exclude": decision["exclude"]}
        )
        self.workflow.succeed(token, decision)
        return {"period": period, "run": run, "status": "approved", **decision}

    def reject(self, caller: Caller, period: str, comment: str) -> dict[str, Any]:
        self._require_finance(caller)
        if not comment.strip():
            raise CloseError("a rejection needs a comment saying why", 400)
        meta, token = self._awaiting(period)
        run = meta["run"]
        meta.update(rejected_by=caller.user, comment=comment)
        if not self.store.save_close_meta(
            period, "rejected", run, meta, expect=("awaiting_approval",), expect_run=run, clear_token=True
        ):
            raise CloseError(f"the close of {period} was decided concurrently", 409)
        self.store.audit(period, caller.user, "rejected", {"run": run, "comment": comment})
        self.workflow.fail(token, "Approval.Rejected", f"rejected by {caller.user}: {comment}")
        return {
            "period": period,
            "run": run,
            "status": "rejected",
            "rejected_by": caller.user,
            "comment": comment,
        }

    def sweep(self, now: dt.datetime) -> dict[str, Any]:
        reminded, expired, beats = [], [], 0
        for meta in self.store.list_closes():
            if meta["status"] != "awaiting_approval" or not meta.get("requested_at"):
                continue
            period, run = meta["period"], meta["run"]
            token = self.store.close_token(period)
            if not token:
                continue
            age = now - _parse(meta["requested_at"])
            if age >= self.timeout:
                meta.update(rejected_by="system", comment=f"no decision within {self.timeout}")
                if self.store.save_close_meta(
                    period,
                    "timed_out",
                    run,
                    meta,
                    expect=("awaiting_approval",),
                    expect_run=run,
                    clear_token=True,
                ):
                    self.store.audit(
                        period, "system", "approval timed out", {"run": run, "after": str(self.timeout)}
                    )
                    self.workflow.fail(
                        token, "Approval.TimedOut", f"no finance decision within {self.timeout}"
                    )
                    expired.append(period)
                continue
            self.workflow.heartbeat(token)
            beats += 1
            if age >= self.reminder and not meta.get("reminded_at"):
                meta["reminded_at"] = _iso(now)
                self.store.save_close_meta(
                    period, "awaiting_approval", run, meta, expect=("awaiting_approval",), expect_run=run
                )
                self.store.audit(period, "system", "reminder sent", {"run": run})
                self.finance.publish(
                    f"Reminder: payout run {period} awaits approval",
                    {
                        "type": "approval_reminder",
                        "period": period,
                        "run": run,
                        "waiting_since": meta["requested_at"],
                        "auto_reject_at": _iso(_parse(meta["requested_at"]) + self.timeout),
                        "summary": meta.get("summary", {}),
                    },
                    {"type": "approval_reminder", "period": period},
                )
                reminded.append(period)
        return {"reminded": reminded, "timed_out": expired, "heartbeats": beats}


def _public(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What may be shown: never the task token."""
    return {k: v for k, v in meta.items() if k not in {"token", "has_token"}}
