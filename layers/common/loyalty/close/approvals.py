"""Finance's side of the close: list, inspect, approve or reject; the hourly sweep."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from loyalty.close.ports import CloseStore, Workflow
from loyalty.close.runs import CloseError
from loyalty.kernel.clock import _iso, _parse
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller
from loyalty.kernel.ids import PARTNER_ID_RE
from loyalty.kernel.periods import check_period
from loyalty.kernel.ports import BlobStore, Notifier


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
