"""The partner's money and standing: balance by state, monthly earnings, tier and progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from loyalty.close.position import PositionService
from loyalty.close.tiers import qualifying_tier, trailing_net
from loyalty.kernel.i18n import Lang, percent_text
from loyalty.kernel.money import ZERO
from loyalty.kernel.periods import months_back
from loyalty.portal.reads import PortalStore, Standing
from loyalty.portal.texts import day, money, period, say

AFTER_EVERY_PERIOD = "9999-12"
MAX_MONTHS = 24


def balance(store: PortalStore, st: Standing, today: dt.date, lang: Lang) -> dict[str, Any]:
    """Provisional / held / payable / paid / carried (`loyalty.close.position`), with the minimum
    payout and holding period of the rules in effect for the partner today."""
    pos = PositionService(store).position(st.partner.partner_id, today)
    cur = st.rules.currency if st.rules else "EUR"
    minimum = st.rules.minimum_payout_eur if st.rules else Decimal(50)
    holding = st.rules.holding_days if st.rules else 30
    return {
        "partner_id": st.partner.partner_id,
        "as_of": day(pos.as_of, lang),
        "last_close": period(pos.last_close, lang) if pos.last_close else None,
        "provisional": money(pos.provisional, cur, lang),
        "held": money(pos.held, cur, lang),
        "payable": money(pos.payable, cur, lang),
        "paid": money(pos.paid, cur, lang),
        "carried": money(pos.carried, cur, lang),
        "minimum_payout": money(minimum, cur, lang),
        "holding_days": holding,
        "below_minimum": ZERO < pos.payable < minimum,
        "rule_version": st.rules.version if st.rules else None,
        "explain": {
            "holding": say("holding", lang, days=holding),
            "minimum": say("minimum", lang, amount=money(minimum, cur, lang)["text"]),
        },
    }


def earnings(store: PortalStore, st: Standing, months: int, lang: Lang) -> dict[str, Any]:
    """Commission (month totals), bonuses, overrides and points (the committed closes) of the last
    `months` months, oldest first: one Query (`close_facts`), no accrual line read."""
    pid = st.partner.partner_id
    totals, closes = store.close_facts(pid, AFTER_EVERY_PERIOD, history=months)
    by_month = {m.month: m for m in totals}
    by_close = {c.period: c for c in closes}
    cur = st.rules.currency if st.rules else "EUR"
    out = []
    for m in months_back(st.month, months):
        t, c = by_month.get(m), by_close.get(m)
        out.append(
            {
                **period(m, lang),
                "closed": c is not None,
                "net_sales": money(t.net_eur if t else ZERO, cur, lang),
                "commission": money(t.commission if t else ZERO, cur, lang),
                "bonus": money(c.bonus_eur if c else ZERO, cur, lang),
                "override": money(c.override_eur if c else ZERO, cur, lang),
                "payout": money(c.payout if c else ZERO, cur, lang),
                "points": c.points_month + c.points_courses if c else 0,
            }
        )
    return {"partner_id": pid, "currency": cur, "months": out}


def tier(store: PortalStore, st: Standing, lang: Lang) -> dict[str, Any]:
    """The tier this month, the next one and the way there: trailing net sales of the review
    window (months M-w+1..M, month to date) against its threshold, and its certifications."""
    pid = st.partner.partner_id
    rules = st.rules
    if rules is None:
        return {"partner_id": pid, "tier": st.tier, "next_tier": None, "progress": None, "text": ""}
    names = [t.name for t in rules.tiers]
    window = rules.tier_review.window_months
    net = {m.month: m.net_eur for m in store.month_totals(pid)}
    trailing = trailing_net(net, st.month, window)
    certified = st.partner.certifications
    qualifying, why = qualifying_tier(rules, trailing, certified)
    rank = names.index(st.tier) if st.tier in names else 0
    nxt = rules.tiers[rank + 1] if rank + 1 < len(rules.tiers) else None
    cur = rules.currency
    body: dict[str, Any] = {
        "partner_id": pid,
        "tier": st.tier,
        "rank": rank + 1,
        "tiers": names,
        "window_months": window,
        "trailing_net_sales": money(trailing, cur, lang),
        "qualifying": qualifying,
        "qualifying_reason": why,
        "rule_version": rules.version,
        "next_tier": nxt.name if nxt else None,
    }
    if nxt is None:
        return {**body, "progress": None, "certifications": [], "text": say("top_tier", lang)}
    to_go = max(nxt.threshold_eur - trailing, ZERO)
    ratio = min(Decimal(1), trailing / nxt.threshold_eur) if nxt.threshold_eur else Decimal(1)
    ratio = max(ratio, ZERO).quantize(Decimal("0.0001"))
    need = sorted(nxt.requires_certifications.items())
    certs = [{"course": c, "need": n, "have": certified.get(c, 0)} for c, n in need]
    texts = [say("to_next", lang, amount=money(to_go, cur, lang)["text"], months=window, tier=nxt.name)]
    texts += [
        say("certs", lang, tier=nxt.name, need=n, course=c, have=certified.get(c, 0))
        for c, n in need
        if certified.get(c, 0) < n
    ]
    return {
        **body,
        "next_threshold": money(nxt.threshold_eur, cur, lang),
        "to_go": money(to_go, cur, lang),
        "progress": {"ratio": f"{ratio:f}", "text": percent_text(ratio, lang)},
        "certifications": certs,
        "text": " ".join(texts),
    }
