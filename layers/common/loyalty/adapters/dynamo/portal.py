"""The portal's items on the single table, and its paged reads (Query with Limit and
ExclusiveStartKey; `ScannedCount` is what a page read).

| item                       | pk               | sk                   |
|----------------------------|------------------|----------------------|
| a person's portal profile  | `USER#<user>`    | `PROFILE`            |
| an upload the portal signed| `PORTAL#<id>`    | `UPLOAD#<upload id>` |

(upload ids start with their UTC time, so a descending Query lists the newest first)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from loyalty.adapters.dynamo.models import Tables
from loyalty.adapters.dynamo.points import pk_of
from loyalty.adapters.dynamo.sales import SalesTables
from loyalty.earning.records import SaleRecord
from loyalty.points.model import Redemption
from loyalty.portal.paging import (
    READ_BUDGET,
    decode_cursor,
    encode_cursor,
    in_month,
    lines_scope,
    redemptions_scope,
    uploads_scope,
)
from loyalty.portal.ports import Page, Profile, UploadTicket

FILTERED_READ = 250  # items per Query when a month filter drops some (about 100 KB)


class DynamoPortalRecords(Tables):
    def __init__(
        self, table_name: str, region: str, host: str | None = None, read_budget: int = READ_BUDGET
    ) -> None:
        super().__init__(table_name, region, host)
        self.read_budget = read_budget  # items a page may read at most (plus one Query's worth)
        self.last_read = 0  # items the last page read (DynamoDB's ScannedCount, summed)

    def _raw_query(
        self, pk: str, prefix: str, start: dict[str, Any] | None, limit: int, forward: bool = True
    ) -> dict[str, Any]:
        D = self.m.Doc
        out: dict[str, Any] = D._get_connection().query(
            pk,
            range_key_condition=D.sk.startswith(prefix),
            exclusive_start_key=start,
            limit=limit,
            scan_index_forward=forward,
            consistent_read=False,
        )
        return out

    # -- profiles --------------------------------------------------------------------------------
    def profile(self, user: str) -> Profile | None:
        try:
            it = self.m.Doc.get(f"USER#{user}", "PROFILE", consistent_read=True)
        except self.m.Doc.DoesNotExist:
            return None
        return Profile(**json.loads(it.data or "{}"))

    def save_profile(self, profile: Profile) -> None:
        self.m.Doc(f"USER#{profile.user}", "PROFILE", data=json.dumps(asdict(profile))).save()

    # -- uploads ---------------------------------------------------------------------------------
    def put_upload(self, ticket: UploadTicket) -> None:
        item = self.m.Doc(
            f"PORTAL#{ticket.partner_id}", f"UPLOAD#{ticket.upload_id}", data=json.dumps(asdict(ticket))
        )
        item.save(self.m.Doc.pk.does_not_exist())

    def upload(self, partner_id: str, upload_id: str) -> UploadTicket | None:
        try:
            it = self.m.Doc.get(f"PORTAL#{partner_id}", f"UPLOAD#{upload_id}", consistent_read=True)
        except self.m.Doc.DoesNotExist:
            return None
        return UploadTicket(**json.loads(it.data or "{}"))

    def uploads(self, partner_id: str, cursor: str | None, limit: int) -> Page[UploadTicket]:
        scope = uploads_scope(partner_id)
        pk = f"PORTAL#{partner_id}"
        after = decode_cursor(scope, cursor)
        start = {"pk": {"S": pk}, "sk": {"S": f"UPLOAD#{after}"}} if after else None
        got = self._raw_query(pk, "UPLOAD#", start, limit, forward=False)
        items = [UploadTicket(**json.loads(raw["data"]["S"])) for raw in got.get("Items", [])]
        more = got.get("LastEvaluatedKey") and items
        return Page(
            items, encode_cursor(scope, items[-1].upload_id) if more else None, int(got["ScannedCount"])
        )

    # -- accrual lines ---------------------------------------------------------------------------
    def lines_page(
        self, partner_id: str, month: str | None, cursor: str | None, limit: int
    ) -> Page[SaleRecord]:
        """Up to `limit` lines in sale-id order (the table's key), from Queries of at most
        `limit` items (FILTERED_READ with a month filter) and `read_budget` items in all."""
        scope = lines_scope(partner_id, month)
        pk = f"PARTNER#{partner_id}"
        after = decode_cursor(scope, cursor)
        start: dict[str, Any] | None = {"pk": {"S": pk}, "sk": {"S": f"SALE#{after}"}} if after else None
        got: list[SaleRecord] = []
        read = 0
        S = self.m.Sale
        while True:
            want = limit - len(got) if month is None else max(limit - len(got), FILTERED_READ)
            page = self._raw_query(pk, "SALE#", start, min(want, self.read_budget - read))
            read += int(page["ScannedCount"])
            for raw in page.get("Items", []):
                r = SalesTables._record(partner_id, S.from_raw_data(raw))
                if len(got) == limit:
                    self.last_read = read
                    return Page(got, encode_cursor(scope, got[-1].sale_id), read)
                if in_month(r.sold_at, r.period, month):
                    got.append(r)
            lek = page.get("LastEvaluatedKey")
            if not lek:
                self.last_read = read
                return Page(got, None, read)
            start = lek
            if len(got) == limit or read >= self.read_budget:
                self.last_read = read
                return Page(got, encode_cursor(scope, lek["sk"]["S"][len("SALE#") :]), read)

    # -- redemptions ---------------------------------------------------------------------------
    def redemptions_page(self, partner_id: str, cursor: str | None, limit: int) -> Page[Redemption]:
        scope = redemptions_scope(partner_id)
        pk = pk_of(partner_id)
        after = decode_cursor(scope, cursor)
        start = {"pk": {"S": pk}, "sk": {"S": f"REDEEM#{after}"}} if after else None
        got = self._raw_query(pk, "REDEEM#", start, limit)
        items = [Redemption.from_json(json.loads(raw["data"]["S"])) for raw in got.get("Items", [])]
        more = got.get("LastEvaluatedKey") and items
        return Page(
            items, encode_cursor(scope, items[-1].request_id) if more else None, int(got["ScannedCount"])
        )
