"""The overrides' read of recruits' month nets (`loyalty.incentives.ports.RecruitNets`): one
BatchGetItem per 100 `MONTH#<month>` items (the partner partitions' month totals), only the net
projected, unprocessed keys retried with an exponential pause."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from loyalty.adapters.dynamo.models import Tables

BATCH = 100  # BatchGetItem's limit
RETRIES = 8  # pauses before giving up on keys DynamoDB keeps returning unprocessed
FIRST_PAUSE, MAX_PAUSE = 0.05, 2.0  # seconds
pause: Callable[[float], None] = time.sleep  # the tests record it instead


class UnprocessedMonths(RuntimeError):
    """DynamoDB kept some month items unprocessed (throttling) after every retry."""


class RecruitTables(Tables):
    def month_nets(self, partner_ids: Sequence[str], month: str) -> dict[str, Decimal]:
        """Net EUR of each partner's `MONTH#<month>` item (no item: no entry), consistent reads."""
        keys = [
            {"pk": {"S": f"PARTNER#{p}"}, "sk": {"S": f"MONTH#{month}"}} for p in dict.fromkeys(partner_ids)
        ]
        out: dict[str, Decimal] = {}
        for i in range(0, len(keys), BATCH):
            for raw in self._batch_get(keys[i : i + BATCH]):
                net = raw.get("net", {}).get("N")
                out[raw["pk"]["S"].removeprefix("PARTNER#")] = Decimal(net) if net is not None else Decimal(0)
        return out

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items of up to 100 keys, retrying the unprocessed ones after a growing pause."""
        conn, table = self.m.Month._get_connection(), self.m.Month.Meta.table_name
        items: list[dict[str, Any]] = []
        for attempt in range(RETRIES + 1):
            if attempt:
                pause(min(FIRST_PAUSE * 2 ** (attempt - 1), MAX_PAUSE))
            wire: Any = keys  # typed key maps (pynamodb's stub says Sequence[str]; it takes both)
            resp = conn.batch_get_item(wire, consistent_read=True, attributes_to_get=["pk", "net"])
            items += (resp.get("Responses") or {}).get(table, [])
            keys = ((resp.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys") or []
            if not keys:
                return items
        raise UnprocessedMonths(
            f"DynamoDB left {len(keys)} month item(s) unprocessed after {RETRIES} retries"
        )
