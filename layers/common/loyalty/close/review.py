"""Per-partner close review: KPIs, tier review, payable amount, ledger entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.close.ledger import (
    BANK,
    BONUS,
    EXPENSE,
    OVERRIDE,
    Entry,
    decide_payout,
    entry_id,
    matured,
    payable_account,
)
from loyalty.close.program import ProgramState
from loyalty.close.tiers import ReviewResult as TierReview
from loyalty.close.tiers import TierState, review, trailing_net
from loyalty.kernel.money import ZERO, fmt_eur, to_cents
from loyalty.kernel.periods import cutoff, next_period
from loyalty.program.rules import RuleVersion

# A payout above this multiple of the partner's 6-month average is an anomaly.
ANOMALY_FACTOR = Decimal(3)


@dataclass(frozen=True)
class MonthFacts:
    month: str
    net_eur: Decimal
    lines: int
    returns: int
    by_day: Mapping[int, Decimal]
    new_customers: int = 0  # customers whose first sale is in this month (kept by the writer)
    units: int = 0  # quantities of the month's lines (returns negative)


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
    cohort: str = ""  # the partner's pilot cohort (lower-case; "" = none)


@dataclass
class CloseLine:
    """One partner's result of one close: a proposal until the run is approved, then committed."""

    partner_id: str
    period: str
    run: str
    name: str = ""
    segment: str = ""
    cohort: str = ""  # pilot cohort (the rule version may depend on it)
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
    bank_fp: str = ""  # fingerprint of the bank details the last payout went to (carried forward)
    # program accruals (issue 10): accrued at this close (their lines are in the run's program
    # file), what matured now per kind (matured_now is their sum), and what is still held
    bonus_eur: Decimal = ZERO
    override_eur: Decimal = ZERO
    commission_matured_now: Decimal = ZERO
    bonus_matured_now: Decimal = ZERO
    override_matured_now: Decimal = ZERO
    program_pending: list[list[str]] = field(default_factory=list)  # [earned_on, kind, amount]
    program_matured_total: Decimal = ZERO  # the program part of matured_total
    targets: list[dict[str, Any]] = field(default_factory=list)  # TargetProgress.to_json, <= 50
    awards: dict[str, str] = field(default_factory=dict)  # "target@interval" -> cumulative bonus
    program_lines: int = 0
    # engagement (issue 11): units of the month (leaderboards), the points intent the pay step
    # applies (`loyalty.points.close.CloseIntent` as JSON; {} = none), the month's points
    # (signed) and course points it carries, and the certificates held at the cut-off
    units: int = 0
    points: dict[str, Any] = field(default_factory=dict)
    points_month: int = 0
    points_courses: int = 0
    certificates: list[list[str]] = field(default_factory=list)

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
            "bonus_eur",
            "override_eur",
            "bonus_matured_now",
            "override_matured_now",
            "program_matured_total",
        ):
            kw[f] = Decimal(str(kw.get(f, "0")))
        # a line written before program accruals existed matured commission only
        kw["commission_matured_now"] = Decimal(str(kw.get("commission_matured_now", kw["matured_now"])))
        kw["anomalies"] = list(kw.get("anomalies") or [])
        kw["program_pending"] = [[str(x) for x in p] for p in kw.get("program_pending") or []]
        kw["targets"] = [dict(t) for t in kw.get("targets") or []]
        kw["awards"] = {str(k): str(v) for k, v in dict(kw.get("awards") or {}).items()}
        kw["points"] = dict(kw.get("points") or {})
        kw["certificates"] = [[str(x) for x in c] for c in kw.get("certificates") or []]
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


@dataclass(frozen=True)
class NextTier:
    """The tier a close sets for the partner's sales from `month` on."""

    month: str
    tier: str
    reason: str


@dataclass(frozen=True)
class Payable:
    """What a close pays and carries, and why (after the bank-details and anomaly checks)."""

    matured_total: Decimal
    carried_in: Decimal
    matured_now: Decimal
    payout: Decimal
    carried_out: Decimal
    reason: str
    anomalies: list[str]


def new_customers(months: Sequence[MonthFacts], period: str) -> int:
    """Customers who bought in `period` and in none of the months before it (the writer keeps
    each customer's first month and counts it there: no set of customers is read)."""
    return next((m.new_customers for m in months if m.month == period), 0)


def day_totals(months: Sequence[MonthFacts]) -> dict[str, Decimal]:
    """Commission per ISO day, from the months' per-day totals."""
    return {f"{m.month}-{d:02d}": v for m in months for d, v in m.by_day.items()}


def payable(
    rules: RuleVersion,
    period: str,
    facts: PartnerFacts,
    months: Sequence[MonthFacts],
    program_now: Decimal = ZERO,
) -> Payable:
    """Matured commission (plus the program accruals that matured now), the minimum payout, held
    payouts and the anomalies finance sees."""
    prev = facts.history[0] if facts.history else None
    program_before = prev.program_matured_total if prev else ZERO
    commission = to_cents(matured(day_totals(months), cutoff(period), rules.holding_days))
    matured_total = commission + program_before + program_now
    carried_in = to_cents(prev.carried_out if prev else ZERO)
    matured_now = matured_total - (prev.matured_total if prev else ZERO)
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
    return Payable(matured_total, carried_in, matured_now, payout, carried_out, reason, anomalies)


def program_quiet(program: ProgramState, prev: CloseLine | None) -> bool:
    """No program accrual, nothing maturing, and the same pending, progress and awards as the
    partner's previous committed close."""
    before = (prev.program_pending, prev.targets, prev.awards) if prev else ([], [], {})
    return (
        not program.accruals
        and not any(program.matured.values())
        and (program.pending, program.targets, program.awards) == before
    )


def is_dormant(
    this: MonthFacts | None, pay: Payable, tier: TierReview, below_before: int, quiet: bool = True
) -> bool:
    """Nothing happened and nothing changed: no sales, nothing matured or paid, the same balance
    and tier state as the previous committed close, no program accrual or progress change,
    nothing to flag. Such a partner gets no new record and no statement (its last record stays
    true)."""
    return (
        quiet
        and (this is None or (this.lines == 0 and this.net_eur == 0))
        and pay.matured_now == 0
        and pay.payout == 0
        and pay.carried_out == pay.carried_in
        and tier.change == "hold"
        and tier.below_reviews == below_before
        and not pay.anomalies
    )


def review_partner(
    rules: RuleVersion, period: str, run: str, facts: PartnerFacts, program: ProgramState | None = None
) -> CloseLine:
    """KPIs, tier review and the payable amount of one partner for one period (`rules` is the
    partner's version: pilots), with its program accruals (`program`) held and matured."""
    program = program or ProgramState()
    prev = facts.history[0] if facts.history else None
    months = [m for m in facts.months if m.month <= period]
    this = next((m for m in months if m.month == period), None)
    trailing = trailing_net({m.month: m.net_eur for m in months}, period, rules.tier_review.window_months)
    below_before = facts.history[0].below_reviews if facts.history else 0
    tr = review(rules, TierState(facts.tier_now or rules.entry_tier, below_before), trailing, facts.certified)
    pay = payable(rules, period, facts, months, program.matured_now)
    lines = this.lines if this else 0
    returns = this.returns if this else 0
    return CloseLine(
        partner_id=facts.partner_id,
        period=period,
        run=run,
        name=facts.name,
        segment=facts.segment,
        cohort=facts.cohort,
        net_sales=this.net_eur if this else ZERO,
        trailing=trailing,
        new_customers=new_customers(months, period),
        units=this.units if this else 0,
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
        matured_total=pay.matured_total,
        matured_now=pay.matured_now,
        carried_in=pay.carried_in,
        payout=pay.payout,
        carried_out=pay.carried_out,
        payout_reason=pay.reason,
        anomalies=pay.anomalies,
        rule_version=rules.version,
        dormant=is_dormant(this, pay, tr, below_before, program_quiet(program, prev)),
        bonus_eur=program.accrued_of("bonus"),
        override_eur=program.accrued_of("override"),
        commission_matured_now=pay.matured_now - program.matured_now,
        bonus_matured_now=program.matured_of("bonus"),
        override_matured_now=program.matured_of("override"),
        program_pending=program.pending,
        program_matured_total=(prev.program_matured_total if prev else ZERO) + program.matured_now,
        targets=program.targets,
        awards=program.awards,
        program_lines=len(program.accruals),
    )


def next_tier(line: CloseLine) -> NextTier | None:
    """A committed up- or downgrade applies to the partner's sales from the next month on."""
    if line.tier_change in {"up", "down"}:
        return NextTier(next_period(line.period), line.tier_after, line.tier_reason)
    return None


def exclude(line: CloseLine, reason: str) -> CloseLine:
    """Finance excluded the partner from an approved run: everything carries forward."""
    line.carried_out = to_cents(line.carried_in + line.matured_now)
    line.payout = ZERO
    line.payout_reason = reason
    line.state = "excluded"
    return line


def _accrual_entry(line: CloseLine, account: str, amount: Decimal, kind: str, what: str) -> list[Entry]:
    """What matured of one kind (commission, bonus, override): a credit to the partner, or a
    clawback when negative. The commission keeps its ids ("accrual", "clawback")."""
    acct = payable_account(line.partner_id)
    if amount > 0:
        ident = "accrual" if kind == "commission" else kind
        memo = f"{what} matured by {cutoff(line.period)} (holding period passed)"
        return [
            Entry(entry_id(line.period, line.partner_id, ident), line.period, account, acct, amount, memo)
        ]
    if amount < 0:
        ident = "clawback" if kind == "commission" else f"{kind}-clawback"
        memo = (
            "returns after payout: commission clawed back"
            if kind == "commission"
            else f"{what} clawed back (negative {kind} matured by {cutoff(line.period)})"
        )
        return [
            Entry(entry_id(line.period, line.partner_id, ident), line.period, acct, account, -amount, memo)
        ]
    return []


def ledger_entries(line: CloseLine) -> list[Entry]:
    """The immutable, balanced entries a committed close line posts (ids from period, partner
    and kind): commission, bonus and override each to its own expense account, then the payout."""
    acct = payable_account(line.partner_id)
    # the commission part is what the program part leaves of matured_now: the entries always
    # add up to the matured amount the invariant checks
    commission = line.matured_now - line.bonus_matured_now - line.override_matured_now
    out = [
        *_accrual_entry(line, EXPENSE, commission, "commission", "commission"),
        *_accrual_entry(line, BONUS, line.bonus_matured_now, "bonus", "bonus"),
        *_accrual_entry(line, OVERRIDE, line.override_matured_now, "override", "override"),
    ]
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
