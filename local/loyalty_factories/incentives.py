"""The demo's incentives beyond commission: a pilot rules version for the `pilot` cohort, a targets
file (quarterly SMART goals per partner with accelerators, a monthly new-customers goal per
segment, and the next quarter's goals whose progress the October statements show), and the
proposed rules change the demo simulates over history."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Mapping
from decimal import Decimal

import yaml
from loyalty.program.target_rows import COLUMNS as TARGET_COLUMNS


def _edit(base: bytes, **changes: object) -> dict[str, object]:
    rules: dict[str, object] = yaml.safe_load(base)
    rules.update(changes)
    return rules


def pilot_rules(base: bytes) -> bytes:
    """The `pilot` cohort from September: richer rates and a lower bar to Silver, a shorter holding
    period and a lower minimum payout — governing everything for the partners in the cohort."""
    rules = yaml.safe_load(base)
    for tier in rules["tiers"]:
        tier["commission_pct"] = str(Decimal(tier["commission_pct"]) + Decimal("0.5"))
        if tier["name"] == "Silver":
            tier["threshold_eur"] = "20000"
    rules.update(
        version="2026.2-pilot",
        effective_from="2026-09-01",
        description="Pilot for the `pilot` cohort: +0.5 pp on every tier, Silver from 20 000, paid sooner.",
        scope={"cohort": "pilot"},
        holding_days=20,
        minimum_payout_eur="25",
    )
    return yaml.safe_dump(rules, sort_keys=False).encode()


def proposed_rules(base: bytes) -> bytes:
    """A rules change to try on history before publishing it: Gold from 80 000 at 4.5 %."""
    rules = yaml.safe_load(base)
    for tier in rules["tiers"]:
        if tier["name"] == "Gold":
            tier["threshold_eur"], tier["commission_pct"] = "80000", "4.5"
    rules.update(
        version="2026.3-proposed",
        effective_from="2026-08-01",
        description="Proposal: Gold from 80 000 at 4.5 %.",
    )
    return yaml.safe_dump(rules, sort_keys=False).encode()


def targets_csv(q3_net: Mapping[str, Decimal], segments: Mapping[str, str], rnd: random.Random) -> bytes:
    """Quarterly net-sales goals for the most active partners (set from their run rate, some out of
    reach, some beaten: bands pay 50 % from 80 %, 100 % at 100 %, 150 % from 120 %), a monthly
    new-customers goal for retail, and Q4 goals whose progress the October statements show."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(TARGET_COLUMNS)
    common = ["T2026H2", "2026-07-01"]
    ranked = sorted(q3_net.items(), key=lambda kv: (-kv[1], kv[0]))[:40]
    methods = ["flat", "step", "interpolated"]
    for i, (pid, net) in enumerate(ranked):
        goal = (net * Decimal(rnd.choice(["0.8", "0.9", "1.0", "1.1", "1.3"])) / 100).quantize(
            Decimal(1)
        ) * 100
        bonus = max(Decimal(250), (goal / 200).quantize(Decimal(1)))
        method = methods[i % 3]
        bands = "80:50|100:100|120:150" if method != "step" else "80:50|100:100|120:200"
        w.writerow(
            [
                f"Q3-{pid}",
                "partner",
                pid,
                "net_sales",
                "",
                "quarter",
                "2026-Q3",
                goal,
                "",
                bonus,
                bands,
                method,
                *common,
            ]
        )
        q4 = (goal * Decimal("1.05")).quantize(Decimal(1))
        w.writerow(
            [
                f"Q4-{pid}",
                "partner",
                pid,
                "net_sales",
                "",
                "quarter",
                "2026-Q4",
                q4,
                "",
                bonus,
                bands,
                method,
                *common,
            ]
        )
    if "retail" in segments.values():
        w.writerow(
            [
                "NEWCUST-RETAIL-OCT",
                "segment",
                "retail",
                "new_customers",
                "",
                "month",
                "2026-10",
                8,
                "",
                150,
                "",
                "flat",
                *common,
            ]
        )
    return out.getvalue().encode()


def demo_rules(base: bytes) -> bytes:
    """The demo's general rules: the default program, except that points expire at the end of the
    second month after the month earned (12 in the default program), so that three closes show
    points expiring."""
    rules = yaml.safe_load(base)
    rules["version"] = f"{rules['version']}-demo"
    rules["description"] = "Default program; points expire after 2 months (demo)."
    rules["points"] = {**rules.get("points", {}), "expiry_months": 2}
    return yaml.safe_dump(rules, sort_keys=False, allow_unicode=True).encode()
