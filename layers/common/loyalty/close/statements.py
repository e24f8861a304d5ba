"""Partner statements (HTML and spreadsheet-safe CSV) of a close, and who gets one.

Every partner with anything to report gets a statement each month (PRODUCT §1): a line, a
balance carried (positive or negative), points, a tier in grace, a tier change, commission that
matured or was paid. Only a partner with nothing at all is skipped (`statement_due`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from loyalty.close.review import CloseLine
from loyalty.close.statement_lines import STATEMENT_COLUMNS, Section, StatementLine
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.kernel.money import ZERO, to_cents
from loyalty.kernel.reports import safe_cell


@dataclass(frozen=True)
class StatementDue:
    """Whether a partner's close gets a statement, and what it has to report."""

    partner_id: str
    due: bool
    reasons: tuple[str, ...]


def statement_due(line: CloseLine, points: int = 0) -> StatementDue:
    """A statement is due unless the partner has nothing at all to report. `points` is the
    partner's points balance (the points context passes it once it exists)."""
    reasons: list[str] = []
    if line.lines:
        reasons.append(f"{line.lines} lines this month")
    if line.matured_now:
        reasons.append(f"commission matured EUR {line.matured_now}")
    if line.payout:
        reasons.append(f"payout EUR {line.payout}")
    if line.carried_out > 0:
        reasons.append(f"carried balance EUR {line.carried_out}")
    elif line.carried_out < 0:
        reasons.append(f"negative balance EUR {line.carried_out} carried")
    if line.tier_change == "grace" or line.below_reviews:
        n = line.below_reviews
        reasons.append(f"tier in grace ({n} review{'' if n == 1 else 's'} below {line.tier_after})")
    if line.tier_change in {"up", "down"}:
        reasons.append(f"tier changed ({line.tier_change} to {line.tier_after})")
    if line.program_lines:
        reasons.append(f"{line.program_lines} bonus and override lines")
    if line.targets:
        reasons.append(f"progress on {len(line.targets)} targets")
    if points:
        reasons.append(f"{points} points")
    return StatementDue(line.partner_id, bool(reasons), tuple(reasons))


def statements_due(
    partner_ids: Sequence[str],
    committed: Mapping[str, CloseLine],
    reviewed: Iterable[CloseLine],
    points: Mapping[str, int] | None = None,
) -> list[CloseLine]:
    """The line each partner's statement shows, for the partners that get one, in `partner_ids`
    order: the committed line, else the reviewed one of a partner with nothing new (the pay step
    commits no record for it: its last record stays true, and so does what this one reports)."""
    quiet = {ln.partner_id: ln for ln in reviewed if ln.dormant}
    out = []
    for pid in partner_ids:
        line = committed.get(pid) or quiet.get(pid)
        if line is not None and statement_due(line, (points or {}).get(pid, 0)).due:
            out.append(line)
    return out


def _summary_rows(line: CloseLine) -> list[tuple[str, str]]:
    return [
        ("partner", f"{line.partner_id} {line.name}"),
        ("period", line.period),
        ("net sales EUR", str(to_cents(line.net_sales))),
        ("trailing net sales EUR", str(to_cents(line.trailing))),
        ("new customers", str(line.new_customers)),
        ("returns rate", f"{(line.returns_rate * 100).quantize(Decimal('0.01'))} %"),
        ("tier this month", line.tier_before),
        ("tier from next month", f"{line.tier_after} ({line.tier_change}: {line.tier_reason})"),
        ("progress", line.progress),
        ("carried in EUR", str(to_cents(line.carried_in))),
        ("matured this close EUR", str(to_cents(line.matured_now))),
        ("payout EUR", str(to_cents(line.payout))),
        ("carried forward EUR", str(to_cents(line.carried_out))),
        ("payout note", line.payout_reason),
        ("rule version", line.rule_version),
        ("bonuses accrued EUR", str(to_cents(line.bonus_eur))),
        ("overrides accrued EUR", str(to_cents(line.override_eur))),
        ("commission matured this close EUR", str(to_cents(line.commission_matured_now))),
        ("bonuses matured this close EUR", str(to_cents(line.bonus_matured_now))),
        ("overrides matured this close EUR", str(to_cents(line.override_matured_now))),
        (
            "bonuses and overrides held EUR",
            str(to_cents(sum((Decimal(p[2]) for p in line.program_pending), ZERO))),
        ),
    ]


PROGRAM_COLUMNS = ["line_id", "kind", "earned_on", "amount_eur", "rule_version", "description", "trace"]
TARGET_COLUMNS = ["target_id", "interval", "metric", "goal", "actual", "attainment_pct", "progress"]


def _trace(a: ProgramAccrual) -> str:
    return "; ".join(f"{k}={v}" for k, v in a.trace.items())


def program_sections(
    line: CloseLine, program: Sequence[ProgramAccrual]
) -> list[tuple[str, list[str], list[list[str]]]]:
    """The statement's "Bonuses and overrides" (each line with description and trace) and
    "Targets" (progress) sections, when the partner has any."""
    out: list[tuple[str, list[str], list[list[str]]]] = []
    if program:
        rows = [
            [
                a.line_id,
                a.kind,
                a.earned_on.isoformat(),
                str(a.amount),
                a.rule_version,
                a.description,
                _trace(a),
            ]
            for a in program
        ]
        out.append(("Bonuses and overrides", PROGRAM_COLUMNS, rows))
    if line.targets:
        targets = [TargetProgress.from_json(t) for t in line.targets]
        rows = [
            [
                t.target_id,
                t.interval,
                t.metric,
                str(t.goal_total),
                str(t.actual),
                str((t.attainment * 100).quantize(Decimal("0.01"))),
                t.text,
            ]
            for t in targets
        ]
        out.append(("Targets", TARGET_COLUMNS, rows))
    return out


def statement_csv(
    line: CloseLine,
    sales: Iterable[StatementLine],
    program: Sequence[ProgramAccrual] = (),
    extra: Sequence[Section] = (),
) -> bytes:
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
    for title, head, rows in [*program_sections(line, program), *extra]:
        w.writerow([])
        w.writerow([safe_cell(title)])
        w.writerow([safe_cell(c) for c in head])
        for r in rows:
            w.writerow([safe_cell(c) for c in r])
    return buf.getvalue().encode()


def statement_html(
    line: CloseLine,
    sales: Iterable[StatementLine],
    program: Sequence[ProgramAccrual] = (),
    extra: Sequence[Section] = (),
    lang: str = "en",
) -> bytes:
    """The statement page people open (`loyalty.close.statement_render`: the Jinja2 template in
    the partner's language); `lang` is the partner's saved language, else its country's."""
    from loyalty.close.statement_render import render_statement_html  # it renders these lines

    return render_statement_html(line, sales, program, extra, lang)


__all__ = [
    "STATEMENT_COLUMNS",
    "Section",
    "StatementDue",
    "StatementLine",
    "statement_csv",
    "statement_due",
    "statement_html",
    "statements_due",
]
