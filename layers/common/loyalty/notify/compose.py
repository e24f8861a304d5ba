"""An event's email in the partner's language: the words of `notify.words`, figures by Babel,
rendered by the Jinja2 templates `templates/email.html` (autoescaped) and `email.txt`. Only the
partner's own data goes in: its name, its figures, its links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2

from loyalty.kernel.i18n import Lang, as_lang, date_text, money_text, number_text, percent_text, period_text
from loyalty.notify.model import (
    PAYOUT_SENT,
    POINTS_EXPIRING,
    STATEMENT_READY,
    TARGET_REACHED,
    TIER_CHANGED,
    UPLOAD_PROCESSED,
    Email,
    PartnerEvent,
)
from loyalty.notify.words import WORDS

MAX_ERRORS = 5  # error lines an upload email lists (the report has them all)


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("loyalty.notify", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _period(value: Any, lang: Lang) -> str:
    try:
        return period_text(str(value), lang)
    except ValueError:
        return str(value)


def _day(value: Any, lang: Lang) -> str:
    try:
        return date_text(dt.date.fromisoformat(str(value)[:10]), lang)
    except ValueError:
        return str(value)


def _fields(ev: PartnerEvent, lang: Lang) -> dict[str, str]:
    d = ev.data
    if ev.kind in (STATEMENT_READY, PAYOUT_SENT):
        return {
            "period": _period(d.get("period"), lang),
            "amount": money_text(_dec(d.get("amount_eur")), "EUR", lang),
        }
    if ev.kind == TIER_CHANGED:
        return {
            "to": str(d.get("to", "")),
            "from_": str(d.get("from", "")),
            "month": _period(d.get("applies_from"), lang),
        }
    if ev.kind == UPLOAD_PROCESSED:
        return {
            "file": str(d.get("key", "")).rsplit("/", 1)[-1],
            **{k: number_text(int(d.get(k) or 0), lang) for k in ("rows", "accepted", "rejected", "held")},
        }
    if ev.kind == TARGET_REACHED:
        money = str(d.get("metric", "")).startswith("net_sales")

        def fig(x: Any) -> str:
            return money_text(_dec(x), "EUR", lang) if money else number_text(_dec(x), lang)

        return {
            "target": str(d.get("target_id", "")),
            "interval": str(d.get("interval", "")),
            "actual": fig(d.get("actual")),
            "goal": fig(d.get("goal_total")),
            "pct": percent_text(_dec(d.get("attainment")), lang, 1),
        }
    if ev.kind == POINTS_EXPIRING:
        return {
            "points": number_text(int(d.get("points") or 0), lang),
            "date": _day(d.get("first_expiry"), lang),
        }
    return {}


def links(ev: PartnerEvent, portal_url: str) -> tuple[str, str]:
    """(the email's action link, its words key): the statement or the upload report on the
    portal's partner page (`/partner`, the page the web shell serves)."""
    base = portal_url.rstrip("/")
    if not base:
        return "", ""
    if ev.kind == STATEMENT_READY:
        return (
            f"{base}/partner?statement={quote(str(ev.data.get('period', '')))}#statements",
            "statement_ready.action",
        )
    if ev.kind == UPLOAD_PROCESSED:
        return (
            f"{base}/partner?upload={quote(str(ev.data.get('upload_id', '')))}#uploads",
            "upload_processed.action",
        )
    return f"{base}/partner", "portal"


def compose(
    ev: PartnerEvent,
    to: str,
    name: str,
    lang: str,
    portal_url: str = "",
    unsubscribe_url: str = "",
    errors: Sequence[str] = (),
) -> Email:
    lg = as_lang(lang)
    w = WORDS[lg]
    f = _fields(ev, lg)
    paragraphs = [w[f"{ev.kind}.body"].format(**f)]
    items: list[str] = []
    if ev.kind == UPLOAD_PROCESSED:
        problem = ev.data.get("file_error")
        if isinstance(problem, Mapping) and problem.get("message"):
            paragraphs.append(w["upload_processed.file_error"].format(error=problem["message"]))
        if errors:
            paragraphs.append(w["upload_processed.errors"])
            items = list(errors[:MAX_ERRORS])
    url, action = links(ev, portal_url)
    ctx = {
        "lang": lg,
        "subject": w[f"{ev.kind}.subject"].format(**f),
        "hello": w["hello"].format(name=name),
        "paragraphs": paragraphs,
        "items": items,
        "action_url": url,
        "action": w[action] if action else "",
        "footer": w["footer"],
        "unsubscribe": w["unsubscribe"],
        "unsubscribe_url": unsubscribe_url,
    }
    env = _env()
    return Email(
        to=to,
        subject=str(ctx["subject"]),
        text=env.get_template("email.txt").render(ctx),
        html=env.get_template("email.html").render(ctx),
        lang=lg,
        kind=ev.kind,
        partner_id=ev.partner_id,
        event_id=ev.event_id,
        unsubscribe_url=unsubscribe_url,
    )
