"""The header of a period's close (status, run and what each step recorded), finance's decision
and the audit trail: what the close's steps, the approvals and the store exchange.

`to_data`/`from_data` are the header's wire shape (the `data` JSON of the close item, and with
`period`, `status` and `run` what the approvals API shows); the field order below is the order in
which the steps add them, so a stored header reads the same as before these types existed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loyalty.close.proposal import SummaryFigures
from loyalty.close.runs import CloseStatus

# fields that live in their own attributes of the close item, never in its `data`
_OWN_ATTRIBUTES = ("period", "status", "run", "has_token")
# fields stored only once set (a header written before them reads and writes back the same)
_UNSET_EMPTY = ("proposal_digest",)


@dataclass
class CloseMeta:
    """A close header. Optional fields are None until the step that sets them has run."""

    period: str
    status: CloseStatus
    run: str
    attempt: int = 1
    started_by: str = ""
    started_at: str = ""
    proposal: str | None = None
    summary: SummaryFigures | None = None
    manifest: str | None = None
    # sha256 of the run's review files at Propose: what finance approves, what Pay and BankFiles pay
    proposal_digest: str = ""
    requested_at: str | None = None
    reminded_at: str | None = None
    approved_by: str | None = None
    approved_at: str | None = None
    rejected_by: str | None = None
    comment: str | None = None
    exclude: list[str] | None = None
    bank_files: list[str] | None = None
    paid_total: str | None = None
    payees: int | None = None
    finished_at: str | None = None
    ended: str | None = None
    reason: str | None = None
    approvals: list[dict[str, Any]] | None = None  # each finance approval of the run (quorum)
    approvals_required: int | None = None  # different approvers the payout total needs
    # the first run of this period that was approved (and so may have committed payouts); carried
    # to later attempts: the period then counts as committed for the order of closes
    committed_run: str | None = None
    has_token: bool = False  # the store holds a callback token (the token itself is never shown)

    def to_data(self) -> dict[str, Any]:
        """The `data` JSON of the close item: every field set, without the item's own attributes."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _OWN_ATTRIBUTES or value is None or (f.name in _UNSET_EMPTY and not value):
                continue
            out[f.name] = value.to_json() if isinstance(value, SummaryFigures) else value
        return out

    def to_json(self) -> dict[str, Any]:
        """What may be shown (API, CLI): the data, then period, status and run; never the token."""
        return {**self.to_data(), "period": self.period, "status": str(self.status), "run": self.run}

    @classmethod
    def from_data(
        cls, period: str, status: str, run: str, data: Mapping[str, Any], has_token: bool = False
    ) -> CloseMeta:
        known = {f.name for f in dataclasses.fields(cls)} - set(_OWN_ATTRIBUTES)
        kw: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if kw.get("summary") is not None:
            kw["summary"] = SummaryFigures.from_json(kw["summary"])
        for k in ("exclude", "bank_files", "approvals"):
            if kw.get(k) is not None:
                kw[k] = list(kw[k])
        return cls(period=period, status=CloseStatus(status), run=run, has_token=has_token, **kw)

    def summary_json(self) -> dict[str, Any]:
        return self.summary.to_json() if self.summary is not None else {}


@dataclass(frozen=True)
class Decision:
    """Finance's approval of a run: who, when, why, and the partners excluded from it. It is the
    output of the approval callback, handed by the state machine to every pay batch."""

    approved_by: str = ""
    approved_at: str = ""
    comment: str = ""
    exclude: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "comment": self.comment,
            "exclude": list(self.exclude),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Decision:
        return cls(
            approved_by=str(d.get("approved_by") or ""),
            approved_at=str(d.get("approved_at") or ""),
            comment=str(d.get("comment") or ""),
            exclude=tuple(d.get("exclude") or ()),
        )


@dataclass(frozen=True)
class AuditEntry:
    """One line of a close's audit trail: who did what, when, with which details."""

    at: str
    actor: str
    action: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "actor": self.actor, "action": self.action, **self.detail}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AuditEntry:
        rest = {k: v for k, v in d.items() if k not in {"at", "actor", "action"}}
        return cls(str(d["at"]), str(d["actor"]), str(d["action"]), rest)
