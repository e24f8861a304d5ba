"""What the partner did and got: accrual lines with their trace (paged), statements to download,
and its uploads with their validation reports."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any

from loyalty.earning.records import SaleRecord, basis_text
from loyalty.ingest.keys import INCOMING, report_base
from loyalty.kernel.i18n import Lang
from loyalty.kernel.periods import PERIOD_RE
from loyalty.kernel.ports import BlobStore, MissingBlob
from loyalty.portal.errors import PortalError
from loyalty.portal.ports import PortalLinks, PortalRecords, UploadTicket
from loyalty.portal.texts import money, period

LINK_SECONDS = 300  # presigned downloads live 5 minutes
UPLOAD_SECONDS = 900  # a presigned upload form lives 15 minutes
FORMATS = ("html", "csv", "pdf")
CONTENT_TYPES = ("text/csv", "application/vnd.ms-excel", "text/plain")
_UNSAFE = re.compile(r"[^\w.\-]+")
# the partner upload role's session is named partner-<id> (STS: [\w+=,.@-], at most 64 characters)
_SESSION = re.compile(r"^[\w+=,.@-]{1,56}$", re.ASCII)


# -- accrual lines --------------------------------------------------------------------------
def line_json(r: SaleRecord, lang: Lang) -> dict[str, Any]:
    """A line and every figure of its calculation (what the statement shows)."""
    return {
        "sale_id": r.sale_id,
        "sold_at": r.sold_at,
        "sku": r.sku,
        "category": r.category,
        "quantity": r.quantity,
        "amount": money(r.net, r.currency, lang),
        "fx": None if r.fx_rate is None else {"rate": f"{r.fx_rate:f}", "date": r.fx_date},
        "amount_eur": money(r.net_eur, "EUR", lang),
        "tier": r.tier,
        "rate_pct": f"{(r.rate * 100).normalize():f}",
        "rule_version": r.rule_version,
        "basis": r.rate_basis,
        "basis_text": basis_text(r.rate_basis, r.tier, r.month, r.matched or r.original_sale_id),
        "commission": money(r.commission, "EUR", lang),
        "status": r.status,
        "period": r.period or r.month,
        "trace": r.trace(),
    }


def lines(
    records: PortalRecords, partner_id: str, month: str | None, cursor: str | None, limit: int, lang: Lang
) -> dict[str, Any]:
    page = records.lines_page(partner_id, month, cursor, limit)
    return {
        "partner_id": partner_id,
        "month": month,
        "lines": [line_json(r, lang) for r in page.items],
        "cursor": page.cursor,
    }


# -- statements -----------------------------------------------------------------------------
def statement_keys(partner_id: str, period_: str, fmt: str) -> list[str]:
    """Where the close writes a statement (`loyalty.close.steps`: statements/<pid>/<P>.<fmt>);
    a PDF may also sit in the close's own folder (close/<P>/statements/<pid>.pdf)."""
    return [f"statements/{partner_id}/{period_}.{fmt}"]


def statements(links: PortalLinks, partner_id: str, lang: Lang) -> dict[str, Any]:
    """The partner's statements, newest first, with the formats they can be downloaded in (one
    listing of its own folder: a few keys a month). A statement's page can always be had as a
    PDF too: it is rendered on its first download."""
    found: dict[str, set[str]] = {}
    prefix = f"statements/{partner_id}/"
    for key in links.keys(prefix):
        name = key[len(prefix) :]
        p, _, fmt = name.partition(".")
        if PERIOD_RE.match(p) and fmt in FORMATS:
            found.setdefault(p, set()).update({fmt, "pdf"} if fmt == "html" else {fmt})
    return {
        "partner_id": partner_id,
        "statements": [
            {**period(p, lang), "formats": [f for f in FORMATS if f in found[p]]}
            for p in sorted(found, reverse=True)
        ],
    }


def statement_link(links: PortalLinks, partner_id: str, period_: str, fmt: str) -> dict[str, Any]:
    if not PERIOD_RE.match(period_):
        raise PortalError(400, "period must be YYYY-MM", [{"field": "period", "reason": "not YYYY-MM"}])
    if fmt not in FORMATS:
        raise PortalError(400, f"format must be one of {', '.join(FORMATS)}", [{"field": "format"}])
    for key in statement_keys(partner_id, period_, fmt):
        if links.exists(key):
            name = f"statement-{partner_id}-{period_}.{fmt}"
            return {
                "url": links.download_url(key, name, LINK_SECONDS),
                "format": fmt,
                "expires_in": LINK_SECONDS,
            }
    raise PortalError(404, f"no {fmt.upper()} statement of {period_} for partner {partner_id}")


# -- uploads --------------------------------------------------------------------------------
def safe_name(filename: str) -> str:
    """The file's name as an object key part: letters, digits, `.`, `-`, `_` only; a `.csv`
    (the sales file contract: ingest accepts `incoming/<partner>/<name>.csv`, nothing else)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, ext = base.rpartition(".")
    if not dot or ext.lower() != "csv" or not stem.strip(". "):
        raise PortalError(
            400, "the file must be a .csv sales file", [{"field": "filename", "reason": "not .csv"}]
        )
    clean = _UNSAFE.sub("_", stem).strip("._")[:100] or "upload"
    return f"{clean}.csv"


def new_ticket(
    partner_id: str, user: str, filename: str, content_type: str, size: int, max_bytes: int, now: dt.datetime
) -> UploadTicket:
    if content_type not in CONTENT_TYPES:
        raise PortalError(
            400,
            f"content type {content_type!r} is not accepted: {', '.join(CONTENT_TYPES)}",
            [{"field": "content_type", "reason": "not allowed"}],
        )
    if size < 1 or size > max_bytes:
        raise PortalError(
            400,
            f"the file must be 1 to {max_bytes} bytes, not {size}",
            [{"field": "size", "reason": f"1..{max_bytes}"}],
        )
    if not _SESSION.match(partner_id):
        raise PortalError(
            400, f"partner id {partner_id!r} cannot sign a portal upload (use the partner's S3 folder)"
        )
    name = safe_name(filename)
    upload_id = f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    key = f"{INCOMING}{partner_id}/{upload_id}_{name}"
    return UploadTicket(partner_id, upload_id, key, filename[:200], content_type, size, user, now.isoformat())


def report(blobs: BlobStore, links: PortalLinks, t: UploadTicket) -> dict[str, Any]:
    """The upload and, once ingest has processed it, its validation report (summary and the
    errors report's link)."""
    out: dict[str, Any] = {
        "upload_id": t.upload_id,
        "filename": t.filename,
        "key": t.key,
        "size": t.size,
        "created_at": t.created_at,
        "status": "pending",
        "report": None,
        "errors_url": None,
    }
    base = report_base(t.key)
    try:
        summary = json.loads(blobs.get(base + ".summary.json"))
    except MissingBlob:
        return out
    out["status"] = summary.get("status", "processed")
    out["report"] = {
        k: summary.get(k)
        for k in (
            "rows",
            "accepted",
            "rejected",
            "held",
            "new",
            "replaced",
            "reconciled",
            "file_error",
            "totals",
            "late",
        )
        if k in summary
    }
    errors = summary.get("errors_report")
    if errors:
        out["errors_url"] = links.download_url(str(errors), f"{t.upload_id}-errors.csv", LINK_SECONDS)
    return out
