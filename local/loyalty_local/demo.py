"""`make demo`: a realistic program run end to end through the local cloud.

Generates a partner registry (segments, sponsors, distributors, cohorts, starting tiers), FX
rates on business days, three months of sales files from partners and distributors in the
formats partners really send (`;` with decimal comma, Windows-1251 1C exports with Russian
headers, BOMs, shuffled columns), returns, foreign currency, a few bad rows and a correction
file; uploads everything through S3, waits with a progress bar, and prints per-segment totals
and the reconciliation (rows in = accepted + rejected).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty.ingest.sales.contract import COLUMNS
from loyalty.kernel.money import ZERO, fmt_eur
from loyalty.program.registry import REGISTRY_SPEC

from loyalty_local.cli import Progress

MONTHS = ["2026-08", "2026-09", "2026-10"]
SEGMENTS = [("smb", 0.45), ("enterprise", 0.2), ("retail", 0.25), ("public-sector", 0.1)]
COUNTRIES = {"DE": "EUR", "FR": "EUR", "NL": "EUR", "US": "USD", "GB": "GBP", "PL": "PLN", "CH": "CHF"}
RATES = {"USD": Decimal("1.09"), "GBP": Decimal("0.85"), "PLN": Decimal("4.31"), "CHF": Decimal("0.94")}
CATEGORIES = [("hardware", 0.55), ("software", 0.3), ("services", 0.15)]
HEADER = list(COLUMNS)
RU_HEADER = [
    "Номер продажи",
    "Код партнера",
    "Дата",
    "Артикул",
    "Количество",
    "Цена",
    "Валюта",
    "Категория",
    "Клиент",
    "Исходная продажа",
]


@dataclass
class DemoPartner:
    pid: str
    name: str
    segment: str
    country: str
    sponsor: str = ""
    cohort: str = ""
    distributor_for: list[str] = field(default_factory=list)
    starting_tier: str = ""
    style: str = "plain"  # plain | semicolon | 1c | bom
    size: float = 1.0
    iban: str = ""
    certified: str = ""


def demo_iban(country: str, n: int) -> str:
    """A valid (check digits) IBAN for the demo: German/Dutch/French-shaped BBAN."""
    bban = {"DE": f"37040044{n:010d}", "NL": f"ABNA{n:010d}", "FR": f"2004101005{n:011d}06"}.get(
        country, f"37040044{n:010d}"
    )
    cc = country if country in {"DE", "NL", "FR"} else "DE"
    digits = "".join(str(int(c, 36)) for c in bban + cc + "00")
    return f"{cc}{98 - int(digits) % 97:02d}{bban}"


@dataclass
class DemoFile:
    key: str
    body: bytes
    rows: int
    bad: int


def _pick(rnd: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rnd.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def make_partners(n: int, rnd: random.Random) -> list[DemoPartner]:
    partners: list[DemoPartner] = []
    for i in range(1, n + 1):
        country = rnd.choices(list(COUNTRIES), [30, 12, 8, 15, 12, 13, 10])[0]
        p = DemoPartner(
            pid=f"P{i:05d}",
            name=f"{rnd.choice(['Nord', 'Alpha', 'Blue', 'Prime', 'Vector', 'Orbit', 'Delta', 'Sigma'])}"
            f" {rnd.choice(['Systems', 'IT', 'Solutions', 'Trade', 'Networks', 'Group'])} {i}",
            segment=_pick(rnd, SEGMENTS),
            country=country,
            cohort=rnd.choices(["", "pilot", "control"], [70, 15, 15])[0],
            style=rnd.choices(["plain", "semicolon", "1c", "bom"], [55, 20, 15, 10])[0],
            size=rnd.lognormvariate(0, 0.9),
        )
        if i > 5 and rnd.random() < 0.6:
            p.sponsor = partners[rnd.randrange(0, i - 1)].pid
        if rnd.random() < 0.08:
            p.starting_tier = rnd.choice(["Silver", "Gold"])
        if rnd.random() < 0.93:  # a few have not sent bank details yet: their payouts are held
            p.iban = demo_iban(country, i)
        if rnd.random() < 0.2:
            p.certified = f"CERT-SALES:{rnd.randint(1, 3)}"
        partners.append(p)
    # distributors: about 1 in 12 partners uploads for 3-8 smaller partners
    free = [p for p in partners if p.size < 1.0]
    rnd.shuffle(free)
    for d in partners[:: max(1, n // 20)]:
        take = [f for f in free[: rnd.randint(3, 8)] if f.pid != d.pid]
        free = free[len(take) :]
        d.distributor_for = [t.pid for t in take]
    return partners


def registry_csv(partners: list[DemoPartner]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REGISTRY_SPEC.columns)
    for p in partners:
        w.writerow(
            [
                p.pid,
                p.name,
                f"finance@{p.pid.lower()}.example",
                p.segment,
                p.country,
                p.sponsor,
                "2026-01-15",
                p.cohort,
                "|".join(p.distributor_for),
                p.starting_tier,
                p.certified,
                p.iban,
                "",
            ]
        )
    return buf.getvalue().encode()


def rates_csv(rnd: random.Random) -> bytes:
    lines = ["date,currency,units_per_eur"]
    day = dt.date(2026, 7, 25)
    while day <= dt.date(2026, 10, 31):
        if day.weekday() < 5:  # ECB-style: business days only; weekends use the latest rate
            for cur, base in RATES.items():
                lines.append(
                    f"{day.isoformat()},{cur},{(base * Decimal(1 + rnd.uniform(-0.02, 0.02))).quantize(Decimal('0.0001'))}"
                )
        day += dt.timedelta(days=1)
    return ("\n".join(lines) + "\n").encode()


def _write(rows: list[list[str]], style: str) -> bytes:
    buf = io.StringIO()
    delim = ";" if style in ("semicolon", "1c") else ","
    w = csv.writer(buf, delimiter=delim, lineterminator="\r\n" if style == "1c" else "\n")
    order = list(range(len(HEADER)))
    if style == "semicolon":
        order = [2, 0, 1, 3, 5, 4, 6, 7, 8, 9]  # shuffled columns
    header = RU_HEADER if style == "1c" else HEADER
    w.writerow([header[i] for i in order])
    for r in rows:
        out = [r[i] for i in order]
        if delim == ";":
            out[order.index(5)] = out[order.index(5)].replace(".", ",")  # decimal comma
        w.writerow(out)
    text = buf.getvalue()
    if style == "1c":
        return text.encode("cp1251")
    if style == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    return text.encode()


BAD_ROWS = [
    ("sold_at", "2026-02-30"),
    ("partner_id", "P99999"),
    ("sku", '=HYPERLINK("http://x")'),
    ("unit_price", "1.234,50"),
    ("quantity", "2.5"),
    ("currency", "EURO"),
    ("quantity", "0"),
    ("sku", ""),
]


def make_sales(partners: list[DemoPartner], total_rows: int, rnd: random.Random) -> list[DemoFile]:
    by_id = {p.pid: p for p in partners}
    uploader_of = {p.pid: p.pid for p in partners}
    for d in partners:
        for c in d.distributor_for:
            uploader_of[c] = d.pid
    weight = sum(p.size for p in partners)
    per_month = total_rows / len(MONTHS)
    prices = {f"SKU-{k:04d}": Decimal(rnd.randint(900, 250000)) / 100 for k in range(600)}
    skus = list(prices)
    history: dict[str, list[tuple[str, int]]] = defaultdict(list)  # partner -> (sale_id, qty)
    files: list[DemoFile] = []
    seq = 0
    bad_left = list(BAD_ROWS) * 3
    rnd.shuffle(bad_left)
    for mi, month in enumerate(MONTHS):
        year, mon = map(int, month.split("-"))
        days = (dt.date(year + (mon == 12), mon % 12 + 1, 1) - dt.date(year, mon, 1)).days
        batches: dict[str, list[list[str]]] = defaultdict(list)
        earlier = {pid: list(h) for pid, h in history.items()}  # sales of previous months only
        for p in partners:
            n = max(1, round(per_month * p.size / weight * rnd.uniform(0.8, 1.25) * (1 + 0.15 * mi)))
            cur = COUNTRIES[p.country]
            for _ in range(n):
                seq += 1
                sku = rnd.choice(skus)
                cat = _pick(rnd, CATEGORIES)
                price = prices[sku] * (RATES.get(cur, Decimal(1)) if cur != "EUR" else 1)
                when = dt.datetime(year, mon, rnd.randint(1, days), rnd.randint(7, 19), rnd.randint(0, 59))
                sold = (
                    when.date().isoformat()
                    if rnd.random() < 0.7
                    else when.isoformat(timespec="minutes") + "+02:00"
                )
                if earlier.get(p.pid) and rnd.random() < 0.03:  # a return of a previous month's sale
                    orig, oq = rnd.choice(earlier[p.pid])
                    row = [
                        f"R{seq:07d}",
                        p.pid,
                        sold,
                        sku,
                        str(-rnd.randint(1, max(1, oq))),
                        f"{price:.2f}",
                        cur,
                        cat,
                        "",
                        orig,
                    ]
                else:
                    qty = rnd.choices([1, 2, 3, 5, 10, 20], [40, 25, 15, 10, 7, 3])[0]
                    row = [
                        f"S{seq:07d}",
                        p.pid,
                        sold,
                        sku,
                        str(qty),
                        f"{price:.2f}",
                        cur,
                        cat,
                        f"C{rnd.randint(1, 4000):05d}",
                        "",
                    ]
                    history[p.pid].append((row[0], qty))
                batches[uploader_of[p.pid]].append(row)
        for uploader, rows in batches.items():
            rows.sort(key=lambda r: r[2])
            bad = 0
            if bad_left and rnd.random() < 0.12:
                col, value = bad_left.pop()
                broken = list(rows[rnd.randrange(len(rows))])
                broken[HEADER.index(col)] = value
                broken[0] = f"X{seq:07d}"
                seq += 1
                rows.append(broken)
                bad = 1
            files.append(
                DemoFile(
                    f"incoming/{uploader}/sales-{month}.csv",
                    _write(rows, by_id[uploader].style),
                    len(rows),
                    bad,
                )
            )
    # a correction: one partner re-sends 20 of last month's lines with fixed quantities
    fix = next(
        p
        for p in partners
        if not p.distributor_for and len(history[p.pid]) > 40 and uploader_of[p.pid] == p.pid
    )
    rows = []
    for sid, qty in history[fix.pid][-20:]:
        rows.append(
            [
                sid,
                fix.pid,
                "2026-10-28",
                "SKU-0001",
                str(qty + 1),
                f"{prices['SKU-0001']:.2f}",
                "EUR",
                "hardware",
                "C00001",
                "",
            ]
        )
    files.append(DemoFile(f"incoming/{fix.pid}/correction-2026-10.csv", _write(rows, "plain"), len(rows), 0))
    return files


def run_demo(partners: int = 200, rows: int = 51_000, seed: int = 7) -> int:
    from loyalty.adapters.dynamo import DynamoStore
    from loyalty.earning.balances import BalanceService
    from loyalty.ingest.keys import report_base

    from loyalty_local.cloud import REGION, LocalCloud

    started = time.monotonic()
    rnd = random.Random(seed)
    people = make_partners(partners, rnd)
    files = make_sales(people, rows, rnd)
    print(
        f"generated {len(people)} partners in {len({p.segment for p in people})} segments, "
        f"{sum(1 for p in people if p.distributor_for)} distributors, {sum(f.rows for f in files)} sales rows in {len(files)} files"
    )
    with LocalCloud(stack_name="loyalty-demo") as cloud:
        print(f"local cloud up in {time.monotonic() - started:.1f}s: bucket {cloud.bucket}")
        cloud.upload(
            "rules/default-program.yaml",
            (Path(__file__).resolve().parents[2] / "rules/default-program.yaml").read_bytes(),
        )
        cloud.run_until_idle()
        cloud.upload("registry/partners.csv", registry_csv(people))
        cloud.upload("rates/ecb-2026-q3.csv", rates_csv(rnd))
        cloud.run_until_idle()
        reg = cloud.read_json("reports/config/registry/partners.csv.report.json")
        print(f"registry: {reg['accepted']} partners loaded, {reg['rejected']} rejected")
        bar = Progress("uploading and processing", len(files))
        for i, f in enumerate(files, 1):
            cloud.upload(f.key, f.body)
            cloud.run_until_idle()
            bar.update(i, note=f.key.split("/", 1)[1][:40])
        cloud.settle()
        bar.close()
        summaries = [cloud.read_json(report_base(f.key) + ".summary.json") for f in files]
        store = DynamoStore(cloud.outputs["TableName"], REGION)
        today = dt.date(2026, 11, 23)
        seg: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"partners": 0, "net": ZERO, "comm": ZERO, "lines": 0}
        )
        svc = BalanceService(store)
        bar = Progress("reading balances", len(people))
        for i, p in enumerate(people, 1):
            t = seg[p.segment]
            t["partners"] += 1
            for b in svc.balances(p.pid, MONTHS, today).values():
                t["net"] += b.net_sales_eur
                t["comm"] += sum(b.commission.values(), ZERO)
                t["lines"] += b.lines
            bar.update(i)
        bar.close()
        print(f"\n{'segment':<15}{'partners':>9}{'lines':>9}{'net sales EUR':>18}{'commission EUR':>17}")
        for name in sorted(seg):
            t = seg[name]
            print(
                f"{name:<15}{t['partners']:>9}{t['lines']:>9}{fmt_eur(t['net']):>18}{fmt_eur(t['comm']):>17}"
            )
        tot_net = sum((t["net"] for t in seg.values()), ZERO)
        tot_comm = sum((t["comm"] for t in seg.values()), ZERO)
        tot_lines = sum(t["lines"] for t in seg.values())
        print(f"{'total':<15}{len(people):>9}{tot_lines:>9}{fmt_eur(tot_net):>18}{fmt_eur(tot_comm):>17}")
        rows_in = sum(f.rows for f in files)
        rows_seen = sum(s["rows"] for s in summaries)
        accepted = sum(s["accepted"] for s in summaries)
        rejected = sum(s["rejected"] for s in summaries)
        new = sum(s["new"] for s in summaries)
        replaced = sum(s["replaced"] for s in summaries)
        superseded = sum(s["superseded"] for s in summaries)
        print("\nreconciliation")
        print(f"  rows in files            {rows_in}")
        print(f"  rows reported            {rows_seen}  = accepted {accepted} + rejected {rejected}")
        print(
            f"  accepted                 {accepted}  = new {new} + replaced {replaced} + superseded {superseded}"
        )
        print(f"  accrual lines stored     {tot_lines}  = new {new}")
        print(
            f"  bad rows planted         {sum(f.bad for f in files)}; rejected rows listed in reports/ingest/**.errors.csv"
        )
        print(
            f"  dead-lettered chunks     {cloud.pending()} pending, DLQ reports: "
            f"{cloud.client('s3').list_objects_v2(Bucket=cloud.bucket, Prefix='reports/dlq/').get('KeyCount', 0)}"
        )
        ok = (
            rows_in == rows_seen == accepted + rejected
            and accepted == new + replaced + superseded
            and tot_lines == new
            and all(s["reconciled"] for s in summaries)
        )
        print(f"\n{'RECONCILED' if ok else 'NOT RECONCILED'} in {time.monotonic() - started:.0f}s")
        if not ok:
            return 1
        return 0 if monthly_closes(cloud, store, started) else 1


def monthly_closes(cloud: Any, store: Any, started: float) -> bool:
    """Close the demo months in order: an operator starts each run, a finance controller (another
    person) approves it; print tier movements, payouts and where the files are."""
    from loyalty.close.ledger import Ledger

    print("\nmonthly closes (operator olga starts, finance controller frank approves)")
    print(
        f"{'period':<9}{'partners':>9}{'active':>8}{'up':>5}{'down':>6}{'grace':>7}{'payees':>8}{'payout EUR':>15}{'carried EUR':>14}{'anomalies':>11}"
    )
    paid_total = ZERO
    for period in MONTHS:
        code, body = cloud.api("POST", "/closes", "olga", "operator", {"period": period})
        if code != 200:
            print(f"  {period}: could not start: {body}")
            return False
        run = body["run"]
        cloud.wait_execution(
            run,
            until=lambda c, p=period: (
                c.api("GET", f"/closes/{p}", "olga", "operator")[1]["status"] == "awaiting_approval"
            ),
        )
        code, refused = cloud.api("POST", f"/closes/{period}/approve", "olga", "operator", {})
        assert code == 403, refused  # maker-checker: an operator cannot approve
        code, body = cloud.api(
            "POST", f"/closes/{period}/approve", "frank", "finance", {"comment": "checked"}
        )
        if code != 200:
            print(f"  {period}: approval refused: {body}")
            return False
        ex = cloud.wait_execution(run)
        meta = cloud.api("GET", f"/closes/{period}", "frank", "finance")[1]
        prop = meta["proposal"]
        moves = prop["tier_moves"]
        print(
            f"{period:<9}{prop['partners']:>9}{prop['partners'] - prop['dormant']:>8}{moves.get('up', 0):>5}"
            f"{moves.get('down', 0):>6}{moves.get('grace', 0):>7}{prop['payees']:>8}"
            f"{fmt_eur(Decimal(prop['totals']['payout'])):>15}{fmt_eur(Decimal(prop['totals']['carried_out'])):>14}"
            f"{prop['anomaly_count']:>11}   {ex['status']}"
        )
        if ex["status"] != "SUCCEEDED":
            return False
        paid_total += Decimal(meta.get("paid_total", "0"))
    entries = [e for p in MONTHS for e in store.ledger_entries(period=p)]
    ledger = Ledger(entries)
    bank = -ledger.balances().get("asset:bank", ZERO)
    last = MONTHS[-1]
    print(
        f"\n  ledger: {len(entries)} immutable entries, trial balance {ledger.trial_balance()}, paid out EUR {fmt_eur(bank)}"
    )
    sample = sorted(
        k["Key"]
        for k in cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="statements/", MaxKeys=2)[
            "Contents"
        ]
    )
    print(
        f"  bank files:  s3://{cloud.bucket}/payouts/<period>/payouts.csv and pain001.xml (e.g. payouts/{last}/)"
    )
    print(f"  statements:  s3://{cloud.bucket}/statements/<partner>/<period>.html|.csv (e.g. {sample[0]})")
    print(f"  audit trail: loyalty approvals show {last}   (who started, approved, when, why)")
    ok = ledger.trial_balance() == 0 and bank == paid_total
    print(
        f"\n{'CLOSED' if ok else 'NOT CLOSED'}: {len(MONTHS)} months closed, approved and paid in {time.monotonic() - started:.0f}s"
    )
    return ok


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_demo())


# -- a large, mostly dormant program (the close's scale test and benchmark) ---------------------------
SCALE_IBAN = "DE89370400440532013000"
PER_DISTRIBUTOR = 250


def scale_registry(partners: int, sellers: int) -> bytes:
    """`partners` partners, the first `sellers` of them active (two in three with bank details),
    plus one distributor per 250 sellers that reports their sales."""
    head = ",".join(REGISTRY_SPEC.columns) + "\n"
    segs = ["smb", "enterprise", "public", "retail"]
    rows = [
        f"P{i:06d},Partner {i},p{i}@example.com,{segs[i % 4]},DE,,2026-01-01,,,,,"
        f"{SCALE_IBAN if i < sellers and i % 3 else ''},\n"
        for i in range(partners)
    ]
    for d, start in enumerate(range(0, sellers, PER_DISTRIBUTOR)):
        sold_for = "|".join(f"P{i:06d}" for i in range(start, min(sellers, start + PER_DISTRIBUTOR)))
        rows.append(
            f"D{d:06d},Distributor {d},ops{d}@dist.example,distribution,DE,,2026-01-01,,{sold_for},,,,\n"
        )
    return (head + "".join(rows)).encode()


def scale_sales(sellers: int) -> dict[str, bytes]:
    """One EUR 5 000 sale on 2026-08-01 per seller, in one file per distributor."""
    head = ",".join(COLUMNS) + "\n"
    out = {}
    for d, start in enumerate(range(0, sellers, PER_DISTRIBUTOR)):
        body = "".join(
            f"S{i},P{i:06d},2026-08-01,SKU,1,5000.00,EUR,,C{i},\n"
            for i in range(start, min(sellers, start + PER_DISTRIBUTOR))
        )
        out[f"incoming/D{d:06d}/aug.csv"] = (head + body).encode()
    return out
