"""Notifier items on the single table:

| item                          | pk                       | sk            | attributes                 |
|-------------------------------|--------------------------|---------------|----------------------------|
| email preferences             | `NOTIFY#<partner>`       | `PREFS`       | data: {"off": [...], "lang"} |
| sent marker of an event       | `NOTIFY#<partner>`       | `SENT#<event>`| state, rev (claimed at, s), data (detail) |
| suppressed address            | `SUPPRESS#<sha256(addr)>`| `META`        | data: reason               |

The marker is written with a condition (absent, FAILED, or a stale SENDING): two deliveries of one
event cannot both send. Nothing is deleted (the table's roles may not)."""

from __future__ import annotations

import json

from pynamodb.exceptions import PutError

from loyalty.adapters.dynamo.models import Tables
from loyalty.adapters.dynamo.program import ProgramTables
from loyalty.notify.model import Prefs, address_key
from loyalty.notify.ports import FAILED, SENDING


class NotifyTables(Tables):
    def prefs(self, partner_id: str) -> Prefs:
        try:
            it = self.m.Doc.get(f"NOTIFY#{partner_id}", "PREFS", consistent_read=True)
        except self.m.Doc.DoesNotExist:
            return Prefs(partner_id)
        return Prefs.from_json(partner_id, json.loads(it.data or "{}"))

    def put_prefs(self, prefs: Prefs) -> None:
        self.m.Doc(f"NOTIFY#{prefs.partner_id}", "PREFS", data=json.dumps(prefs.to_json())).save()

    def claim(self, partner_id: str, event_id: str, now: int, stale_after: int) -> bool:
        D = self.m.Doc
        it = D(f"NOTIFY#{partner_id}", f"SENT#{event_id}", state=SENDING, rev=now)
        try:
            it.save(
                D.pk.does_not_exist()
                | (D.state == FAILED)
                | ((D.state == SENDING) & (D.rev < now - stale_after))
            )
            return True
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False

    def settle(self, partner_id: str, event_id: str, state: str, detail: str = "") -> None:
        D = self.m.Doc
        D(f"NOTIFY#{partner_id}", f"SENT#{event_id}").update(
            actions=[D.state.set(state), D.data.set(detail or state)]
        )

    def marker(self, partner_id: str, event_id: str) -> str | None:
        try:
            return str(self.m.Doc.get(f"NOTIFY#{partner_id}", f"SENT#{event_id}", consistent_read=True).state)
        except self.m.Doc.DoesNotExist:
            return None

    def suppress(self, address: str, reason: str) -> None:
        D = self.m.Doc
        try:
            D(f"SUPPRESS#{address_key(address)}", "META", data=reason, state="suppressed").save(
                D.pk.does_not_exist()
            )
        except PutError as exc:  # suppressed already: the first reason stays
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def suppressed(self, address: str) -> str | None:
        try:
            it = self.m.Doc.get(f"SUPPRESS#{address_key(address)}", "META", consistent_read=True)
        except self.m.Doc.DoesNotExist:
            return None
        return str(it.data or "suppressed")


class NotifierTables(ProgramTables, NotifyTables):
    """What the notifier reads and writes: partner profiles (address, name, country) and its
    own items."""
