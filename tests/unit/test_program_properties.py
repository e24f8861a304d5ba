"""Properties of the whole program engine (issue 10, point 5), over generated programs on the
in-memory container: partners in a random sponsor tree, a pilot cohort on its own scoped rules
version, a quarterly target with random bands, random sales and returns, three monthly closes.

- the sum of the lines equals every total: program lines = the close line's bonus and override,
  close lines = the proposal's totals, payouts = the ledger's bank entries = the bank file, each
  partner's matured amount = its ledger accruals less clawbacks, and the ledger balances;
- re-running changes nothing: every step delivered twice (at-least-once), the close started
  again once finished, and the same inputs run again in a fresh world give byte-identical lines,
  program files and statements."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.close.header import Decision
from loyalty.close.ledger import BANK, EXPENSES, payable_account
from loyalty_factories.program import demo_iban

from tests.conftest import RULES, sales_csv
from tests.unit.close_world import FRANK, OLGA, after

PERIODS = ["2026-01", "2026-02", "2026-03"]
ZERO = Decimal("0.00")
HEADER = (
    "partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,"
    "starting_tier,certified,iban,bic"
)
TARGET_HEADER = (
    "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,"
    "bands,method,version,effective_from"
)


@dataclass(frozen=True)
class Program:
    sponsors: list[int]  # partner i's sponsor index (< i) or -1
    pilots: list[bool]
    sales: list[tuple[int, int, int, int, str]]  # (partner, month index, day, quantity, price)
    returns: list[int]  # indexes into sales of lines returned (one unit) the next month
    goal: int
    bands: str
    method: str


@st.composite
def programs(draw: Any) -> Program:
    n = draw(st.integers(2, 6))
    sponsors = [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]
    pilots = [draw(st.booleans()) for _ in range(n)]
    sale = st.tuples(
        st.integers(0, n - 1),
        st.integers(0, 2),
        st.integers(1, 28),
        st.integers(1, 3),
        st.sampled_from(["99.99", "1000.00", "2500.50", "12000.00", "333.33"]),
    )
    sales = draw(st.lists(sale, min_size=1, max_size=14))
    returns = draw(st.lists(st.integers(0, len(sales) - 1), max_size=3, unique=True))
    bands = draw(st.sampled_from(["", "80:50|100:100|120:150", "50:20|100:100|150:250"]))
    method = draw(st.sampled_from(["flat", "step", "interpolated"]))
    return Program(sponsors, pilots, sales, returns, draw(st.integers(1000, 40000)), bands, method)


def pilot_rules() -> bytes:
    rules = yaml.safe_load(RULES)
    for tier in rules["tiers"]:
        tier["commission_pct"] = str(Decimal(tier["commission_pct"]) + 1)
    rules.update(
        version="pilot-x",
        effective_from="2026-02-01",
        scope={"cohort": "Pilot-X"},
        holding_days=10,
        minimum_payout_eur="20",
        override={"level_pct": ["2", "1", "0.5"], "max_depth": 3},
    )
    return yaml.safe_dump(rules).encode()


def world(p: Program) -> MemoryContainer:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    c.load("rules/pilot.yaml", pilot_rules())
    rows = [HEADER]
    for i, s in enumerate(p.sponsors):
        sponsor = f"P{s + 1:05d}" if s >= 0 else ""
        cohort = "pilot-x" if p.pilots[i] else ""
        rows.append(
            f"P{i + 1:05d},Partner {i + 1},p{i + 1}@example.com,smb,DE,{sponsor},2026-01-01,{cohort},,,,"
            f"{demo_iban('DE', i + 1)},COBADEFFXXX"
        )
    c.load("registry/partners.csv", ("\n".join(rows) + "\n").encode())
    for pid, item in c.store.partners.items():  # loaded at a known time: the bank details' `since`
        c.store.partners[pid] = dataclasses.replace(item, bank_since="2026-01-01T00:00:00Z")
    target = f"T-Q1,segment,smb,net_sales,,quarter,2026-Q1,{p.goal},,500,{p.bands},{p.method},T1,2026-01-01"
    c.load("targets/q1.csv", f"{TARGET_HEADER}\n{target}\n".encode())
    return c


def files_of(p: Program) -> dict[str, list[list[Any]]]:
    """Sales files per partner and month (the returns a month after their sale)."""
    out: dict[str, list[list[Any]]] = defaultdict(list)
    for k, (who, m, day, qty, price) in enumerate(p.sales):
        pid = f"P{who + 1:05d}"
        out[f"{pid}/{m}"].append(
            [f"S{k}", pid, f"{PERIODS[m]}-{day:02d}", "SKU-1", qty, price, "EUR", "hardware", f"C{k}", ""]
        )
    for k in p.returns:
        who, m, day, _, price = p.sales[k]
        if m < 2:
            pid = f"P{who + 1:05d}"
            out[f"{pid}/{m + 1}"].append(
                [
                    f"R{k}",
                    pid,
                    f"{PERIODS[m + 1]}-{day:02d}",
                    "SKU-1",
                    -1,
                    price,
                    "EUR",
                    "hardware",
                    f"C{k}",
                    f"S{k}",
                ]
            )
    return out


def close_twice(c: MemoryContainer, period: str) -> list[str]:
    """One close with every step delivered twice (at-least-once); returns its batch keys."""
    svc, wf, now = c.close(), c.workflow(), after(period)
    run = svc.start(wf, period, OLGA, False, now).run
    for _ in range(2):
        svc.freeze(period, run)
    manifest = svc.plan(period, run).manifest
    batches = svc.files.batches(manifest)
    for b in batches * 2:
        svc.review(period, run, b)
    svc.propose(period, run, manifest)
    svc.request_approval(period, run, f"token-{run}", now)
    shown = c.store.close_meta(period)
    assert shown is not None
    c.approvals().approve(FRANK, period, "ok", (), now, run=shown.run, digest=shown.proposal_digest)
    decision = Decision.from_json(c.workflow().succeeded[-1][1])
    for b in batches * 2:
        svc.pay(period, run, b, decision)
    for _ in range(2):
        c.bank_files().bank_files(period, run, manifest, now)
        svc.recognize(period, run, manifest)
    for b in batches * 2:
        svc.statements(period, run, b)
    svc.finish(period, run, now)
    svc.finish(period, run, now)
    return batches


def run(p: Program) -> tuple[MemoryContainer, dict[str, list[str]]]:
    c = world(p)
    files = files_of(p)
    batches: dict[str, list[str]] = {}
    for m, period in enumerate(PERIODS):
        for key in sorted(k for k in files if k.endswith(f"/{m}")):
            pid = key.split("/")[0]
            c.upload(f"incoming/{pid}/{period}.csv", sales_csv(files[key]))
            c.deliver()
        batches[period] = close_twice(c, period)
    return c, batches


def snapshot(c: MemoryContainer, ids: list[str]) -> dict[str, Any]:
    lines = {p: {k: ln.to_json() for k, ln in c.store.close_lines(p, ids).items()} for p in PERIODS}
    keys = [k for prefix in ("statements/", "payouts/", "close/") for k in c.blobs.keys(prefix)]
    blobs = {k: c.blobs.get(k) for k in keys}
    return {
        "lines": lines,
        "ledger": sorted(repr(e) for p in PERIODS for e in c.store.ledger_entries(period=p)),
        "blobs": blobs,
    }


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(programs())
def test_every_total_is_the_sum_of_its_lines_and_re_running_changes_nothing(p: Program) -> None:
    c, batches = run(p)
    ids = [f"P{i + 1:05d}" for i in range(len(p.sponsors))]
    svc = c.close()
    for period in PERIODS:
        lines = c.store.close_lines(period, ids)
        program = {pid: acc for b in batches[period] for pid, acc in svc.files.program(b).items()}
        for pid, ln in lines.items():
            kinds = defaultdict(lambda: ZERO)
            for a in program.get(pid, []):
                kinds[a.kind] += a.amount
            assert (ln.bonus_eur, ln.override_eur) == (kinds["bonus"], kinds["override"]), (pid, period)
            assert ln.payout == ln.carried_in + ln.matured_now - ln.carried_out
            entries = c.store.ledger_entries(pid)
            acct = payable_account(pid)
            accrued = sum((e.amount for e in entries if e.period == period and e.debit in EXPENSES), ZERO)
            clawed = sum((e.amount for e in entries if e.period == period and e.credit in EXPENSES), ZERO)
            assert accrued - clawed == ln.matured_now, (pid, period)
            paid = sum(
                (e.amount for e in entries if e.period == period and (e.debit, e.credit) == (acct, BANK)),
                ZERO,
            )
            assert paid == ln.payout
        meta = c.store.close_meta(period)
        assert meta is not None
        totals = json.loads(c.blobs.get(meta.proposal))["totals"]
        assert Decimal(totals["payout"]) == sum((ln.payout for ln in lines.values()), ZERO)
        assert Decimal(totals["bonus"]) == sum((ln.bonus_eur for ln in lines.values()), ZERO)
        assert Decimal(totals["override"]) == sum((ln.override_eur for ln in lines.values()), ZERO)
        bank = [k for k in c.blobs.keys(f"payouts/{period}/") if k.endswith("payouts.csv")]
        in_files = sum(
            (Decimal(r.split(",")[2]) for k in bank for r in c.blobs.get(k).decode().splitlines()[1:]), ZERO
        )
        assert in_files == sum((ln.payout for ln in lines.values()), ZERO)
    before = snapshot(c, ids)
    for period in PERIODS:  # the schedule fires again: nothing starts, nothing changes
        started = svc.start(c.workflow(), period, OLGA, False, after(period) + dt.timedelta(days=3))
        assert not started.started
    assert snapshot(c, ids) == before
    again, _ = run(p)  # the same inputs in a fresh world: the very same results, byte for byte
    assert_same(snapshot(again, ids), before)


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Equal snapshots, or the first thing that differs (which blob, which lines)."""
    assert got["lines"] == want["lines"]
    assert got["ledger"] == want["ledger"]
    assert sorted(got["blobs"]) == sorted(want["blobs"])
    for key, body in want["blobs"].items():
        if got["blobs"][key] != body:
            diff = difflib.unified_diff(
                body.decode().splitlines(), got["blobs"][key].decode().splitlines(), lineterm=""
            )
            raise AssertionError(f"{key} differs:\n" + "\n".join(list(diff)[:30]))
