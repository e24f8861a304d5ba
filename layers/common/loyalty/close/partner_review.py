"""The Review step's work for one partner: its rule version (pilots), the month made final, the
incentives it earned (bonuses, overrides, target progress) and its close line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from loyalty.close.batches import BatchPartner
from loyalty.close.engagement import engagement_of
from loyalty.close.final_rates import RateFinalizer
from loyalty.close.ports import CloseStore
from loyalty.close.program import program_state
from loyalty.close.review import CloseLine, MonthFacts, PartnerFacts, review_partner
from loyalty.earning.commission.model import PartnerContext
from loyalty.earning.records import MonthTotals
from loyalty.incentives.engine import Incentives, PartnerPeriod
from loyalty.incentives.lines import ProgramAccrual
from loyalty.kernel.periods import cutoff
from loyalty.points.close import CloseIntent
from loyalty.program.rules import RuleBook, RuleVersion
from loyalty.training.records import Completion


@dataclass(frozen=True)
class PartnerReview:
    line: CloseLine
    history: Sequence[CloseLine]  # committed closes before the period, newest first
    rules: RuleVersion  # the partner's version
    accruals: Sequence[ProgramAccrual]  # program lines accrued at this close


class PartnerReviewer:
    """Reviews the partners of one batch (the rules are read once)."""

    def __init__(
        self,
        store: CloseStore,
        incentives: Incentives,
        period: str,
        run: str,
        training: Mapping[str, Sequence[Completion]] | None = None,
    ) -> None:
        self.store = store
        self.training = training or {}
        self.incentives = incentives
        self.period, self.run = period, run
        self.book = RuleBook(store.rule_versions())
        self.final = RateFinalizer(store)

    def rules_for(self, p: BatchPartner) -> RuleVersion:
        """The partner's version at the period's cut-off: a pilot's for its cohort or segment."""
        return self.book.in_effect(cutoff(self.period), p.cohort or None, p.segment or None)

    def review(self, p: BatchPartner) -> PartnerReview:
        period = self.period
        rules = self.rules_for(p)
        months, history = self.store.close_facts(p.partner_id, period)
        scope = PartnerContext(p.cohort or None, p.segment)
        if self.final.finalize(p.partner_id, period, months, history, scope).lines:  # final rates
            months, history = self.store.close_facts(p.partner_id, period)
        months = [m for m in months if m.month <= period]
        prev = history[0] if history else None
        result = self.incentives.evaluate(
            PartnerPeriod(
                partner_id=p.partner_id,
                segment=p.segment,
                cohort=p.cohort,
                period=period,
                rules=rules,
                months=months,
                recruits=p.recruits,
                awarded={k: Decimal(v) for k, v in (prev.awards if prev else {}).items()},
            )
        )
        program = program_state(
            period,
            cutoff(period),
            rules.holding_days,
            prev.program_pending if prev else [],
            result.accruals,
            result.progress,
            result.awards,
        )
        completions = self.training.get(p.partner_id, ())
        awarded = self.store.awarded_courses(p.partner_id) if completions else set()
        eng = engagement_of(p.certified, completions, awarded, cutoff(period))
        facts = PartnerFacts(
            partner_id=p.partner_id,
            name=p.name,
            segment=p.segment,
            certified=eng.certified,
            has_bank=p.has_bank,
            tier_now=self.store.tier_for(p.partner_id, period) or p.starting_tier or rules.entry_tier,
            months=[_facts(t) for t in months],
            history=history,
            cohort=p.cohort,
        )
        line = review_partner(rules, period, self.run, facts, program)
        # points of the month at the tier in effect for its sales, and the courses to award
        intent = CloseIntent.of(p.partner_id, period, rules, line.tier_before, line.net_sales, eng.courses)
        line.points = intent.to_json()
        line.points_month = intent.month_points
        line.points_courses = intent.course_points * len(intent.courses)
        line.certificates = eng.certificates
        if line.dormant and intent.courses:
            line.dormant = False  # course points to award: not a quiet month
        return PartnerReview(line, history, rules, result.accruals)


def _facts(t: MonthTotals) -> MonthFacts:
    return MonthFacts(t.month, t.net_eur, t.lines, t.returns, t.by_day, t.new_customers, t.units)
