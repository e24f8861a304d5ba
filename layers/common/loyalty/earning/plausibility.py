"""Plausibility caps per line (issue 9, point 16), as a pure rule: a computed accrual above the
EUR amount cap or the quantity cap of the rule version that priced it is held for review, with
its reason, instead of being written. Absolute values: a return is held by its size too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loyalty.earning.commission.model import Accrual
from loyalty.kernel.csvio.model import RowIssue
from loyalty.program.rules import RuleVersion


def hold_reason(acc: Accrual, rules: RuleVersion | None) -> str | None:
    """Why `acc` is held for review, or None when it is within the caps of its rules."""
    caps = rules.plausibility if rules is not None else None
    if caps is None:
        return None
    if caps.max_line_eur is not None and abs(acc.net_eur) > caps.max_line_eur:
        return (
            f"held for review: line amount EUR {acc.net_eur} is above the cap EUR {caps.max_line_eur}"
            f" (rules {acc.rule_version})"
        )
    q = acc.row.quantity
    if caps.max_line_quantity is not None and abs(q) > caps.max_line_quantity:
        return f"held for review: quantity {q} is above the cap {caps.max_line_quantity} (rules {acc.rule_version})"
    return None


def hold_implausible(
    accruals: Sequence[Accrual], versions: Mapping[str, RuleVersion]
) -> tuple[list[Accrual], list[RowIssue]]:
    """The accruals to write, and one held-for-review entry (line, sale id, reason) per held line."""
    kept: list[Accrual] = []
    held: list[RowIssue] = []
    for acc in accruals:
        reason = hold_reason(acc, versions.get(acc.rule_version))
        if reason is None:
            kept.append(acc)
        else:
            held.append(RowIssue(acc.row.line, "sale_id", acc.row.sale_id, reason))
    return kept, held
