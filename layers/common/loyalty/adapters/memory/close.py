"""In-memory adapters of the close's ports, held to the DynamoDB ones by
`tests/contract/test_close_store.py`: the same answers, and conditional writes refuse the same
things (a second commit of a partner's close, a header write with a stale status or run, an
existing ledger entry). Values are stored as their wire form and read back as new objects, so a
caller's later edits never leak into the store (as with a real table).

Like the DynamoDB close adapter, it sits on the earning's tables (the review reads month totals)
and writes the program's tier of the next month in the same all-or-nothing commit;
`MemoryWorkflow` stands in for Step Functions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from loyalty.adapters.memory.earning import MemorySales
from loyalty.adapters.memory.kernel import MemoryCipher
from loyalty.adapters.memory.program import MemoryProgram
from loyalty.close.header import AuditEntry, CloseMeta
from loyalty.close.ledger import Entry
from loyalty.close.payees import BankSnapshot
from loyalty.close.ports import CallbackGone
from loyalty.close.review import CloseLine, NextTier
from loyalty.close.runs import CloseStatus
from loyalty.earning.records import MonthTotals
from loyalty.kernel.ports import Cipher


@dataclass
class _Header:
    status: str
    run: str
    data: str
    token: str | None = None


def _approvals(h: _Header | None) -> int:
    """How many finance approvals a stored header holds."""
    return len(json.loads(h.data).get("approvals") or []) if h else 0


class MemoryCloseTables(MemoryProgram, MemorySales):
    """Close headers, audit trail, committed close lines, payouts and the ledger."""

    def __init__(self, cipher: Cipher | None = None) -> None:
        super().__init__(cipher)
        self.headers: dict[str, _Header] = {}
        self.audits: dict[str, list[str]] = {}
        self.lines: dict[tuple[str, str], str] = {}  # (partner, period) -> close line JSON
        self.payouts: dict[tuple[str, str], Decimal] = {}
        self.entries: dict[tuple[str, str, str], Entry] = {}  # (partner, period, entry id) -> entry
        # callback tokens are kept encrypted, the period as context (like the DynamoDB adapter)
        self.token_cipher: Cipher = MemoryCipher(b"approval-token")

    def with_token_cipher(self, cipher: Cipher) -> Self:
        self.token_cipher = cipher
        return self

    # -- headers ------------------------------------------------------------------------------
    def close_meta(self, period: str) -> CloseMeta | None:
        h = self.headers.get(period)
        if h is None:
            return None
        return CloseMeta.from_data(period, h.status, h.run, json.loads(h.data), bool(h.token))

    def close_token(self, period: str) -> str | None:
        h = self.headers.get(period)
        return self.token_cipher.decrypt(h.token, period) if h and h.token else None

    def save_close_meta(
        self,
        meta: CloseMeta,
        expect: Collection[CloseStatus | None] | None = None,
        expect_run: str | None = None,
        token: str | None = None,
        clear_token: bool = False,
        expect_approvals: int | None = None,
    ) -> bool:
        h = self.headers.get(meta.period)
        if expect_approvals is not None and _approvals(h) != expect_approvals:
            return False
        if expect is not None and not _status_matches(h, expect):
            return False
        if expect_run is not None and (h is None or h.run != expect_run):
            return False
        keep = h.token if h else None
        sealed = self.token_cipher.encrypt(token, meta.period) if token is not None else None
        new_token = sealed if token is not None else (None if clear_token else keep)
        data = json.dumps(meta.to_data(), default=str)
        self.headers[meta.period] = _Header(str(meta.status), meta.run, data, new_token)
        return True

    def list_closes(self) -> list[CloseMeta]:
        return [
            CloseMeta.from_data(p, h.status, h.run, json.loads(h.data), bool(h.token))
            for p, h in sorted(self.headers.items())
        ]

    # -- audit --------------------------------------------------------------------------------
    def audit(self, period: str, actor: str, action: str, detail: Mapping[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        entry = AuditEntry(now, actor, action, detail).to_json()
        self.audits.setdefault(period, []).append(json.dumps(entry, default=str))

    def audit_log(self, period: str) -> list[AuditEntry]:
        return [AuditEntry.from_json(json.loads(e)) for e in self.audits.get(period, [])]

    # -- committed closes ---------------------------------------------------------------------
    def close_lines(self, period: str, partner_ids: Sequence[str]) -> dict[str, CloseLine]:
        out = {}
        for p in dict.fromkeys(partner_ids):
            raw = self.lines.get((p, period))
            if raw is not None:
                out[p] = CloseLine.from_json(json.loads(raw))
        return out

    def commit_close(self, line: CloseLine, entries: Sequence[Entry], tier: NextTier | None) -> bool:
        """All or nothing, like the DynamoDB transaction: refused if the line, its payout or any
        of its ledger entries exists already."""
        pid, period = line.partner_id, line.period
        if (pid, period) in self.lines or (line.payout > 0 and (pid, period) in self.payouts):
            return False
        if any((pid, e.period, e.entry_id) in self.entries for e in entries):
            return False
        self.lines[(pid, period)] = json.dumps(line.to_json())
        if line.payout > 0:
            self.payouts[(pid, period)] = line.payout
        for e in entries:
            self.entries[(pid, e.period, e.entry_id)] = e
        if tier is not None:
            self.put_tier(pid, tier.month, tier.tier, tier.reason)
        return True

    def ledger_entries(self, partner_id: str | None = None, period: str | None = None) -> list[Entry]:
        if partner_id is not None:
            return [e for (p, _, _), e in sorted(self.entries.items()) if p == partner_id]
        if period is not None:  # the period index is ordered by partner, then entry id
            return [e for (_, per, _), e in sorted(self.entries.items()) if per == period]
        raise ValueError("ledger_entries needs a partner or a period")

    def payout(self, partner_id: str, period: str) -> Decimal | None:
        return self.payouts.get((partner_id, period))

    # -- bank details for the proposal and the bank files -------------------------------------
    def bank_snapshots(self, partner_ids: Sequence[str]) -> dict[str, BankSnapshot]:
        out = {}
        for pid in dict.fromkeys(partner_ids):
            item = self.partners.get(pid)
            if item is not None and item.iban_enc:
                p = item.partner
                out[pid] = BankSnapshot(
                    pid, p.name, item.iban_enc, p.iban, item.iban_fp, p.bic, item.bank_since
                )
        return out

    def decrypt_iban(self, partner_id: str, iban_enc: str) -> str:
        if self.cipher is None:
            raise RuntimeError("bank details need the data key to be decrypted")
        return self.cipher.decrypt(iban_enc, partner_id)

    def _history(self, partner_id: str, before: str, limit: int) -> list[CloseLine]:
        periods = sorted((per for p, per in self.lines if p == partner_id and per < before), reverse=True)
        return [CloseLine.from_json(json.loads(self.lines[(partner_id, per)])) for per in periods[:limit]]

    def close_history(self, partner_id: str, before: str, limit: int = 7) -> list[CloseLine]:
        return self._history(partner_id, before, limit)

    def close_facts(
        self, partner_id: str, before: str, history: int = 7
    ) -> tuple[list[MonthTotals], list[CloseLine]]:
        return self.month_totals(partner_id), self._history(partner_id, before, history)


def _status_matches(h: _Header | None, expect: Collection[CloseStatus | None]) -> bool:
    states = {"" if s is None else str(s) for s in expect}
    if h is None:
        return not states or "" in states
    return h.status in states


@dataclass
class MemoryWorkflow:
    """Step Functions in memory: executions by name (a second start of a name starts nothing),
    and the callbacks finance and the sweep sent. A token is completed once, as on AWS (again:
    `CallbackGone`); `broken` makes the next callbacks fail as a network error would."""

    executions: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    succeeded: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    heartbeats: list[str] = field(default_factory=list)
    completed: set[str] = field(default_factory=set)
    broken: int = 0

    def start(self, name: str, payload: Mapping[str, Any]) -> tuple[str, bool]:
        arn = f"arn:aws:states:local:000000000000:execution:close:{name}"
        if name in self.executions:
            return arn, False
        self.executions[name] = dict(payload)
        return arn, True

    def _complete(self, token: str) -> None:
        if self.broken:
            self.broken -= 1
            raise ConnectionError("the callback did not reach Step Functions")
        if token in self.completed:
            raise CallbackGone(f"the workflow no longer waits for {token}")
        self.completed.add(token)

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        self._complete(token)
        self.succeeded.append((token, json.loads(json.dumps(output))))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._complete(token)
        self.failed.append((token, error, cause))

    def heartbeat(self, token: str) -> None:
        if token in self.completed:
            raise CallbackGone(f"the workflow no longer waits for {token}")
        self.heartbeats.append(token)
