"""The notifier's ports: its items (preferences, sent markers, suppressed addresses), the mail
service, and the partner registry it reads addresses from."""

from __future__ import annotations

from typing import Protocol

from loyalty.notify.model import Email, Prefs
from loyalty.program.registry import Partner

SENDING, SENT, FAILED, BOUNCED, SKIPPED = "sending", "sent", "failed", "bounced", "skipped"


class NotifyStore(Protocol):
    def prefs(self, partner_id: str) -> Prefs: ...
    def put_prefs(self, prefs: Prefs) -> None: ...

    def claim(self, partner_id: str, event_id: str, now: int, stale_after: int) -> bool:
        """Mark (partner, event) SENDING unless a marker is there (conditional write); a FAILED
        marker, or a SENDING one older than `stale_after` seconds (a crashed send), may be
        claimed again. True: this caller sends."""
        ...

    def settle(self, partner_id: str, event_id: str, state: str, detail: str = "") -> None: ...
    def marker(self, partner_id: str, event_id: str) -> str | None: ...
    def suppress(self, address: str, reason: str) -> None: ...
    def suppressed(self, address: str) -> str | None: ...


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Send; the service's message id. `MailRejected` when the address is refused."""
        ...


class PartnerDirectory(Protocol):
    def get_partner(self, partner_id: str) -> Partner | None: ...
