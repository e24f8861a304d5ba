"""The notifier: one topic event -> at most one email to the partner it concerns.

In order: is it a partner event (six kinds); does the partner exist and have an address; did it
turn this kind off; is its address suppressed (bounced or refused earlier); was this (event,
partner) sent already (a conditional SENDING marker: a duplicate delivery sends nothing twice).
Then the email in the partner's language (its saved choice, else its country's) goes out. A
refused or bounced address is recorded and suppressed, never an error; any other failure marks
the event FAILED and is raised so the queue delivers it again."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from loyalty.kernel.i18n import lang_for_country
from loyalty.kernel.ports import BlobStore, MissingBlob
from loyalty.notify.compose import MAX_ERRORS, compose
from loyalty.notify.model import ALL, UPLOAD_PROCESSED, MailRejected, PartnerEvent, Prefs, partner_event
from loyalty.notify.ports import BOUNCED, FAILED, SENT, SKIPPED, Mailer, NotifyStore, PartnerDirectory
from loyalty.notify.tokens import UnsubscribeTokens
from loyalty.program.registry import Partner

STALE_AFTER = 900  # seconds: a SENDING marker this old is a crashed send (Lambda timeout < this)


@dataclass(frozen=True)
class Outcome:
    """What the notifier did with one event: sent | duplicate | opted_out | suppressed |
    bounced | no_partner | ignored."""

    status: str
    partner_id: str = ""
    event_id: str = ""
    message_id: str = ""


class NotifyService:
    def __init__(
        self,
        store: NotifyStore,
        mailer: Mailer,
        partners: PartnerDirectory,
        tokens: UnsubscribeTokens,
        portal_url: str = "",
        reports: BlobStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.mailer, self.partners = store, mailer, partners
        self.tokens, self.portal_url, self.reports, self.clock = (
            tokens,
            portal_url.rstrip("/"),
            reports,
            clock,
        )

    # -- events ----------------------------------------------------------------------------------
    def handle(self, message: Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> Outcome:
        ev = partner_event(message, attributes or {})
        if ev is None:
            return Outcome("ignored")
        gate = self._gate(ev)
        if isinstance(gate, Outcome):
            return gate
        partner, prefs = gate
        if not self.store.claim(ev.partner_id, ev.event_id, int(self.clock()), STALE_AFTER):
            return Outcome("duplicate", ev.partner_id, ev.event_id)
        return self._send(ev, partner, prefs.lang or lang_for_country(partner.country))

    def _gate(self, ev: PartnerEvent) -> Outcome | tuple[Partner, Prefs]:
        """Why no email goes out (no address, opted out, suppressed), or to whom it goes."""
        pid, eid = ev.partner_id, ev.event_id
        partner = self.partners.get_partner(pid)
        if partner is None or not partner.email:
            return Outcome("no_partner", pid, eid)
        prefs = self.store.prefs(pid)
        if not prefs.wants(ev.kind):
            return Outcome("opted_out", pid, eid)
        if self.store.suppressed(partner.email):
            return Outcome("suppressed", pid, eid)
        return partner, prefs

    def _send(self, ev: PartnerEvent, partner: Partner, lang: str) -> Outcome:
        pid, eid = ev.partner_id, ev.event_id
        email = compose(
            ev,
            partner.email,
            partner.name,
            lang,
            self.portal_url,
            self.unsubscribe_url(pid, ev.kind),
            self._upload_errors(ev),
        )
        try:
            message_id = self.mailer.send(email)
        except MailRejected as exc:
            self.store.suppress(partner.email, f"rejected: {exc.reason}"[:300])
            self.store.settle(pid, eid, BOUNCED, exc.reason[:300])
            return Outcome("bounced", pid, eid)
        except Exception:
            self.store.settle(pid, eid, FAILED)
            raise
        self.store.settle(pid, eid, SENT, message_id)
        return Outcome("sent", pid, eid, message_id)

    def unsubscribe_url(self, partner_id: str, kind: str) -> str:
        if not self.portal_url:
            return ""
        return f"{self.portal_url}/email/unsubscribe?token={quote(self.tokens.make(partner_id, kind))}"

    def _upload_errors(self, ev: PartnerEvent) -> list[str]:
        """The first lines of an upload's error report (the uploader's own file)."""
        key = ev.data.get("errors_report")
        if ev.kind != UPLOAD_PROCESSED or not key or self.reports is None:
            return []
        try:
            with self.reports.open(str(key)) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                rows = csv.reader(text)
                head = next(rows, [])
                out = []
                for row in rows:
                    out.append("; ".join(f"{h}: {v}" for h, v in zip(head, row, strict=False) if v))
                    if len(out) >= MAX_ERRORS:
                        break
                return out
        except MissingBlob:
            return []

    # -- bounces and complaints (SES notifications) ---------------------------------------------
    def feedback(self, notification: Mapping[str, Any]) -> int:
        """An SES bounce or complaint notification: every address it names is suppressed
        (transient bounces are not: the next email may get through). Returns how many."""
        kind = str(notification.get("notificationType") or notification.get("eventType") or "")
        addresses: list[str] = []
        if kind == "Bounce":
            bounce = notification.get("bounce") or {}
            if bounce.get("bounceType") != "Transient":
                addresses = [r.get("emailAddress", "") for r in bounce.get("bouncedRecipients", [])]
        elif kind == "Complaint":
            addresses = [
                r.get("emailAddress", "")
                for r in (notification.get("complaint") or {}).get("complainedRecipients", [])
            ]
        for a in addresses:
            if a:
                self.store.suppress(a, kind.lower())
        return len([a for a in addresses if a])

    # -- preferences ------------------------------------------------------------------------------
    def unsubscribe(self, token: str) -> Prefs:
        """Turn off the kind a valid unsubscribe token names (idempotent). `InvalidToken` else."""
        partner_id, kind = self.tokens.read(token)
        prefs = self.store.prefs(partner_id)
        if kind == ALL or prefs.wants(kind):
            prefs = prefs.without(kind)
            self.store.put_prefs(prefs)
        return prefs

    def preferences(self, partner_id: str) -> Prefs:
        return self.store.prefs(partner_id)

    def set_preferences(self, partner_id: str, off: Sequence[str], lang: str = "") -> Prefs:
        prefs = Prefs.from_json(partner_id, {"off": list(off), "lang": lang})
        self.store.put_prefs(prefs)
        return prefs


__all__ = ["SKIPPED", "NotifyService", "Outcome"]
