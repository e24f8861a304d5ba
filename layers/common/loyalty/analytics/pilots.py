"""The report's pilots: each rules version scoped to a cohort or segments that has started by the
month, estimated by `loyalty.analytics.uplift` (pilot vs control, difference-in-differences) over
the panel of `queries/pilot_panel.sql` (aggregated per partner and side of the start in the query)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyalty.analytics import uplift
from loyalty.analytics.engine import QueryEngine, load_query
from loyalty.program.rules import RuleVersion


def pilot_windows(versions: Sequence[RuleVersion], period: str) -> list[tuple[str, str]]:
    """The (first, last) months of each pilot's panel at `period`."""
    return [uplift.panel_window(v, period) for v in uplift.pilots(versions, period)]


def pilot_results(engine: QueryEngine, versions: Sequence[RuleVersion], period: str) -> list[dict[str, Any]]:
    """Each pilot's estimate as JSON (its warnings inside it); pilots sharing a panel window share
    one run of the panel query."""
    out: list[dict[str, Any]] = []
    panels: dict[tuple[tuple[str, str], ...], list[Any]] = {}
    for version in uplift.pilots(versions, period):
        params = uplift.panel_params(version, period)
        key = tuple(sorted(params.items()))
        if key not in panels:  # pilots starting alike share one panel
            panels[key] = uplift.rows_of(engine.run(load_query("pilot_panel"), params))
        out.append(uplift.estimate(version, panels[key], period).to_json())
    return out
