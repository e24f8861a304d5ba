"""Close items: close headers, audit, committed close lines, payouts, ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from loyalty.adapters.dynamo.sales import SalesTables
from loyalty.close.ledger import Entry
from loyalty.close.review import CloseLine
from loyalty.earning.records import MonthTotals


class CloseTables(SalesTables):
    # -- monthly close ------------------------------------------------------------------------
    def close_meta(self, period: str) -> dict[str, Any] | None:
        try:
            it = self.m.Close.get(f"CLOSE#{period}", "META", consistent_read=True)
        except self.m.Close.DoesNotExist:
            return None
        d: dict[str, Any] = json.loads(it.data or "{}")
        d.update(period=period, status=it.state, run=it.run, has_token=bool(it.token))
        return d

    def close_token(self, period: str) -> str | None:
        try:
            return str(self.m.Close.get(f"CLOSE#{period}", "META", consistent_read=True).token or "") or None
        except self.m.Close.DoesNotExist:
            return None

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
    ) -> bool:
        """Write the close's header; `expect` makes it conditional on the current status."""
        C = self.m.Close
        body = {k: v for k, v in data.items() if k not in {"period", "status", "run", "has_token"}}
        actions: list[Action] = [
            C.state.set(status),
            C.run.set(run),
            C.data.set(json.dumps(body, default=str)),
            C.gsi1pk.set("CLOSES"),
            C.gsi1sk.set(period),
        ]
        if token is not None:
            actions.append(C.token.set(token))
        elif clear_token:
            actions.append(C.token.remove())
        cond: Condition | None = None
        if expect is not None:
            cond = C.state.is_in(*expect) if expect else C.pk.does_not_exist()
            if "" in expect:
                cond = cond | C.pk.does_not_exist()
        if expect_run is not None:
            rc = C.run == expect_run
            cond = rc if cond is None else cond & rc
        try:
            C(f"CLOSE#{period}", "META").update(actions=actions, condition=cond)
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def list_closes(self) -> list[dict[str, Any]]:
        out = []
        for it in self.m.Close.by_list.query("CLOSES"):
            d: dict[str, Any] = json.loads(it.data or "{}")
            d.update(period=it.gsi1sk, status=it.state, run=it.run)
            out.append(d)
        return out

    def audit(self, period: str, actor: str, action: str, detail: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        sk = f"AUDIT#{now}#{hashlib.sha256(json.dumps([actor, action, detail], default=str).encode()).hexdigest()[:8]}"
        entry = {"at": now, "actor": actor, "action": action, **detail}
        self.m.Close(f"CLOSE#{period}", sk, data=json.dumps(entry, default=str), state=action).save(
            condition=self.m.Close.pk.does_not_exist()
        )

    def audit_log(self, period: str) -> list[dict[str, Any]]:
        C = self.m.Close
        return [json.loads(it.data) for it in C.query(f"CLOSE#{period}", C.sk.startswith("AUDIT#"))]

    def close_facts(
        self, partner_id: str, before: str, history: int = 7
    ) -> tuple[list[MonthTotals], list[CloseLine]]:
        """One Query for what a partner's review needs: month totals and the committed closes
        before `before` (newest first). Keys CLOSE#, LEDGER#, MONTH# are adjacent in the partition."""
        C = self.m.Close
        months: list[MonthTotals] = []
        closes: list[CloseLine] = []
        conn = self.m.Close._get_connection()  # raw items: three item types share the key range
        raws: list[dict[str, Any]] = []
        start = None
        while True:
            page = conn.query(
                f"PARTNER#{partner_id}",
                range_key_condition=C.sk.between("CLOSE#", "MONTH#~"),
                consistent_read=True,
                exclusive_start_key=start,
            )
            raws += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        for raw in raws:
            sk = raw["sk"]["S"]
            if sk.startswith("MONTH#"):
                months.append(self._month(partner_id, self.m.Month.from_raw_data(raw)))
            elif sk.startswith("CLOSE#") and sk < f"CLOSE#{before}":
                closes.append(CloseLine.from_json(json.loads(raw["data"]["S"])))
        closes.reverse()
        return months, closes[:history]

    def close_history(self, partner_id: str, before: str, limit: int = 7) -> list[CloseLine]:
        """Committed close lines of a partner before `before`, newest first."""
        return self.close_facts(partner_id, before, limit)[1]

    def close_lines(self, period: str, partner_ids: Sequence[str]) -> dict[str, CloseLine]:
        """The committed close line of each partner (of those that have one) for the period."""
        if not partner_ids:
            return {}
        lines = (
            CloseLine.from_json(json.loads(it.data))
            for it in self.m.Close.batch_get(
                [(f"PARTNER#{p}", f"CLOSE#{period}") for p in dict.fromkeys(partner_ids)],
                consistent_read=True,
            )
        )
        return {ln.partner_id: ln for ln in lines}

    def commit_close(
        self, line: CloseLine, entries: Sequence[Entry], tier: tuple[str, str, str] | None
    ) -> bool:
        """Commit one partner's close at once: the line (once per partner and period), its payout,
        its immutable ledger entries and its next tier. False if already committed."""
        C, L, P = self.m.Close, self.m.Ledger, self.m.Payout
        token = hashlib.sha256(f"{line.run}|{line.partner_id}".encode()).hexdigest()[:36]
        pk = f"PARTNER#{line.partner_id}"
        try:
            with TransactWrite(connection=self._conn, client_request_token=token) as tx:
                tx.save(
                    C(
                        pk,
                        f"CLOSE#{line.period}",
                        data=json.dumps(line.to_json()),
                        state=line.state,
                        run=line.run,
                    ),
                    condition=C.pk.does_not_exist(),
                )
                if line.payout > 0:
                    tx.save(
                        P(pk, f"PAYOUT#{line.period}", amount=line.payout, run=line.run, state="approved"),
                        condition=P.pk.does_not_exist(),
                    )
                for e in entries:
                    tx.save(
                        L(
                            pk,
                            f"LEDGER#{e.period}#{e.entry_id}",
                            period=e.period,
                            debit=e.debit,
                            credit=e.credit,
                            amount=e.amount,
                            memo=e.memo,
                            reverses=e.reverses,
                            gsi1pk=f"LEDGER#{e.period}",
                            gsi1sk=f"{line.partner_id}#{e.entry_id}",
                        ),
                        condition=L.pk.does_not_exist(),
                    )
                if tier is not None:
                    month, name, reason = tier
                    tx.save(self.m.Tier(pk, f"TIER#{month}", tier=name, reason=reason))
            return True
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise

    def ledger_entries(self, partner_id: str | None = None, period: str | None = None) -> list[Entry]:
        L = self.m.Ledger
        if partner_id is not None:
            items: Iterable[Any] = L.query(f"PARTNER#{partner_id}", L.sk.startswith("LEDGER#"))
        elif period is not None:
            items = L.by_period.query(f"LEDGER#{period}")
        else:
            raise ValueError("ledger_entries needs a partner or a period")
        return [
            Entry(it.sk.rsplit("#", 1)[1], it.period, it.debit, it.credit, it.amount, it.memo, it.reverses)
            for it in items
        ]

    def payout(self, partner_id: str, period: str) -> Decimal | None:
        try:
            return Decimal(self.m.Payout.get(f"PARTNER#{partner_id}", f"PAYOUT#{period}").amount)
        except self.m.Payout.DoesNotExist:
            return None
