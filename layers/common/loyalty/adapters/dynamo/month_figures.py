"""The month item's sales figures beyond its declared attributes (issue 10, target bonuses):
units, net EUR and units per category (bounded), and the late lines by the month they were sold.

Each is a top-level Number (`k:<category>`, `u:<category>`, `l:<key>`, `lu:<key>`) so that a
chunk's delta ADDs to it in the month update the writer already makes (DynamoDB ADDs only to
top-level attributes): no extra read or write per row. The category bound is kept by a condition
on that update (`cats`, the set of named categories, has room for the delta's); only when it fails
(a month near the bound) is `cats` read once and the delta folded (`bounded_categories`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from loyalty.adapters.dynamo.models import MonthItem
from loyalty.earning.records import MAX_CATEGORIES, OTHER, MonthDelta, bounded_categories

Pairs = Mapping[str, tuple[Decimal, int]]


def _num(value: Decimal | int) -> dict[str, str]:
    return {"N": f"{value:f}" if isinstance(value, Decimal) else str(value)}


def figure_update(
    M: type[MonthItem], delta: MonthDelta, known: set[str] | None
) -> tuple[list[Action], Condition | None]:
    """The delta's figure ADDs (its categories folded to the bound once `known` was read) and the
    condition that keeps the bound."""
    cats = bounded_categories(delta.by_category, known or set())
    return figure_actions(M, delta.units, cats, delta.late_sold), room_condition(M, cats, known)


def figure_actions(M: type[MonthItem], units: int, cats: Pairs, late: Pairs) -> list[Action]:
    """The ADDs of a delta's units, per-category and late figures."""
    out: list[Action] = []
    if units:
        out.append(M.units.add(units))
    for net_name, units_name, pairs in (("k", "u", cats), ("l", "lu", late)):
        for key, (net, n) in sorted(pairs.items()):
            out.append(Path([f"{net_name}:{key}"]).add(_num(net)))
            out.append(Path([f"{units_name}:{key}"]).add(_num(n)))
    if cats:
        out.append(M.cats.add(set(cats)))
    return out


def room_condition(M: type[MonthItem], cats: Pairs, known: set[str] | None) -> Condition | None:
    """None when the delta has no category; else: the item has room for all of them as new (first
    try), or, after `cats` was read (`known`), it still holds exactly those."""
    if not cats:
        return None
    if known is None:
        room = MAX_CATEGORIES - len([c for c in cats if c != OTHER])
        cond: Condition = M.cats.does_not_exist() | (size(M.cats) <= room)  # type: ignore[no-untyped-call]
        return cond
    return M.cats.does_not_exist() if not known else size(M.cats) == len(known)  # type: ignore[no-untyped-call,no-any-return]


def known_categories(M: type[MonthItem], pk: str, sk: str) -> set[str]:
    try:
        return set(M.get(pk, sk, consistent_read=True, attributes_to_get=["cats"]).cats or ())
    except M.DoesNotExist:
        return set()


def read_figures(
    raw: Mapping[str, Any],
) -> tuple[dict[str, tuple[Decimal, int]], dict[str, tuple[Decimal, int]]]:
    """(by_category, late) of an item's raw dynamic attributes."""
    cats: dict[str, tuple[Decimal, int]] = {}
    late: dict[str, tuple[Decimal, int]] = {}
    for name, value in raw.items():
        kind, _, key = name.partition(":")
        if kind in ("k", "l"):
            units = raw.get(f"{'u' if kind == 'k' else 'lu'}:{key}", {"N": "0"})
            (cats if kind == "k" else late)[key] = (Decimal(value["N"]), int(Decimal(units["N"])))
    return dict(sorted(cats.items())), dict(sorted(late.items()))
