"""The portal's records and links in memory (held to the DynamoDB/S3 ones by
tests/contract/test_portal_store.py): pages read like a DynamoDB Query with Limit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from urllib.parse import quote

from loyalty.adapters.memory.kernel import MemoryBlobs
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
from loyalty.portal.ports import Page, PostForm, Profile, UploadTicket


def _after[T](
    items: Sequence[tuple[str, T]], start: str | None, reverse: bool = False
) -> list[tuple[str, T]]:
    """Items (key, value) in key order (or reverse) after the key `start`."""
    ordered = sorted(items, key=lambda kv: kv[0], reverse=reverse)
    if start is None:
        return ordered
    return [kv for kv in ordered if (kv[0] < start if reverse else kv[0] > start)]


class MemoryPortalRecords:
    def __init__(
        self,
        sales: Callable[[str], dict[str, SaleRecord]],
        redemptions: Callable[[str], list[Redemption]],
        read_budget: int = READ_BUDGET,
    ) -> None:
        self._sales = sales
        self.read_budget = read_budget
        self._redemptions = redemptions
        self.profiles: dict[str, Profile] = {}
        self.tickets: dict[tuple[str, str], UploadTicket] = {}
        self.last_read = 0  # items the last page evaluated (what DynamoDB's ScannedCount says)

    def profile(self, user: str) -> Profile | None:
        return self.profiles.get(user)

    def save_profile(self, profile: Profile) -> None:
        self.profiles[profile.user] = profile

    def put_upload(self, ticket: UploadTicket) -> None:
        self.tickets[(ticket.partner_id, ticket.upload_id)] = ticket

    def upload(self, partner_id: str, upload_id: str) -> UploadTicket | None:
        return self.tickets.get((partner_id, upload_id))

    def uploads(self, partner_id: str, cursor: str | None, limit: int) -> Page[UploadTicket]:
        scope = uploads_scope(partner_id)
        mine = [(u, t) for (p, u), t in self.tickets.items() if p == partner_id]
        rest = _after(mine, decode_cursor(scope, cursor), reverse=True)
        page = rest[:limit]
        more = len(rest) > limit
        return Page([t for _, t in page], encode_cursor(scope, page[-1][0]) if more else None, len(page))

    def lines_page(
        self, partner_id: str, month: str | None, cursor: str | None, limit: int
    ) -> Page[SaleRecord]:
        scope = lines_scope(partner_id, month)
        rest = _after(list(self._sales(partner_id).items()), decode_cursor(scope, cursor))
        got: list[SaleRecord] = []
        read = 0
        last = None
        for sale_id, r in rest:
            if len(got) == limit or read >= self.read_budget:
                return Page(got, encode_cursor(scope, last) if last else None, self._read(read))
            read += 1
            last = sale_id
            if in_month(r.sold_at, r.period, month):
                got.append(dataclasses.replace(r))
        return Page(got, None, self._read(read))

    def _read(self, n: int) -> int:
        self.last_read = n
        return n

    def redemptions_page(self, partner_id: str, cursor: str | None, limit: int) -> Page[Redemption]:
        scope = redemptions_scope(partner_id)
        rest = _after(
            [(r.request_id, r) for r in self._redemptions(partner_id)], decode_cursor(scope, cursor)
        )
        page = rest[:limit]
        more = len(rest) > limit
        return Page([r for _, r in page], encode_cursor(scope, page[-1][0]) if more else None, len(page))


class MemoryPortalLinks:
    """Links to the in-memory bucket (`memory://` URLs that name the key and the signed limits)."""

    def __init__(self, blobs: MemoryBlobs, bucket: str = "memory-bucket") -> None:
        self.blobs = blobs
        self.bucket = bucket
        self.forms: list[tuple[str, str, str, int]] = []  # (partner, key, content type, max bytes)

    def download_url(self, key: str, filename: str, expires: int) -> str:
        return f"memory://{self.bucket}/{quote(key)}?download={quote(filename)}&expires={expires}"

    def upload_form(
        self, partner_id: str, key: str, content_type: str, max_bytes: int, expires: int
    ) -> PostForm:
        self.forms.append((partner_id, key, content_type, max_bytes))
        return PostForm(
            f"memory://{self.bucket}",
            {"key": key, "Content-Type": content_type, "max_bytes": str(max_bytes), "expires": str(expires)},
        )

    def exists(self, key: str) -> bool:
        return key in self.blobs.keys(key)

    def keys(self, prefix: str) -> list[str]:
        return self.blobs.keys(prefix)
