"""The state a simulated window starts from, read from history (pure data): what each world is
seeded with before the first simulated close."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from loyalty.close.header import CloseMeta
from loyalty.close.ledger import Entry
from loyalty.close.payees import BankSnapshot
from loyalty.close.review import CloseLine
from loyalty.earning.records import MonthTotals, SaleRecord
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleVersion
from loyalty.program.targets import TargetSet
from loyalty.training.records import Completion


@dataclass
class PartnerStart:
    """One partner as the history left it at the start of the window (`BatchStart.start`)."""

    partner: Partner  # as the registry holds it (IBAN masked)
    bank: BankSnapshot | None  # its bank details as stored (ciphertext, fingerprint, since)
    tiers: dict[str, str] = field(default_factory=dict)  # month -> tier, the lookback up to the start
    months: list[MonthTotals] = field(default_factory=list)  # month totals before the start, as of it
    first_months: dict[str, str] = field(default_factory=dict)  # customer -> first month (before it)
    sales: list[SaleRecord] = field(default_factory=list)  # lines that landed before the start
    history: list[CloseLine] = field(default_factory=list)  # committed closes before it, newest first
    entries: list[Entry] = field(default_factory=list)  # their ledger entries
    completions: list[Completion] = field(default_factory=list)  # training (certifications count)


@dataclass
class BatchStart:
    """A batch of partners (whole sponsor trees) and the program around them at the start."""

    start: str  # the first simulated period (YYYY-MM)
    rules: list[RuleVersion]  # the rule book of the simulation (`loyalty.simulation.history.sim_rules`)
    fx: list[tuple[dt.date, str, Decimal]]
    closes: list[CloseMeta]  # the committed close headers before the start (the order of closes)
    frozen: set[str]  # the periods frozen before the start
    partners: list[PartnerStart] = field(default_factory=list)
    targets: list[TargetSet] = field(default_factory=list)  # the live target book (every version)
