"""The isolated world of a what-if simulation (`loyalty.simulation.ports.World`): a fresh
in-memory container whose store is seeded with the history a simulated window starts from.

Seeding writes the stored forms directly (the partners' bank details as ciphertext and
fingerprint, rule versions as they are, month totals as they stood): the world never holds or
decrypts a plain IBAN, and the live store is only read (by `loyalty.simulation.history`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.adapters.memory.kernel import MemoryCipher
from loyalty.adapters.memory.program import _PartnerItem
from loyalty.close.ledger import Entry
from loyalty.close.review import CloseLine, NextTier
from loyalty.earning.records import MonthDelta
from loyalty.simulation.start import BatchStart


class IndexedMemoryStore(MemoryStore):
    """The in-memory store with its close lines and ledger entries indexed by partner: the same
    answers, without scanning every partner's items for one partner's (a world holds a batch; a
    benchmark's history holds the whole program)."""

    def __init__(self) -> None:
        super().__init__(cipher=MemoryCipher())
        self._periods: dict[str, set[str]] = {}
        self._entries: dict[str, set[tuple[str, str]]] = {}

    def index(self, partner_id: str, period: str | None, entries: Sequence[Entry]) -> None:
        if period is not None:
            self._periods.setdefault(partner_id, set()).add(period)
        self._entries.setdefault(partner_id, set()).update((e.period, e.entry_id) for e in entries)

    def commit_close(self, line: CloseLine, entries: Sequence[Entry], tier: NextTier | None) -> bool:
        done = super().commit_close(line, entries, tier)
        if done:
            self.index(line.partner_id, line.period, entries)
        return done

    def ledger_entries(self, partner_id: str | None = None, period: str | None = None) -> list[Entry]:
        if partner_id is None:
            return super().ledger_entries(partner_id, period)
        keys = sorted(self._entries.get(partner_id, ()))
        return [self.entries[(partner_id, per, eid)] for per, eid in keys]

    def _history(self, partner_id: str, before: str, limit: int) -> list[CloseLine]:
        periods = sorted((p for p in self._periods.get(partner_id, ()) if p < before), reverse=True)
        return [CloseLine.from_json(json.loads(self.lines[(partner_id, p)])) for p in periods[:limit]]


class MemorySimWorld(MemoryContainer):
    """One batch's world: the real services on in-memory adapters (no queue delivery, no
    notifications anyone reads), seeded with `seed`."""

    def __init__(self) -> None:
        super().__init__(today=dt.date(9999, 12, 31))
        self.store = IndexedMemoryStore()

    store: IndexedMemoryStore

    def seed(self, start: BatchStart) -> None:
        s = self.store
        for v in start.rules:  # as they are: the candidate may share a live version's name
            s.rules[f"{v.effective_from.isoformat()}#{v.version}"] = v.model_dump_json()
        s.put_fx_rates(start.fx)
        for ts in start.targets:
            s.put_target_set(ts, ts.source)
        for meta in start.closes:
            s.save_close_meta(meta)
        s.frozen.update(start.frozen)
        for ps in start.partners:
            p, bank = ps.partner, ps.bank
            s.partners[p.partner_id] = _PartnerItem(
                p,
                bank.iban_enc if bank else None,
                bank.fingerprint if bank else "",
                bank.since if bank else "",
            )
            pid = p.partner_id
            for month, tier in ps.tiers.items():
                s.put_tier(pid, month, tier, "history")
            firsts: dict[str, set[str]] = {}
            for customer, month in ps.first_months.items():
                firsts.setdefault(month, set()).add(customer)
            months = {m.month for m in ps.months} | set(firsts)
            totals = {m.month: m for m in ps.months}
            for month in sorted(months):
                t = totals.get(month)
                delta = MonthDelta(customers=firsts.get(month, set()))
                if t is not None:
                    delta.net_eur, delta.commission = t.net_eur, t.commission
                    delta.lines, delta.returns, delta.by_day = t.lines, t.returns, dict(t.by_day)
                    delta.units, delta.by_category, delta.late_sold = (
                        t.units,
                        dict(t.by_category),
                        dict(t.late),
                    )
                s.apply_month_delta(pid, month, "history", delta)
            s.put_sales(ps.sales)
            s.put_completions(ps.completions)
            for line in reversed(ps.history):
                s.lines[(pid, line.period)] = json.dumps(line.to_json())
                if line.payout > 0:
                    s.payouts[(pid, line.period)] = line.payout
                s.index(pid, line.period, ())
            for e in ps.entries:
                s.entries[(pid, e.period, e.entry_id)] = e
            s.index(pid, None, ps.entries)

    def load_config(self, key: str, body: bytes) -> str:
        """A configuration file loaded as the config loader does: its error, or "" when loaded."""
        self.blobs.put(key, body, "application/octet-stream")
        report = self.config().handle(key)
        if report.file_error:
            return report.file_error
        if report.rejected:
            return "; ".join(f"line {i.line} {i.column}: {i.reason}" for i in report.issues[:5])
        return ""
