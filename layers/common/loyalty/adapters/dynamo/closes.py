"""Close items: close headers, audit, committed close lines, payouts, ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Self

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from loyalty.adapters.dynamo.sales import SalesTables
from loyalty.close.header import AuditEntry, CloseMeta
from loyalty.close.ledger import Entry
from loyalty.close.payees import BankSnapshot
from loyalty.close.review import CloseLine, NextTier
from loyalty.close.runs import CloseStatus
from loyalty.earning.records import MonthTotals
from loyalty.kernel.ports import Cipher


class NoTokenKey(RuntimeError):
    """A callback token with no key to encrypt it: it is never stored in the clear."""


class CloseTables(SalesTables):
    # the approval callback token is encrypted at rest with its own key (the composition root
    # sets it: `with_token_cipher`), the period as encryption context
    token_cipher: Cipher | None = None

    def with_token_cipher(self, cipher: Cipher | None) -> Self:
        self.token_cipher = cipher
        return self

    def _token_cipher(self) -> Cipher:
        if self.token_cipher is None:
            raise NoTokenKey("no key for approval callback tokens (TOKEN_KEY_ID or DATA_KEY_ID)")
        return self.token_cipher

    # -- monthly close ------------------------------------------------------------------------
    def close_meta(self, period: str) -> CloseMeta | None:
        try:
            it = self.m.Close.get(f"CLOSE#{period}", "META", consistent_read=True)
        except self.m.Close.DoesNotExist:
            return None
        return CloseMeta.from_data(period, it.state, it.run, json.loads(it.data or "{}"), bool(it.token))

    def close_token(self, period: str) -> str | None:
        try:
            sealed = str(self.m.Close.get(f"CLOSE#{period}", "META", consistent_read=True).token or "")
        except self.m.Close.DoesNotExist:
            return None
        return self._token_cipher().decrypt(sealed, period) if sealed else None

    def save_close_meta(
        self,
        meta: CloseMeta,
        expect: Collection[CloseStatus | None] | None = None,
        expect_run: str | None = None,
        token: str | None = None,
        clear_token: bool = False,
        expect_approvals: int | None = None,
    ) -> bool:
        """Write the close's header; `expect` makes it conditional on the current status (None:
        no header yet), `expect_run` on the current run, `expect_approvals` on the number of
        finance approvals it holds (`napp`)."""
        C = self.m.Close
        actions: list[Action] = [
            C.state.set(str(meta.status)),
            C.run.set(meta.run),
            C.data.set(json.dumps(meta.to_data(), default=str)),
            C.gsi1pk.set("CLOSES"),
            C.gsi1sk.set(meta.period),
            C.napp.set(len(meta.approvals or [])),
        ]
        if token is not None:
            actions.append(C.token.set(self._token_cipher().encrypt(token, meta.period)))
        elif clear_token:
            actions.append(C.token.remove())
        cond: Condition | None = None
        if expect is not None:
            states = ["" if s is None else str(s) for s in expect]
            cond = C.state.is_in(*states) if states else C.pk.does_not_exist()
            if "" in states:
                cond = cond | C.pk.does_not_exist()
        if expect_run is not None:
            rc = C.run == expect_run
            cond = rc if cond is None else cond & rc
        if expect_approvals is not None:
            ac = C.napp == expect_approvals
            if expect_approvals == 0:
                ac = ac | C.napp.does_not_exist()
            cond = ac if cond is None else cond & ac
        try:
            C(f"CLOSE#{meta.period}", "META").update(actions=actions, condition=cond)
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def list_closes(self) -> list[CloseMeta]:
        return [
            CloseMeta.from_data(it.gsi1sk, it.state, it.run, json.loads(it.data or "{}"), bool(it.token))
            for it in self.m.Close.by_list.query("CLOSES")
        ]

    def audit(self, period: str, actor: str, action: str, detail: Mapping[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        digest = hashlib.sha256(json.dumps([actor, action, dict(detail)], default=str).encode()).hexdigest()[
            :8
        ]
        entry = AuditEntry(now, actor, action, detail).to_json()
        self.m.Close(
            f"CLOSE#{period}", f"AUDIT#{now}#{digest}", data=json.dumps(entry, default=str), state=action
        ).save(condition=self.m.Close.pk.does_not_exist())

    def audit_log(self, period: str) -> list[AuditEntry]:
        C = self.m.Close
        return [
            AuditEntry.from_json(json.loads(it.data))
            for it in C.query(f"CLOSE#{period}", C.sk.startswith("AUDIT#"))
        ]

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

    def commit_close(self, line: CloseLine, entries: Sequence[Entry], tier: NextTier | None) -> bool:
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
                        self.ledger_item(pk, line.partner_id, "LEDGER#", e), condition=L.pk.does_not_exist()
                    )
                if tier is not None:
                    tx.save(self.m.Tier(pk, f"TIER#{tier.month}", tier=tier.tier, reason=tier.reason))
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

    def bank_snapshots(self, partner_ids: Sequence[str]) -> dict[str, BankSnapshot]:
        """The payees' bank details as stored, nothing decrypted (for the proposal's snapshot)."""
        out: dict[str, BankSnapshot] = {}
        if not partner_ids:
            return out
        for it in self.m.Partner.batch_get(
            [(f"PARTNER#{p}", "PROFILE") for p in dict.fromkeys(partner_ids)],
            attributes_to_get=["pk", "sk", "name", "iban_enc", "iban_mask", "bic", "iban_fp", "bank_since"],
        ):
            if it.iban_enc:
                pid = it.pk[len("PARTNER#") :]
                out[pid] = BankSnapshot(
                    pid,
                    it.name,
                    it.iban_enc,
                    it.iban_mask or "",
                    it.iban_fp or "",
                    it.bic or "",
                    it.bank_since or "",
                )
        return out

    def decrypt_iban(self, partner_id: str, iban_enc: str) -> str:
        if self.cipher is None:
            raise RuntimeError("bank details need the data key (DATA_KEY_ID) to be decrypted")
        return self.cipher.decrypt(iban_enc, partner_id)

    def payout(self, partner_id: str, period: str) -> Decimal | None:
        try:
            return Decimal(self.m.Payout.get(f"PARTNER#{partner_id}", f"PAYOUT#{period}").amount)
        except self.m.Payout.DoesNotExist:
            return None
