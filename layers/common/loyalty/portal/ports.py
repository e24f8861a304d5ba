"""Ports of the partner portal: what it keeps of its own (user profiles, the uploads it signed),
one page of a partner's accrual lines, and the signed links it hands out (S3 presigned GET and
POST). Everything else it reads through the other contexts' ports (the store of `assembly`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from loyalty.earning.records import SaleRecord
from loyalty.points.model import Redemption


@dataclass(frozen=True)
class Profile:
    """What a person chose in the portal (bounded: a language, a few flags)."""

    user: str
    lang: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class UploadTicket:
    """An upload the portal signed: the object key it may be written to and what was declared."""

    partner_id: str
    upload_id: str  # time-ordered: `<YYYYmmddHHMMSS>-<hex>`
    key: str  # incoming/<partner_id>/<upload_id>_<safe name>.csv
    filename: str  # the name the partner gave (shown back)
    content_type: str
    size: int
    user: str
    created_at: str


@dataclass(frozen=True)
class Page[T]:
    """One page of a list and the opaque cursor of the next one (None: nothing more)."""

    items: Sequence[T]
    cursor: str | None
    read: int = 0  # items the store evaluated for this page (bounded by the page's budget)


@dataclass(frozen=True)
class PostForm:
    """A presigned POST: where to send the form and the fields to send with the file."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)


class PortalRecords(Protocol):
    """The portal's own items and its paged reads."""

    def profile(self, user: str) -> Profile | None: ...
    def save_profile(self, profile: Profile) -> None: ...
    def put_upload(self, ticket: UploadTicket) -> None: ...
    def upload(self, partner_id: str, upload_id: str) -> UploadTicket | None: ...
    def uploads(self, partner_id: str, cursor: str | None, limit: int) -> Page[UploadTicket]:
        """The partner's uploads, newest first, one page (a Query with Limit)."""
        ...

    def lines_page(
        self, partner_id: str, month: str | None, cursor: str | None, limit: int
    ) -> Page[SaleRecord]:
        """Up to `limit` accrual lines of the partner (with `month`: sold in it or accrued to it),
        reading at most a bounded number of items per call (never the whole partition)."""
        ...

    def redemptions_page(self, partner_id: str, cursor: str | None, limit: int) -> Page[Redemption]:
        """The partner's redemptions (by request id), one page (a Query with Limit)."""
        ...


class PortalLinks(Protocol):
    """Signed, short-lived links to the bucket (S3 presigned URLs)."""

    def download_url(self, key: str, filename: str, expires: int) -> str: ...
    def upload_form(
        self, partner_id: str, key: str, content_type: str, max_bytes: int, expires: int
    ) -> PostForm: ...
    def exists(self, key: str) -> bool: ...
    def keys(self, prefix: str) -> list[str]: ...
