"""What the notifier works with: the kinds of email a partner receives, a partner's preferences,
the event an email answers, and the email itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATEMENT_READY = "statement_ready"
PAYOUT_SENT = "payout_sent"
TIER_CHANGED = "tier_changed"
UPLOAD_PROCESSED = "upload_processed"
TARGET_REACHED = "target_reached"
POINTS_EXPIRING = "points_expiring"
KINDS: tuple[str, ...] = (
    STATEMENT_READY,
    PAYOUT_SENT,
    TIER_CHANGED,
    UPLOAD_PROCESSED,
    TARGET_REACHED,
    POINTS_EXPIRING,
)
ALL = "all"  # an unsubscribe from every kind


@dataclass(frozen=True)
class Prefs:
    """A partner's email preferences: the kinds it turned off (at most the six kinds: a bounded
    item) and the language it chose ("" = its country's)."""

    partner_id: str
    off: frozenset[str] = frozenset()
    lang: str = ""

    def __post_init__(self) -> None:  # only known kinds: the stored item stays bounded
        object.__setattr__(self, "off", frozenset(k for k in self.off if k in (*KINDS, ALL)))

    def wants(self, kind: str) -> bool:
        return ALL not in self.off and kind not in self.off

    def without(self, kind: str) -> Prefs:
        kinds = {ALL} if kind == ALL else {kind} & set(KINDS)
        return Prefs(self.partner_id, frozenset(self.off | kinds), self.lang)

    def to_json(self) -> dict[str, Any]:
        return {"off": sorted(self.off), "lang": self.lang}

    @classmethod
    def from_json(cls, partner_id: str, d: Mapping[str, Any]) -> Prefs:
        off = frozenset(str(k) for k in d.get("off", ()) if k in (*KINDS, ALL))
        return cls(partner_id, off, str(d.get("lang") or ""))


@dataclass(frozen=True)
class PartnerEvent:
    """One event of the events topic that a partner may hear of."""

    kind: str
    partner_id: str
    event_id: str  # the same fact has the same id, however often it is published or delivered
    data: Mapping[str, Any]


def _digest(message: Mapping[str, Any]) -> str:
    canon = json.dumps(message, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode()).hexdigest()[:32]


def event_id(kind: str, partner_id: str, m: Mapping[str, Any]) -> str:
    """The id of the fact an email reports: a statement of a period, a payout of a period, a tier
    from a month, an upload, a target of an interval (reached once), points expiring of a close.
    A re-run close step or a duplicate SNS delivery gives the same id."""
    keys = {
        STATEMENT_READY: ("period",),
        PAYOUT_SENT: ("period",),
        TIER_CHANGED: ("applies_from", "to"),
        UPLOAD_PROCESSED: ("upload_id",),
        TARGET_REACHED: ("target_id", "interval"),
        POINTS_EXPIRING: ("period",),
    }[kind]
    parts = [str(m.get(k) or "") for k in keys]
    if not all(parts):
        return f"{kind}:{_digest(m)}"
    return ":".join([kind, *parts])


def partner_event(message: Mapping[str, Any], attributes: Mapping[str, str]) -> PartnerEvent | None:
    """The partner event a topic message carries, or None (finance and ops events, points
    earned...: no email)."""
    kind = str(message.get("type") or attributes.get("type") or "")
    if kind not in KINDS:
        return None
    pid = str(message.get("partner_id") or attributes.get("partner") or message.get("uploader") or "")
    if not pid or pid == "unknown":
        return None
    return PartnerEvent(kind, pid, event_id(kind, pid, message), message)


@dataclass(frozen=True)
class Email:
    """One email to one partner."""

    to: str
    subject: str
    text: str
    html: str
    lang: str
    kind: str
    partner_id: str
    event_id: str
    unsubscribe_url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class MailRejected(Exception):
    """The mail service refused the message for this address (SES MessageRejected) or the
    address bounced: later emails to it are suppressed."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"{address}: {reason}")
        self.address, self.reason = address, reason


def address_key(address: str) -> str:
    """An address as stored in a suppression key: hashed (no address in a key or a log)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()
