"""In-memory notifier items and a mail service that keeps what it sends (tests, simulations)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from loyalty.notify.model import Email, MailRejected, Prefs, address_key
from loyalty.notify.ports import FAILED, SENDING


@dataclass
class MemoryNotifyStore:
    prefs_by_partner: dict[str, Prefs] = field(default_factory=dict)
    markers: dict[tuple[str, str], tuple[str, int, str]] = field(default_factory=dict)  # state, at, detail
    blocked: dict[str, str] = field(default_factory=dict)  # address key -> reason

    def prefs(self, partner_id: str) -> Prefs:
        return self.prefs_by_partner.get(partner_id, Prefs(partner_id))

    def put_prefs(self, prefs: Prefs) -> None:
        self.prefs_by_partner[prefs.partner_id] = prefs

    def claim(self, partner_id: str, event_id: str, now: int, stale_after: int) -> bool:
        found = self.markers.get((partner_id, event_id))
        if found is not None:
            state, at, _ = found
            if not (state == FAILED or (state == SENDING and at < now - stale_after)):
                return False
        self.markers[(partner_id, event_id)] = (SENDING, now, "")
        return True

    def settle(self, partner_id: str, event_id: str, state: str, detail: str = "") -> None:
        _, at, _ = self.markers.get((partner_id, event_id), ("", 0, ""))
        self.markers[(partner_id, event_id)] = (state, at, detail)

    def marker(self, partner_id: str, event_id: str) -> str | None:
        found = self.markers.get((partner_id, event_id))
        return found[0] if found else None

    def suppress(self, address: str, reason: str) -> None:
        self.blocked.setdefault(address_key(address), reason)

    def suppressed(self, address: str) -> str | None:
        return self.blocked.get(address_key(address))


@dataclass
class MemoryMailer:
    """Keeps every email; addresses in `rejects` are refused (as SES MessageRejected)."""

    sent: list[Email] = field(default_factory=list)
    rejects: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, email: Email) -> str:
        if email.to in self.rejects:
            raise MailRejected(email.to, "Address blacklisted.")
        self.sent.append(email)
        return f"mem-{next(self._ids):06d}"
