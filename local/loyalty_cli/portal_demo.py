"""The portal's demo data (`loyalty up --demo`, and the browser tests' world): a small program
run through the deployed stack the way `make demo` runs the big one - rules, registry, rates,
training, catalog, three months of sales uploaded through S3 - with August and September closed,
approved and paid, and October's close waiting for finance. Then one user per role and a few
partner users (one a distributor), whose names and passwords it prints: local demo accounts.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from loyalty.adapters.dynamo import DynamoStore
from loyalty_factories.program import MONTHS, DemoPartner, make_partners
from loyalty_factories.sales import make_sales
from loyalty_local.cloud import LocalCloud
from loyalty_local.env import REGION

from loyalty_cli import demo
from loyalty_cli import demo_engagement as engagement

# the demo accounts (local only; the pool's policy: 12+ characters, upper, lower, digits)
DEMO_PASSWORD = "Demo-password-2026"  # noqa: S105 - printed demo account of the local cloud
STAFF = {"frank": "finance", "fiona": "finance", "olga": "operator", "pavel": "program_manager"}


@dataclass
class PortalDemo:
    """What the demo loaded: who signs in as what, and the periods in each state."""

    partners: list[DemoPartner]
    logins: dict[str, str] = field(default_factory=dict)  # user -> role (or partner id)
    partner_users: dict[str, str] = field(default_factory=dict)  # user -> partner id
    closed: list[str] = field(default_factory=list)
    awaiting: str = ""
    password: str = DEMO_PASSWORD

    def user_of(self, partner_id: str) -> str:
        return next(u for u, p in self.partner_users.items() if p == partner_id)


def _approve_rest(cloud: LocalCloud, periods: list[str]) -> list[str]:
    done = []
    for period in periods:
        closed = demo._close_month(cloud, period)
        if closed is None or closed[0]["status"] != "SUCCEEDED":
            raise RuntimeError(f"the demo close of {period} did not succeed")
        done.append(period)
    return done


def _await_last(cloud: LocalCloud, period: str) -> None:
    """The operator starts the last month's close; it stops at finance's decision."""
    code, body = cloud.api("POST", "/closes", "olga", "operator", {"period": period})
    if code != 200:
        raise RuntimeError(f"could not start the close of {period}: {body}")
    cloud.wait_execution(
        body["run"],
        until=lambda c: (
            c.api("GET", f"/closes/{period}", "olga", "operator")[1]["status"] == "awaiting_approval"
        ),
        machine=demo.CLOSE_MACHINE,
    )


def load(cloud: LocalCloud, partners: int = 24, rows: int = 2_400, seed: int = 11) -> PortalDemo:
    started = time.monotonic()
    rnd = random.Random(seed)
    people = make_partners(partners, rnd)
    files = make_sales(people, rows, rnd)
    demo._load_program(cloud, people, rnd)
    demo._ingest(cloud, files)
    store = DynamoStore(cloud.outputs["TableName"], REGION)
    q3 = {p.pid: Decimal(0) for p in people}
    engagement.load_training(cloud, people, q3, rnd)
    engagement.load_catalog(cloud)
    out = PortalDemo(people)
    out.closed = _approve_rest(cloud, MONTHS[:-1])
    engagement.redeem(store, MONTHS[-2])
    _await_last(cloud, MONTHS[-1])
    out.awaiting = MONTHS[-1]
    for user, role in STAFF.items():
        cloud.add_user(user, DEMO_PASSWORD, f"{user}@example.com", [role])
        out.logins[user] = role
    distributor = next((p for p in people if p.distributor_for), None)
    chosen = [p for p in people if p is not distributor][:3] + ([distributor] if distributor else [])
    for p in chosen:
        user = p.pid.lower()
        cloud.add_user(user, DEMO_PASSWORD, f"{user}@partners.example.com", ["partner"], p.pid)
        out.logins[user] = f"partner {p.pid}" + (" (distributor)" if p is distributor else "")
        out.partner_users[user] = p.pid
    print(
        f"portal demo data loaded in {time.monotonic() - started:.0f}s: {len(people)} partners, {rows} sales rows"
    )
    return out


def print_logins(loaded: PortalDemo, portal_url: str) -> None:
    print(f"\n  partner portal:   {portal_url}/partner")
    print(f"  finance console:  {portal_url}/finance")
    print(f"  sign in at        {portal_url}/   (password for every demo user: {loaded.password})")
    for user, role in loaded.logins.items():
        print(f"    {user:<10} {role}")
    print(f"  closed and paid: {', '.join(loaded.closed)}; awaiting finance: {loaded.awaiting}")
