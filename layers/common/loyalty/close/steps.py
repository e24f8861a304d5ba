"""The monthly close as services over the ports: each Step Functions state calls one method."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from loyalty.close.bankfiles import Debtor, Payment, bank_csv, pain001
from loyalty.close.ports import CloseStore, Workflow
from loyalty.close.proposal import summarize
from loyalty.close.review import CloseLine, MonthFacts, PartnerFacts, exclude, ledger_entries, review_partner
from loyalty.close.runs import ACTIVE, FINISHED, RERUNNABLE, CloseError, _prefix, run_name
from loyalty.close.statements import StatementLine, statement_csv, statement_html
from loyalty.kernel.clock import _iso, _parse
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller
from loyalty.kernel.periods import check_period, cutoff, next_period, previous_period
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.program.rules import RuleBook, RuleVersion


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
