"""The monthly close (PRODUCT §5, §6), pure domain: per-partner KPIs, tier review, payable amount
(holding, clawback carry, minimum payout), the payout proposal summary, ledger entries, partner
statements and bank files. No AWS here: `loyalty.closing` runs these steps against the ports.

Payable amounts are cumulative, so corrections and late returns net out by construction:
`matured_total` is all commission whose holding period has passed at the cut-off (every month up
to the closed period); what matured in this close is `matured_total` minus the previous committed
close's `matured_total`; with the carried balance it is paid when it reaches the minimum.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import html
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from loyalty.ledger import BANK, EXPENSE, Entry, decide_payout, entry_id, matured, payable_account
from loyalty.money import ZERO, fmt_eur, to_cents
from loyalty.reports import safe_cell
from loyalty.rules import RuleVersion
from loyalty.tiers import TierState, months_back, qualifying_tier, review, trailing_net

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ANOMALY_FACTOR = Decimal(3)


# -- periods --------------------------------------------------------------------------------------
def check_period(period: str) -> str:
    if not PERIOD_RE.match(period or ""):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return period


def next_period(period: str) -> str:
    y, m = int(period[:4]), int(period[5:7])
    return f"{y + (m == 12):04d}-{m % 12 + 1:02d}"


def previous_period(period: str) -> str:
    return months_back(period, 2)[0]


def period_before(day: dt.date) -> str:
    """The period a close started on `day` closes: the previous calendar month."""
    return previous_period(f"{day.year:04d}-{day.month:02d}")


def cutoff(period: str) -> dt.date:
    """Last day of the period (the cut-off is its last instant)."""
    y, m = int(period[:4]), int(period[5:7])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def open_period(month: str, frozen: Iterable[str]) -> str:
    """The period an accrual dated in `month` lands in: its own, or the first open one after it."""
    closed = set(frozen)
    while month in closed:
        month = next_period(month)
    return month


# -- IBAN -----------------------------------------------------------------------------------------
IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def normalize_iban(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def valid_iban(iban: str) -> bool:
    if not IBAN_RE.match(iban):
        return False
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def mask_iban(iban: str) -> str:
    """`DE89370400440532013000` -> `DE89 **** **** **** **30 00`-style: country, check digits, last 4."""
    if not iban:
        return ""
    return f"{iban[:4]} **** {iban[-4:]}"


# -- inputs and results --------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthFacts:
    month: str
    net_eur: Decimal
    lines: int
    returns: int
    by_day: Mapping[int, Decimal]
    customers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PartnerFacts:
    partner_id: str
    name: str
    segment: str
    certified: Mapping[str, int]
    has_bank: bool
    tier_now: str  # tier in effect for sales of the period
    months: Sequence[MonthFacts]
    history: Sequence[CloseLine]  # committed closes before this period, newest first


@dataclass
class CloseLine:
    """One partner's result of one close: a proposal until the run is approved, then committed."""

    partner_id: str
    period: str
    run: str
    name: str = ""
    segment: str = ""
    net_sales: Decimal = ZERO
    trailing: Decimal = ZERO
    new_customers: int = 0
    lines: int = 0
    returns: int = 0
    returns_rate: Decimal = ZERO
    tier_before: str = ""
    qualifying: str = ""
    tier_after: str = ""
    tier_change: str = "hold"
    below_reviews: int = 0
    tier_reason: str = ""
    progress: str = ""
    matured_total: Decimal = ZERO
    matured_now: Decimal = ZERO
    carried_in: Decimal = ZERO
    payout: Decimal = ZERO
    carried_out: Decimal = ZERO
    payout_reason: str = ""
    anomalies: list[str] = field(default_factory=list)
    state: str = "proposed"  # proposed -> paid | excluded (carried forward)
    rule_version: str = ""
    # nothing happened and nothing changed: no sales, nothing matured, same balance and tier
    # state as the previous committed close - no write, no statement (the last record stays true)
    dormant: bool = False

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, Decimal):
                d[k] = str(v)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CloseLine:
        kw = dict(d)
        for f in (
            "net_sales",
            "trailing",
            "returns_rate",
            "matured_total",
            "matured_now",
            "carried_in",
            "payout",
            "carried_out",
        ):
            kw[f] = Decimal(str(kw.get(f, "0")))
        kw["anomalies"] = list(kw.get("anomalies") or [])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in kw.items() if k in known})


def progress_to_next(rules: RuleVersion, tier: str, trailing: Decimal, certified: Mapping[str, int]) -> str:
    names = [t.name for t in rules.tiers]
    i = names.index(tier) if tier in names else 0
    if i + 1 >= len(names):
        return f"{tier} is the top tier"
    nxt = rules.tiers[i + 1]
    gap = to_cents(nxt.threshold_eur - trailing)
    parts = []
    if gap > 0:
        parts.append(
            f"EUR {fmt_eur(gap)} more trailing-{rules.tier_review.window_months}-month sales to reach {nxt.name}"
        )
    missing = {c: n for c, n in nxt.requires_certifications.items() if certified.get(c, 0) < n}
    if missing:
        parts.append(
            " and ".join(
                f"{n - certified.get(c, 0)} more certified on {c}" for c, n in sorted(missing.items())
            )
            + f" for {nxt.name}"
        )
    return "; ".join(parts) if parts else f"qualifies for {nxt.name} at the next review"


def review_partner(rules: RuleVersion, period: str, run: str, facts: PartnerFacts) -> CloseLine:
    """KPIs, tier review and the payable amount of one partner for one period."""
    months = [m for m in facts.months if m.month <= period]
    net = {m.month: m.net_eur for m in months}
    this = next((m for m in months if m.month == period), None)
    trailing = trailing_net(net, period, rules.tier_review.window_months)
    prev = facts.history[0] if facts.history else None
    state = TierState(facts.tier_now or rules.entry_tier, prev.below_reviews if prev else 0)
    tr = review(rules, state, trailing, facts.certified)
    earlier: set[str] = set()
    for m in months:
        if m.month < period:
            earlier |= m.customers
    new_customers = len(this.customers - earlier) if this else 0
    by_day: dict[str, Decimal] = {}
    for m in months:
        for d, v in m.by_day.items():
            by_day[f"{m.month}-{d:02d}"] = v
    matured_total = to_cents(matured(by_day, cutoff(period), rules.holding_days))
    prev_total = prev.matured_total if prev else ZERO
    carried_in = to_cents(prev.carried_out if prev else ZERO)
    matured_now = matured_total - prev_total
    decision = decide_payout(carried_in, matured_now, rules.minimum_payout_eur)
    payout, carried_out, reason = decision.payout, to_cents(decision.carried_out), decision.reason
    anomalies: list[str] = []
    if payout > 0 and not facts.has_bank:
        anomalies.append("no bank details on file: payout held and carried forward")
        payout, carried_out, reason = (
            ZERO,
            to_cents(carried_in + matured_now),
            "held: no bank details on file",
        )
    paid = [h.payout for h in facts.history[:6] if h.payout > 0]
    if payout > 0 and paid:
        avg = sum(paid, ZERO) / Decimal(len(paid))
        if payout > ANOMALY_FACTOR * avg:
            anomalies.append(f"payout EUR {payout} is over 3x the 6-month average EUR {to_cents(avg)}")
    if carried_out < 0:
        anomalies.append(f"negative balance EUR {carried_out} (returns after payout) carried forward")
    lines = this.lines if this else 0
    returns = this.returns if this else 0
    dormant = (
        lines == 0
        and (this is None or this.net_eur == 0)
        and matured_now == 0
        and payout == 0
        and carried_out == carried_in
        and tr.change == "hold"
        and tr.below_reviews == (prev.below_reviews if prev else 0)
        and not anomalies
    )
    return CloseLine(
        partner_id=facts.partner_id,
        period=period,
        run=run,
        name=facts.name,
        segment=facts.segment,
        net_sales=this.net_eur if this else ZERO,
        trailing=trailing,
        new_customers=new_customers,
        lines=lines,
        returns=returns,
        returns_rate=(Decimal(returns) / Decimal(lines)).quantize(Decimal("0.0001")) if lines else ZERO,
        tier_before=tr.tier_before,
        qualifying=tr.qualifying,
        tier_after=tr.tier_after,
        tier_change=tr.change,
        below_reviews=tr.below_reviews,
        tier_reason=tr.reason,
        progress=progress_to_next(rules, tr.tier_after, trailing, facts.certified),
        matured_total=matured_total,
        matured_now=matured_now,
        carried_in=carried_in,
        payout=payout,
        carried_out=carried_out,
        payout_reason=reason,
        anomalies=anomalies,
        rule_version=rules.version,
        dormant=dormant,
    )


def exclude(line: CloseLine, reason: str) -> CloseLine:
    """Finance excluded the partner from an approved run: everything carries forward."""
    line.carried_out = to_cents(line.carried_in + line.matured_now)
    line.payout = ZERO
    line.payout_reason = reason
    line.state = "excluded"
    return line


def ledger_entries(line: CloseLine) -> list[Entry]:
    """The immutable, balanced entries a committed close line posts (ids from period+partner)."""
    acct = payable_account(line.partner_id)
    out = []
    if line.matured_now > 0:
        out.append(
            Entry(
                entry_id(line.period, line.partner_id, "accrual"),
                line.period,
                EXPENSE,
                acct,
                line.matured_now,
                f"commission matured by {cutoff(line.period)} (holding period passed)",
            )
        )
    elif line.matured_now < 0:
        out.append(
            Entry(
                entry_id(line.period, line.partner_id, "clawback"),
                line.period,
                acct,
                EXPENSE,
                -line.matured_now,
                "returns after payout: commission clawed back",
            )
        )
    if line.payout > 0:
        out.append(
            Entry(
                entry_id(line.period, line.partner_id, "payout"),
                line.period,
                acct,
                BANK,
                line.payout,
                f"payout for {line.period}",
            )
        )
    return out


# -- proposal summary ---------------------------------------------------------------------------
def summarize(period: str, run: str, lines: Iterable[CloseLine], top: int = 20) -> dict[str, Any]:
    by_tier: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    by_segment: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    moves: Counter[str] = Counter()
    tops: list[tuple[Decimal, str, str]] = []
    anomalies: list[dict[str, str]] = []
    partners = 0
    dormant = 0
    total = {"payout": ZERO, "carried_out": ZERO, "matured_now": ZERO, "net_sales": ZERO}
    payees = 0
    for ln in lines:
        partners += 1
        dormant += ln.dormant
        for key, bucket in ((ln.tier_after, by_tier), (ln.segment, by_segment)):
            b = bucket[key]
            b["partners"] += 1
            b["payout"] += ln.payout
            b["net_sales"] += ln.net_sales
        total["payout"] += ln.payout
        total["carried_out"] += ln.carried_out
        total["matured_now"] += ln.matured_now
        total["net_sales"] += ln.net_sales
        payees += ln.payout > 0
        moves[ln.tier_change] += 1
        if ln.payout > 0:
            tops.append((ln.payout, ln.partner_id, ln.name))
            tops.sort(key=lambda t: (-t[0], t[1]))
            del tops[top:]
        for a in ln.anomalies:
            anomalies.append({"partner_id": ln.partner_id, "anomaly": a})

    def plain(d: Mapping[str, Mapping[str, Decimal]]) -> dict[str, dict[str, Any]]:
        return {
            k: {kk: int(vv) if kk == "partners" else str(to_cents(vv)) for kk, vv in sorted(v.items())}
            for k, v in sorted(d.items())
        }

    return {
        "period": period,
        "run": run,
        "partners": partners,
        "payees": payees,
        "dormant": dormant,
        "totals": {k: str(v) for k, v in total.items()},
        "by_currency": {"EUR": str(total["payout"])},
        "by_tier": plain(by_tier),
        "by_segment": plain(by_segment),
        "tier_moves": dict(sorted(moves.items())),
        "top": [{"partner_id": p, "name": n, "payout": str(a)} for a, p, n in tops],
        "anomalies": anomalies[:200],
        "anomaly_count": len(anomalies),
    }


# -- statements ---------------------------------------------------------------------------------
STATEMENT_COLUMNS = [
    "sale_id",
    "sold_at",
    "sku",
    "category",
    "quantity",
    "amount",
    "currency",
    "fx_rate",
    "fx_date",
    "amount_eur",
    "tier",
    "rate_pct",
    "rule_version",
    "commission_eur",
    "basis",
]


@dataclass(frozen=True)
class StatementLine:
    sale_id: str
    sold_at: str
    sku: str
    category: str
    quantity: int
    amount: Decimal
    currency: str
    fx_rate: Decimal | None
    fx_date: str
    amount_eur: Decimal
    tier: str
    rate: Decimal
    rule_version: str
    commission: Decimal
    basis: str

    def cells(self) -> list[str]:
        return [
            self.sale_id,
            self.sold_at,
            self.sku,
            self.category,
            str(self.quantity),
            str(self.amount),
            self.currency,
            "" if self.fx_rate is None else str(self.fx_rate),
            self.fx_date,
            str(self.amount_eur),
            self.tier,
            str((self.rate * 100).normalize()),
            self.rule_version,
            str(self.commission),
            self.basis,
        ]


def _summary_rows(line: CloseLine) -> list[tuple[str, str]]:
    return [
        ("partner", f"{line.partner_id} {line.name}"),
        ("period", line.period),
        ("net sales EUR", str(line.net_sales)),
        ("trailing net sales EUR", str(line.trailing)),
        ("new customers", str(line.new_customers)),
        ("returns rate", f"{(line.returns_rate * 100).quantize(Decimal('0.01'))} %"),
        ("tier this month", line.tier_before),
        ("tier from next month", f"{line.tier_after} ({line.tier_change}: {line.tier_reason})"),
        ("progress", line.progress),
        ("carried in EUR", str(line.carried_in)),
        ("matured this close EUR", str(line.matured_now)),
        ("payout EUR", str(line.payout)),
        ("carried forward EUR", str(line.carried_out)),
        ("payout note", line.payout_reason),
        ("rule version", line.rule_version),
    ]


def statement_csv(line: CloseLine, sales: Iterable[StatementLine]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(STATEMENT_COLUMNS)
    total_eur, total_comm, n = ZERO, ZERO, 0
    for s in sales:
        w.writerow([safe_cell(c) for c in s.cells()])
        total_eur += s.amount_eur
        total_comm += s.commission
        n += 1
    w.writerow(
        [
            safe_cell(c)
            for c in ["TOTAL", "", "", "", str(n), "", "", "", "", total_eur, "", "", "", total_comm, ""]
        ]
    )
    w.writerow([])
    for k, v in _summary_rows(line):
        w.writerow([safe_cell(k), safe_cell(v)])
    return buf.getvalue().encode()


def statement_html(line: CloseLine, sales: Iterable[StatementLine]) -> bytes:
    e = html.escape
    rows, total_eur, total_comm, n = [], ZERO, ZERO, 0
    for s in sales:
        rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in s.cells()) + "</tr>")
        total_eur += s.amount_eur
        total_comm += s.commission
        n += 1
    head = "".join(f"<th>{e(c)}</th>" for c in STATEMENT_COLUMNS)
    summary = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _summary_rows(line))
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement {e(line.partner_id)} {e(line.period)}</title>
<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}</style>
</head><body>
<h1>Commission statement {e(line.period)}</h1>
<table class="summary">{summary}</table>
<h2>Lines ({n})</h2>
<table class="lines"><thead><tr>{head}</tr></thead><tbody>
{"".join(rows)}
</tbody><tfoot><tr><th colspan="9">Total</th><td>{total_eur}</td><td colspan="3"></td><td>{total_comm}</td><td></td></tr></tfoot></table>
<p>Commission per line = amount in EUR x rate of the tier in effect for the month of sale (returns at
the rate of the sale they return), rounded once, half-even, to cents. It becomes payable once its
holding period has passed at a month's cut-off; payable balances below the minimum carry forward.</p>
</body></html>
"""
    return doc.encode()


# -- bank files ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Payment:
    partner_id: str
    name: str
    amount: Decimal
    iban: str
    bic: str
    reference: str


def bank_csv(payments: Sequence[Payment]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["partner_id", "name", "amount", "currency", "iban", "bic", "reference"])
    for p in payments:
        w.writerow(
            [safe_cell(c) for c in (p.partner_id, p.name, str(p.amount), "EUR", p.iban, p.bic, p.reference)]
        )
    return buf.getvalue().encode()


def pain001(
    payments: Sequence[Payment],
    msg_id: str,
    created: dt.datetime,
    execution_date: dt.date,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str,
) -> bytes:
    """ISO 20022 pain.001.001.09 SEPA credit transfer initiation for EUR payouts."""
    x = xml_escape
    total = sum((p.amount for p in payments), ZERO)
    txs = []
    for p in payments:
        agent = f"<CdtrAgt><FinInstnId><BICFI>{x(p.bic)}</BICFI></FinInstnId></CdtrAgt>" if p.bic else ""
        txs.append(
            "<CdtTrfTxInf>"
            f"<PmtId><EndToEndId>{x(p.reference[:35])}</EndToEndId></PmtId>"
            f'<Amt><InstdAmt Ccy="EUR">{p.amount:.2f}</InstdAmt></Amt>'
            f"{agent}"
            f"<Cdtr><Nm>{x(p.name[:70])}</Nm></Cdtr>"
            f"<CdtrAcct><Id><IBAN>{x(p.iban)}</IBAN></Id></CdtrAcct>"
            f"<RmtInf><Ustrd>{x(('Partner commission ' + p.reference)[:140])}</Ustrd></RmtInf>"
            "</CdtTrfTxInf>"
        )
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'
        "<CstmrCdtTrfInitn>"
        f"<GrpHdr><MsgId>{x(msg_id[:35])}</MsgId><CreDtTm>{created.strftime('%Y-%m-%dT%H:%M:%S')}</CreDtTm>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        f"<InitgPty><Nm>{x(debtor_name)}</Nm></InitgPty></GrpHdr>"
        f"<PmtInf><PmtInfId>{x(msg_id[:35])}</PmtInfId><PmtMtd>TRF</PmtMtd>"
        f"<NbOfTxs>{len(payments)}</NbOfTxs><CtrlSum>{total:.2f}</CtrlSum>"
        "<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>"
        f"<ReqdExctnDt><Dt>{execution_date.isoformat()}</Dt></ReqdExctnDt>"
        f"<Dbtr><Nm>{x(debtor_name)}</Nm></Dbtr>"
        f"<DbtrAcct><Id><IBAN>{x(debtor_iban)}</IBAN></Id></DbtrAcct>"
        f"<DbtrAgt><FinInstnId><BICFI>{x(debtor_bic)}</BICFI></FinInstnId></DbtrAgt>"
        "<ChrgBr>SLEV</ChrgBr>" + "".join(txs) + "</PmtInf></CstmrCdtTrfInitn></Document>\n"
    )
    return doc.encode()


__all__ = [
    "CloseLine",
    "MonthFacts",
    "PartnerFacts",
    "Payment",
    "StatementLine",
    "bank_csv",
    "check_period",
    "cutoff",
    "exclude",
    "ledger_entries",
    "mask_iban",
    "next_period",
    "open_period",
    "pain001",
    "period_before",
    "previous_period",
    "qualifying_tier",
    "review_partner",
    "statement_csv",
    "statement_html",
    "summarize",
    "valid_iban",
]
