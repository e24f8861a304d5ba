"""Opaque list cursors: the last key a page returned, bound to the list it came from (partner and
filter), so a cursor of one list is refused by another (400, not another partner's page)."""

from __future__ import annotations

import base64
import binascii
import json

MAX_LIMIT = 200


class BadCursor(ValueError):
    """A cursor this list did not hand out (or one for another partner or filter)."""


def encode_cursor(scope: str, key: str) -> str:
    raw = json.dumps({"s": scope, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(scope: str, cursor: str | None) -> str | None:
    """The key a cursor continues after (None: the first page); BadCursor if it is not this list's."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("the cursor is not one this list handed out") from None
    if not isinstance(doc, dict) or doc.get("s") != scope or not isinstance(doc.get("k"), str):
        raise BadCursor("the cursor belongs to another list (partner or filter)")
    return str(doc["k"])


# a page reads at most this many items (plus one page's worth) however few of them match a filter
READ_BUDGET = 1000


def lines_scope(partner_id: str, month: str | None) -> str:
    return f"lines:{partner_id}:{month or ''}"


def uploads_scope(partner_id: str) -> str:
    return f"uploads:{partner_id}"


def redemptions_scope(partner_id: str) -> str:
    return f"redemptions:{partner_id}"


def in_month(sold_at: str, period: str, month: str | None) -> bool:
    """A line of `month`: sold in it, or accrued to it (sold in a month closed before it came)."""
    return month is None or sold_at.startswith(month) or period == month
