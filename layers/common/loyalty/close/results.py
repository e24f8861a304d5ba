"""What the close's steps and finance's actions answer. The handlers turn them into the Step
Functions payloads and API answers with `to_json` (the shapes the state machine and clients read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.close.header import AuditEntry, CloseMeta, Decision
from loyalty.close.proposal import SummaryFigures
from loyalty.close.recognize import Recognized
from loyalty.close.runs import CloseStatus


@dataclass(frozen=True)
class StartResult:
    period: str
    run: str
    status: CloseStatus
    started: bool
    execution: str | None = None  # set when this call started (or re-started) the execution

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "period": self.period,
            "run": self.run,
            "status": str(self.status),
            "started": self.started,
        }
        if self.execution is not None:
            out["execution"] = self.execution
        return out


@dataclass(frozen=True)
class Frozen:
    period: str
    run: str
    already_closed: bool

    def to_json(self) -> dict[str, Any]:
        return {"period": self.period, "run": self.run, "already_closed": self.already_closed}


@dataclass(frozen=True)
class Plan:
    manifest: str
    partners: int
    batches: int

    def to_json(self) -> dict[str, Any]:
        return {"manifest": self.manifest, "partners": self.partners, "batches": self.batches}


@dataclass(frozen=True)
class Reviewed:
    partners: int
    dormant: int

    def to_json(self) -> dict[str, Any]:
        return {"partners": self.partners, "dormant": self.dormant}


@dataclass(frozen=True)
class Proposed:
    proposal: str
    figures: SummaryFigures

    def to_json(self) -> dict[str, Any]:
        return {"proposal": self.proposal, **self.figures.to_json()}


@dataclass(frozen=True)
class StatusResult:
    """The status a step left the close in (request_approval, finish, outcome)."""

    period: str
    status: CloseStatus

    def to_json(self) -> dict[str, Any]:
        return {"period": self.period, "status": str(self.status)}


@dataclass(frozen=True)
class Paid:
    committed: int
    already: int
    payments: int

    def to_json(self) -> dict[str, Any]:
        return {"committed": self.committed, "already": self.already, "payments": self.payments}


@dataclass(frozen=True)
class BankFiles:
    payments: int
    total: Decimal
    files: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"payments": self.payments, "total": str(self.total), "files": list(self.files)}


@dataclass(frozen=True)
class Statements:
    statements: int

    def to_json(self) -> dict[str, Any]:
        return {"statements": self.statements}


StepResult = Frozen | Plan | Reviewed | Proposed | StatusResult | Paid | BankFiles | Statements | Recognized


@dataclass(frozen=True)
class Approved:
    period: str
    run: str
    decision: Decision

    def to_json(self) -> dict[str, Any]:
        return {"period": self.period, "run": self.run, "status": "approved", **self.decision.to_json()}


@dataclass(frozen=True)
class AwaitingSecond:
    """An approval recorded while the quorum is not met yet: the run waits for another approver."""

    period: str
    run: str
    approved_by: str
    approvals: int
    required: int

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "run": self.run,
            "status": "pending_second",
            "approved_by": self.approved_by,
            "approvals": self.approvals,
            "required": self.required,
        }


@dataclass(frozen=True)
class Rejected:
    period: str
    run: str
    rejected_by: str
    comment: str

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "run": self.run,
            "status": "rejected",
            "rejected_by": self.rejected_by,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class CloseView:
    """A close as finance sees it: the header, the proposal file and the audit trail."""

    meta: CloseMeta
    proposal: Mapping[str, Any] | None
    audit: list[AuditEntry]

    def to_json(self) -> dict[str, Any]:
        out = self.meta.to_json()
        if self.proposal is not None:
            out["proposal"] = dict(self.proposal)
        out["audit"] = [e.to_json() for e in self.audit]
        return out


@dataclass(frozen=True)
class Sweep:
    reminded: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    heartbeats: int = 0
    redelivered: list[str] = field(default_factory=list)  # decisions whose callback had failed

    def to_json(self) -> dict[str, Any]:
        return {
            "reminded": list(self.reminded),
            "timed_out": list(self.timed_out),
            "heartbeats": self.heartbeats,
            "redelivered": list(self.redelivered),
        }
