"""The report's pilots: each rules version scoped to a cohort or segments that has started by the
month, estimated by `loyalty.analytics.uplift` (pilot vs control, difference-in-differences) over
the partner-month panel of `queries/pilot_panel.sql`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyalty.analytics.engine import QueryEngine, load_query
from loyalty.analytics.figures import dec
from loyalty.program.rules import RuleVersion

# The estimator is helper "uplift"'s module (issue 13), merged by the lead: until it is on this
# branch the report lists no pilot and says why. Remove the guard when both are on main.
try:
    from loyalty.analytics import uplift  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover - only before the integration
    uplift = None  # type: ignore[assignment,unused-ignore]


def pilot_windows(versions: Sequence[RuleVersion], period: str) -> list[tuple[str, str]]:
    """The (first, last) months of each pilot's panel at `period`."""
    if uplift is None:  # pragma: no cover - only before the integration
        return []
    return [uplift.panel_window(v, period) for v in uplift.pilots(versions, period)]


def pilot_results(
    engine: QueryEngine, versions: Sequence[RuleVersion], period: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each pilot's estimate as JSON, and the report's warnings about pilots."""
    if uplift is None:  # pragma: no cover - only before the integration
        scoped = [
            v.version for v in versions if v.scope.scoped and v.effective_from.isoformat()[:7] <= period
        ]
        return [], [f"pilots not estimated (no estimator installed): {', '.join(scoped)}"] if scoped else []
    out: list[dict[str, Any]] = []
    panels: dict[tuple[str, str], list[Any]] = {}
    for version in uplift.pilots(versions, period):
        first, last = uplift.panel_window(version, period)
        if (first, last) not in panels:
            rows = engine.run(load_query("pilot_panel"), {"period_from": first, "period_to": last}).dicts()
            panels[first, last] = [
                uplift.PanelRow(
                    partner_id=r["partner_id"],
                    period=r["period"],
                    segment=r["segment"] or "",
                    cohort=r["cohort"] or "",
                    net_sales=dec(r["net_sales"]),
                    cost=dec(r["cost"]),
                )
                for r in rows
            ]
        out.append(uplift.estimate(version, panels[first, last], period).to_json())
    return out, []
