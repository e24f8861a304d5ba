"""The partner portal's use cases behind one object: every call names the person (the JWT's
`Principal`) and the partner, is authorised first (`loyalty.portal.access`), and answers in the
caller's language (query, saved choice, Accept-Language, the partner's country, English)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from loyalty.close.statement_files import PdfUnavailable, StatementPdfs, statement_key
from loyalty.kernel.i18n import LANGS, Lang, accept_language, as_lang, choose_lang, lang_for_country
from loyalty.kernel.identity import Principal
from loyalty.kernel.periods import PERIOD_RE
from loyalty.kernel.ports import BlobStore, MissingBlob, Notifier
from loyalty.portal import account, activity, rewards
from loyalty.portal.access import authorize
from loyalty.portal.errors import PortalError
from loyalty.portal.paging import MAX_LIMIT
from loyalty.portal.ports import PortalLinks, PortalRecords, Profile
from loyalty.portal.reads import PortalStore, Standing, standing


class PortalService:
    def __init__(
        self,
        store: PortalStore,
        blobs: BlobStore,
        records: PortalRecords,
        links: PortalLinks,
        clock: Callable[[], dt.datetime],
        max_upload_bytes: int,
        notifier: Notifier | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.records = records
        self.links = links
        self.clock = clock
        self.max_upload_bytes = max_upload_bytes
        self.notifier = notifier

    # -- who and in which language ------------------------------------------------------------
    def today(self) -> dt.date:
        return self.clock().date()

    def registered_for(self, partner_id: str) -> tuple[str, ...]:
        p = self.store.get_partner(partner_id)
        return p.distributor_for if p else ()

    def check(self, who: Principal, partner_id: str, write: bool = False) -> Standing:
        authorize(who, partner_id, write, self.registered_for)
        return standing(self.store, partner_id, self.today())

    def lang(self, who: Principal, query: str | None, header: str | None) -> Lang:
        """`?lang=`, else the user's saved language, else Accept-Language, else the language of
        the caller's partner's country, else English."""
        if as_lang(query, default="") in LANGS:  # type: ignore[arg-type]
            return as_lang(query)
        saved = self.records.profile(who.user)
        country = ""
        if (saved is None or not saved.lang) and accept_language(header) is None and who.partner_id:
            p = self.store.get_partner(who.partner_id)
            country = p.country if p else ""
        return choose_lang(
            saved.lang if saved else None,
            accept_language(header),
            lang_for_country(country) if country else None,
        )

    # -- profile --------------------------------------------------------------------------------
    def me(self, who: Principal, lang: Lang) -> dict[str, Any]:
        saved = self.records.profile(who.user)
        out: dict[str, Any] = {
            "user": who.user,
            "email": who.email,
            "groups": sorted(who.groups),
            "lang": lang,
            "saved_lang": saved.lang if saved and saved.lang else None,
            "partner": None,
        }
        if who.is_partner and who.partner_id and self.store.get_partner(who.partner_id) is not None:
            st = standing(self.store, who.partner_id, self.today())
            p = st.partner
            out["partner"] = {
                "partner_id": p.partner_id,
                "name": p.name,
                "segment": p.segment,
                "country": p.country,
                "tier": st.tier,
                "distributor_for": list(p.distributor_for),
            }
        return out

    def set_lang(self, who: Principal, lang: str) -> dict[str, Any]:
        chosen = as_lang(lang, default="")  # type: ignore[arg-type]
        if chosen not in LANGS:
            raise PortalError(400, f"lang must be one of {', '.join(LANGS)}", [{"field": "lang"}])
        self.records.save_profile(Profile(who.user, chosen, self.clock().isoformat(timespec="seconds")))
        return self.me(who, chosen)

    # -- the partner's pages ----------------------------------------------------------------------
    def balance(self, who: Principal, pid: str, lang: Lang) -> dict[str, Any]:
        return account.balance(self.store, self.check(who, pid), self.today(), lang)

    def earnings(self, who: Principal, pid: str, months: int, lang: Lang) -> dict[str, Any]:
        return account.earnings(self.store, self.check(who, pid), months, lang)

    def tier(self, who: Principal, pid: str, lang: Lang) -> dict[str, Any]:
        return account.tier(self.store, self.check(who, pid), lang)

    def lines(
        self, who: Principal, pid: str, month: str | None, cursor: str | None, limit: int, lang: Lang
    ) -> dict[str, Any]:
        self.check(who, pid)
        return activity.lines(self.records, pid, month, cursor, min(limit, MAX_LIMIT), lang)

    def statements(self, who: Principal, pid: str, lang: Lang) -> dict[str, Any]:
        self.check(who, pid)
        return activity.statements(self.links, pid, lang)

    def statement(self, who: Principal, pid: str, period: str, fmt: str) -> dict[str, Any]:
        """A download link; a PDF is rendered from the statement's page on its first download
        (docs/statements.md: rendering every PDF at the close would cost hours of CPU)."""
        self.check(who, pid)
        # a PDF already rendered is only linked (ensure() would download it to see it is there)
        if (
            fmt == "pdf"
            and PERIOD_RE.match(period)
            and not self.links.exists(statement_key(pid, period, "pdf"))
        ):
            try:
                StatementPdfs(self.blobs).ensure(pid, period)
            except MissingBlob:
                pass  # no statement that month: the link's 404 below says so
            except PdfUnavailable as exc:
                raise PortalError(503, str(exc)) from None
        return activity.statement_link(self.links, pid, period, fmt)

    def targets(self, who: Principal, pid: str, lang: Lang) -> dict[str, Any]:
        return rewards.targets(self.store, self.check(who, pid), lang)

    def points(self, who: Principal, pid: str, lang: Lang) -> dict[str, Any]:
        return rewards.points(self.store, self.check(who, pid), self.today(), lang)

    def points_history(self, who: Principal, pid: str, cursor: str | None, lang: Lang) -> dict[str, Any]:
        self.check(who, pid)
        return rewards.history(self.store, pid, cursor, self.today(), lang)

    def catalog(self, who: Principal, pid: str, lang: Lang) -> dict[str, Any]:
        return rewards.catalog(self.store, self.check(who, pid), self.today(), lang)

    def redeem(self, who: Principal, pid: str, reward_id: str, key: str | None) -> tuple[int, dict[str, Any]]:
        self.check(who, pid, write=True)
        if not key:
            raise PortalError(400, "the Idempotency-Key header is required", [{"field": "Idempotency-Key"}])
        return rewards.redeem(self.store, self.notifier, self.clock, pid, reward_id, key)

    def redemptions(self, who: Principal, pid: str, cursor: str | None, limit: int) -> dict[str, Any]:
        self.check(who, pid)
        return rewards.redemptions(self.records, pid, cursor, min(limit, MAX_LIMIT))

    def rank(self, who: Principal, pid: str, lang: Lang) -> dict[str, Any]:
        return rewards.rank(self.store, self.blobs, self.check(who, pid), lang)

    def start_upload(
        self, who: Principal, pid: str, filename: str, content_type: str, size: int
    ) -> dict[str, Any]:
        self.check(who, pid, write=True)
        t = activity.new_ticket(
            pid, who.user, filename, content_type, size, self.max_upload_bytes, self.clock()
        )
        form = self.links.upload_form(
            pid, t.key, t.content_type, self.max_upload_bytes, activity.UPLOAD_SECONDS
        )
        self.records.put_upload(t)
        return {
            "upload_id": t.upload_id,
            "key": t.key,
            "url": form.url,
            "fields": form.fields,
            "max_bytes": self.max_upload_bytes,
            "expires_in": activity.UPLOAD_SECONDS,
        }

    def uploads(self, who: Principal, pid: str, cursor: str | None, limit: int) -> dict[str, Any]:
        self.check(who, pid)
        page = self.records.uploads(pid, cursor, min(limit, 50))
        return {
            "partner_id": pid,
            "uploads": [activity.report(self.blobs, self.links, t) for t in page.items],
            "cursor": page.cursor,
        }

    def upload(self, who: Principal, pid: str, upload_id: str) -> dict[str, Any]:
        self.check(who, pid)
        t = self.records.upload(pid, upload_id)
        if t is None:
            raise PortalError(404, f"no upload {upload_id}")
        return activity.report(self.blobs, self.links, t)
