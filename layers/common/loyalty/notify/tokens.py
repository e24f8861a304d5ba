"""Unsubscribe links: `<partner>|<kind>` signed with HMAC-SHA256 (key: the notifier's
UNSUBSCRIBE_KEY). A token says only who and which kind; it expires never (an old email's link
still works) and can do one thing: turn that kind off for that partner."""

from __future__ import annotations

import base64
import hashlib
import hmac

from loyalty.notify.model import ALL, KINDS


class InvalidToken(ValueError):
    """A token that was not made with this key, or names no partner and kind."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the unsubscribe key must have at least 16 bytes")
        self.key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()[:20]

    def make(self, partner_id: str, kind: str) -> str:
        payload = f"{partner_id}|{kind}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def read(self, token: str) -> tuple[str, str]:
        """(partner id, kind) of a valid token; `InvalidToken` otherwise."""
        try:
            body, mac = token.split(".", 1)
            payload = _unb64(body)
            ok = hmac.compare_digest(self._mac(payload), _unb64(mac))
            partner_id, kind = payload.decode().split("|", 1)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidToken("not an unsubscribe token") from exc
        if not ok or not partner_id or kind not in (*KINDS, ALL):
            raise InvalidToken("not an unsubscribe token")
        return partner_id, kind
