"""The demo's engagement half (issue 11): training completions (one partner reaches Platinum
through its certification), the reward catalog, redemptions between two closes (one refused for
stock, one for points), and after the last close the points earned, spent and expired per month,
each segment's top 3 and the partner-of-the-month certificates (exported to a local folder)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from loyalty.adapters.dynamo import DynamoStore
from loyalty.close.recognize import Recognized, recognition_key
from loyalty.close.runs import run_name
from loyalty.kernel.periods import cutoff
from loyalty.points.model import EXPIRE, SPEND
from loyalty.points.redemptions import from_program
from loyalty.program.rules import RuleBook
from loyalty_factories.catalog import DEMO_CATALOG
from loyalty_factories.program import MONTHS, DemoPartner
from loyalty_factories.training import demo_training
from loyalty_local.cloud import LocalCloud

from loyalty_cli.console import stdout_console, table

EXPORT = Path("demo-output")


def load_training(
    cloud: LocalCloud, people: list[DemoPartner], q3_net: Mapping[str, Decimal], rnd: random.Random
) -> str:
    """Training completions of the quarter before the first close: CERT-SALES for the partner
    with the most Q3 sales that is not certified yet (it reaches Platinum at the first close)."""
    body, star = demo_training(people, q3_net, rnd, cutoff(MONTHS[0]))
    cloud.upload("training/2026-q3.csv", body)
    cloud.run_until_idle()
    rep = cloud.read_json("reports/config/training/2026-q3.csv.report.json")
    name = next(p.name for p in people if p.pid == star)
    print(
        f"training: {rep['accepted']} completions loaded ({rep['rejected']} rejected); {star} {name}"
        f" certified on CERT-SALES (EUR {q3_net.get(star, Decimal(0)):,.2f} in Q3, not certified before)"
    )
    for e in rep.get("errors", [])[:3]:
        print(f"  line {e['line']} {e['column']}: {e['reason']}")
    return star


def load_catalog(cloud: LocalCloud) -> None:
    cloud.upload("catalog/rewards-2026.yaml", DEMO_CATALOG.encode())
    cloud.run_until_idle()
    rep = cloud.read_json("reports/config/catalog/rewards-2026.yaml.report.json")
    print(f"catalog: {rep['accepted']} rewards loaded ({rep['rejected']} rejected)")


def redeem(store: DynamoStore, period: str) -> None:
    """Partners spend points in the month after `period`'s close: the five richest take a mug,
    two ask for the last headphones (the second is refused for stock), one asks for an e-bike it
    cannot afford (refused for points)."""
    day = dt.date.fromisoformat(f"{period}-28") + dt.timedelta(days=7)
    service = from_program(
        store, store, lambda: dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=dt.UTC)
    )
    heads = sorted(
        (h.active, pid)
        for pid, h in store.points_heads([p.partner_id for p in store.list_partners()]).items()
        if h.active > 0
    )
    rich = [pid for _, pid in reversed(heads[-5:])]
    poor = heads[0][1]  # the fewest spendable points: the e-bike is out of its reach
    out = table("partner", "reward", "request", "result", title=f"\nredemptions after the {period} close")
    asks = [(pid, "MUG", f"mug-{pid}") for pid in rich]
    asks += [(rich[0], "HEADPHONES", f"phones-{rich[0]}"), (rich[1], "HEADPHONES", f"phones-{rich[1]}")]
    asks += [(poor, "EBIKE", f"ebike-{poor}")]
    for pid, reward, request in asks:
        got = service.redeem(pid, reward, request)
        if got.refusal is not None:
            result = f"refused: {got.refusal.message}"
        elif got.redemption is not None:
            result = f"redeemed {got.redemption.points} points ({got.redemption.state})"
        else:
            result = "?"
        out.add_row(pid, reward, request, result)
    stdout_console().print(out)


def report(cloud: LocalCloud, store: DynamoStore, people: list[DemoPartner], star: str) -> bool:
    """Points per month, the top 3 of each segment in the last month, the certificates."""
    earned: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    spent: dict[str, int] = defaultdict(int)
    expired: dict[str, int] = defaultdict(int)
    balance = 0
    for p in people:
        for lot in store.lots(p.pid):
            earned[lot.period][lot.source] += lot.points
        for m in store.moves(p.pid):
            if m.kind == SPEND:
                spent[m.period] += -m.points
            elif m.kind == EXPIRE:
                expired[m.period] += -m.points
        head = store.points_head(p.pid)
        balance += head.balance if head else 0
    out = table(
        "month", "earned (sales)", "earned (courses)", "earned (bonus)", "spent", "expired", title="\npoints"
    )
    for month in MONTHS:
        e = earned.get(month, {})
        out.add_row(
            month,
            *(f"{e.get(k, 0):,}" for k in ("month", "course", "bonus")),
            f"{spent.get(month, 0):,}",
            f"{expired.get(month, 0):,}",
        )
    stdout_console().print(out)
    print(
        "  (the demo's rules keep points 2 months after the month earned, so August's points expire at the"
        " October close; the default program keeps them 12)"
    )
    postings = [p for month in MONTHS for p in store.points_postings(period=month)]
    liability = sum(
        (p.amount if p.credit.startswith("liability:points:") else -p.amount)
        for p in postings
        if p.credit.startswith("liability:points:") or p.debit.startswith("liability:points:")
    )
    value = RuleBook(store.rule_versions()).in_effect(cutoff(MONTHS[-1])).points.liability_eur_per_point
    print(
        f"  points outstanding: {balance:,}; in the ledger: {len(postings)} points entries, liability"
        f" EUR {liability:,.2f} at EUR {value} a point"
    )
    last = MONTHS[-1]
    rec = Recognized.from_json(cloud.read_json(recognition_key(last, run_name(last, 1))))
    tops = table(
        "segment", "rank", "partner", "name", "net sales EUR", title=f"\nleaderboards {last} (top 3)"
    )
    for segment, key in sorted(rec.boards.items()):
        board = cloud.read_json(key)
        for place in board["places"][:3]:
            tops.add_row(
                segment,
                str(place["rank"]),
                place["partner_id"],
                place["name"],
                f"{Decimal(place['value']):,.2f}",
            )
    stdout_console().print(tops)
    print(f"\npartner of the month certificates ({last}), exported to {EXPORT}/:")
    for pid, keys in sorted(rec.certificates.items()):
        for key in keys:
            path = EXPORT / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(cloud.read_bytes(key))
            print(f"  {pid}: s3://{cloud.bucket}/{key} -> {path}")
    tier = store.tier_for(star, MONTHS[-1])
    print(f"\n{star} reached {tier} through its CERT-SALES certification (training import)")
    booked = liability == Decimal(balance) * value
    return bool(rec.certificates) and tier == "Platinum" and sum(expired.values()) > 0 and booked
