"""A partner's statement as people open it: an autoescaped Jinja2 page in the partner's language
(Babel amounts, dates and periods), with the calculation of every line, the totals, the tier
progress, targets, bonuses and the engagement sections; and its PDF (WeasyPrint, as the
certificates are made). The portal download, the emailed link and the close all serve this one
template. docs/statements.md."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import jinja2

from loyalty.close.review import CloseLine
from loyalty.close.statement_lines import Section, StatementLine
from loyalty.close.statement_words import WORDS, section_word
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.kernel.i18n import Lang, as_lang, date_text, money_text, number_text, percent_text, period_text
from loyalty.kernel.money import ZERO, to_cents

EUR = "EUR"
TIMES = "\N{MULTIPLICATION SIGN}"


@dataclass(frozen=True)
class TierStep:
    """A tier of the partner's rule version: its name and trailing-sales threshold (EUR)."""

    name: str
    threshold_eur: Decimal


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("loyalty.close", "templates"),
        autoescape=True,  # names, SKUs and ids come from partner files: always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=4096)  # a statement repeats its rates and amounts: Babel is the cost
def _pct(ratio: Decimal, lang: Lang) -> str:
    """A rate as a percentage with the digits it has (0.045 -> 4.5 %, 0.02 -> 2 %)."""
    exp = (ratio * 100).normalize().as_tuple().exponent
    digits = -exp if isinstance(exp, int) and exp < 0 else 0
    return percent_text(ratio, lang, digits)


@lru_cache(maxsize=8192)
def _money(amount: Decimal, lang: Lang, currency: str = EUR) -> str:
    return money_text(to_cents(amount), currency, lang)


def _date(iso: str, lang: Lang) -> str:
    try:
        return date_text(dt.date.fromisoformat(iso[:10]), lang)
    except ValueError:
        return iso


def line_trace(s: StatementLine, lang: Lang) -> str:
    """How a line's commission was computed, in words and figures the partner can check:
    `100,00 $ ÷ 1,1 (1 авг. 2026 г.) = 90,91 € x 2% (Bronze, 2026.1, ...) = 1,82 €` (x: the
    multiplication sign)."""
    w = WORDS[lang]
    parts = []
    if s.fx_rate is not None and s.currency != EUR:
        fx_day = f" ({_date(s.fx_date, lang)})" if s.fx_date else ""
        parts.append(f"{money_text(s.amount, s.currency, lang)} ÷ {number_text(s.fx_rate, lang)}{fx_day} = ")
    basis = w["basis_original"] if s.basis == "original" else w["basis_month"]
    parts.append(
        f"{_money(s.amount_eur, lang)} {TIMES} {_pct(s.rate, lang)} ({s.tier}, {s.rule_version}, {basis})"
        f" = {_money(s.commission, lang)}"
    )
    return "".join(parts)


def _summary(line: CloseLine, lang: Lang) -> list[tuple[str, str]]:
    w = WORDS[lang]
    change = w.get(f"change_{line.tier_change}", line.tier_change)
    held = sum((Decimal(p[2]) for p in line.program_pending), ZERO)
    return [
        (w["partner"], f"{line.partner_id} {line.name}"),
        (w["period"], period_text(line.period, lang)),
        (w["net_sales"], _money(line.net_sales, lang)),
        (w["trailing"], _money(line.trailing, lang)),
        (w["new_customers"], number_text(line.new_customers, lang)),
        (w["returns_rate"], percent_text(line.returns_rate, lang, 2)),
        (w["tier_now"], line.tier_before),
        (w["tier_next"], f"{line.tier_after} ({change}: {line.tier_reason})"),
        (w["progress"], line.progress),
        (w["carried_in"], _money(line.carried_in, lang)),
        (w["matured_now"], _money(line.matured_now, lang)),
        (w["payout"], _money(line.payout, lang)),
        (w["carried_out"], _money(line.carried_out, lang)),
        (w["payout_note"], line.payout_reason),
        (w["rule_version_row"], line.rule_version),
        (w["bonus"], _money(line.bonus_eur, lang)),
        (w["override"], _money(line.override_eur, lang)),
        (w["commission_matured"], _money(line.commission_matured_now, lang)),
        (w["bonus_matured"], _money(line.bonus_matured_now, lang)),
        (w["override_matured"], _money(line.override_matured_now, lang)),
        (w["program_held"], _money(held, lang)),
    ]


def tier_progress(line: CloseLine, tiers: Sequence[TierStep], lang: Lang) -> dict[str, Any] | None:
    """The bar from the partner's tier (from next month) to the one above, by trailing sales."""
    names = [t.name for t in tiers]
    if line.tier_after not in names:
        return None
    i = names.index(line.tier_after)
    w = WORDS[lang]
    if i + 1 >= len(tiers):
        return {"tier": line.tier_after, "next": "", "pct": 100, "text": w["top_tier"]}
    low, nxt = tiers[i].threshold_eur, tiers[i + 1]
    span = nxt.threshold_eur - low
    done = min(max(line.trailing - low, ZERO), span)
    pct = int(done * 100 / span) if span > 0 else 100
    gap = max(nxt.threshold_eur - line.trailing, ZERO)
    return {
        "tier": line.tier_after,
        "next": nxt.name,
        "pct": pct,
        "text": f"{_money(gap, lang)} {w['to_go']} {nxt.name}",
    }


def _program_rows(program: Sequence[ProgramAccrual], lang: Lang) -> list[list[str]]:
    return [
        [
            a.line_id,
            section_word(a.kind, lang),
            date_text(a.earned_on, lang),
            _money(a.amount, lang),
            a.rule_version,
            a.description,
            "; ".join(f"{k}={v}" for k, v in a.trace.items()),
        ]
        for a in program
    ]


def _targets(line: CloseLine, lang: Lang) -> list[dict[str, Any]]:
    w = WORDS[lang]
    out = []
    for t in (TargetProgress.from_json(d) for d in line.targets):
        money = t.metric.startswith("net_sales")

        def fig(x: Decimal, money: bool = money) -> str:
            return _money(x, lang) if money else number_text(x, lang)

        out.append(
            {
                "cells": [
                    t.target_id,
                    t.interval,
                    t.metric,
                    fig(t.goal_total),
                    fig(t.actual),
                    percent_text(t.attainment, lang, 2),
                    f"{w['left']}: {fig(t.to_go)}, {w['days_left']}: {t.days_left}",
                ],
                "pct": int(min(t.attainment, Decimal(1)) * 100),
            }
        )
    return out


def _sections(extra: Sequence[Section], lang: Lang) -> list[Section]:
    return [
        (
            section_word(title, lang),
            [section_word(h, lang) for h in head],
            [[section_word(r[0], lang), *r[1:]] if r else r for r in rows],
        )
        for title, head, rows in extra
    ]


PROGRAM_HEAD = ["line_id", "kind", "earned_on", "amount_eur", "rule_version", "description", "trace"]
TARGET_HEAD = ["target_id", "interval", "metric", "goal", "actual", "attainment_pct", "trace"]


def statement_context(
    line: CloseLine,
    sales: Iterable[StatementLine],
    program: Sequence[ProgramAccrual] = (),
    extra: Sequence[Section] = (),
    lang: str = "en",
    tiers: Sequence[TierStep] = (),
) -> dict[str, Any]:
    lg = as_lang(lang)
    w = WORDS[lg]
    rows, total_eur, total_comm = [], ZERO, ZERO
    for s in sales:
        rows.append(
            {
                "sale_id": s.sale_id,
                "cells": [
                    _date(s.sold_at, lg),
                    s.sku,
                    s.category,
                    number_text(s.quantity, lg),
                    money_text(s.amount, s.currency, lg),
                    _money(s.amount_eur, lg),
                    s.tier,
                    _pct(s.rate, lg),
                    _money(s.commission, lg),
                ],
                "trace": line_trace(s, lg),
            }
        )
        total_eur += s.amount_eur
        total_comm += s.commission
    heads = ["sale", "sold_at", "sku", "category", "quantity", "amount", "amount_eur", "tier", "rate"]
    return {
        "lang": lg,
        "w": w,
        "line": line,
        "period_text": period_text(line.period, lg),
        "summary": _summary(line, lg),
        "tier": tier_progress(line, tiers, lg),
        "program": _program_rows(program, lg),
        "program_head": [section_word(h, lg) for h in PROGRAM_HEAD],
        "targets": _targets(line, lg),
        "target_head": [section_word(h, lg) for h in TARGET_HEAD],
        "program_title": section_word("Bonuses and overrides", lg),
        "targets_title": section_word("Targets", lg),
        "sections": _sections(extra, lg),
        "head": [w[h] for h in heads] + [w["commission"], w["trace"]],
        "rows": rows,
        "count": len(rows),
        "total_eur": _money(total_eur, lg),
        "total_commission": _money(total_comm, lg),
    }


# markupsafe writes `"` and `'` as &#34; and &#39;; the statements always used html.escape's
# entities (same characters, and no escaped text can contain these sequences)
_ENTITIES: Mapping[str, str] = {"&#34;": "&quot;", "&#39;": "&#x27;"}


def render_statement_html(
    line: CloseLine,
    sales: Iterable[StatementLine],
    program: Sequence[ProgramAccrual] = (),
    extra: Sequence[Section] = (),
    lang: str = "en",
    tiers: Sequence[TierStep] = (),
) -> bytes:
    page = (
        _env()
        .get_template("statement.html")
        .render(statement_context(line, sales, program, extra, lang, tiers))
    )
    for old, new in _ENTITIES.items():
        page = page.replace(old, new)
    return page.encode()


def statement_pdf(html: bytes) -> bytes:
    """The PDF of a rendered statement page (A4 landscape, DejaVu fonts: Cyrillic included).
    Raises OSError where WeasyPrint's native libraries are missing (`renderer_problem`)."""
    from weasyprint import HTML  # imported on use: loading it takes most of a second

    pdf = HTML(string=html.decode()).write_pdf()
    assert pdf is not None  # no target given: the bytes are returned
    return bytes(pdf)
