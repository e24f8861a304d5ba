"""Three months of sales files from partners and distributors in the formats partners really send
(`;` with decimal comma and shuffled columns, Windows-1251 1C exports with Russian headers,
BOMs), with returns of earlier months, foreign currency, a few bad rows and a correction file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from loyalty.ingest.sales.contract import COLUMNS

from loyalty_factories.program import COUNTRIES, MONTHS, RATES, DemoPartner, pick

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


@dataclass
class DemoFile:
    key: str
    body: bytes
    rows: int
    bad: int


def write_sales(rows: list[list[str]], style: str) -> bytes:
    """A sales file in a partner's style: plain, semicolon (shuffled, decimal comma), 1c, bom."""
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


class _Sales:
    """The generator's state: one random stream, drawn in a fixed order (same seed, same files)."""

    def __init__(self, partners: list[DemoPartner], total_rows: int, rnd: random.Random) -> None:
        self.partners = partners
        self.rnd = rnd
        self.by_id = {p.pid: p for p in partners}
        self.uploader_of = {p.pid: p.pid for p in partners}
        for d in partners:
            for c in d.distributor_for:
                self.uploader_of[c] = d.pid
        self.weight = sum(p.size for p in partners)
        self.per_month = total_rows / len(MONTHS)
        self.prices = {f"SKU-{k:04d}": Decimal(rnd.randint(900, 250000)) / 100 for k in range(600)}
        self.skus = list(self.prices)
        self.history: dict[str, list[tuple[str, int]]] = defaultdict(list)  # partner -> (sale_id, qty)
        self.seq = 0
        self.bad_left = list(BAD_ROWS) * 3
        rnd.shuffle(self.bad_left)

    def month(self, mi: int, month: str) -> list[DemoFile]:
        rnd = self.rnd
        year, mon = map(int, month.split("-"))
        days = (dt.date(year + (mon == 12), mon % 12 + 1, 1) - dt.date(year, mon, 1)).days
        batches: dict[str, list[list[str]]] = defaultdict(list)
        earlier = {pid: list(h) for pid, h in self.history.items()}  # sales of previous months only
        for p in self.partners:
            n = max(
                1, round(self.per_month * p.size / self.weight * rnd.uniform(0.8, 1.25) * (1 + 0.15 * mi))
            )
            for _ in range(n):
                batches[self.uploader_of[p.pid]].append(self.row(p, dt.date(year, mon, 1), days, earlier))
        return [self.file(uploader, rows, month) for uploader, rows in batches.items()]

    def row(
        self, p: DemoPartner, first: dt.date, days: int, earlier: dict[str, list[tuple[str, int]]]
    ) -> list[str]:
        rnd = self.rnd
        cur = COUNTRIES[p.country]
        self.seq += 1
        sku = rnd.choice(self.skus)
        cat = pick(rnd, CATEGORIES)
        price = self.prices[sku] * (RATES.get(cur, Decimal(1)) if cur != "EUR" else 1)
        when = dt.datetime(
            first.year, first.month, rnd.randint(1, days), rnd.randint(7, 19), rnd.randint(0, 59)
        )
        sold = (
            when.date().isoformat() if rnd.random() < 0.7 else when.isoformat(timespec="minutes") + "+02:00"
        )
        if earlier.get(p.pid) and rnd.random() < 0.03:  # a return of a previous month's sale
            # each sale is returned at most once, never more units than it sold (an over-return is
            # rejected: the demo's only rejected rows are the bad ones it plants)
            orig, oq = earlier[p.pid].pop(rnd.randrange(len(earlier[p.pid])))
            self.history[p.pid].remove((orig, oq))
            qty = str(-rnd.randint(1, max(1, oq)))
            return [f"R{self.seq:07d}", p.pid, sold, sku, qty, f"{price:.2f}", cur, cat, "", orig]
        n = rnd.choices([1, 2, 3, 5, 10, 20], [40, 25, 15, 10, 7, 3])[0]
        customer = f"C{rnd.randint(1, 4000):05d}"
        row = [f"S{self.seq:07d}", p.pid, sold, sku, str(n), f"{price:.2f}", cur, cat, customer, ""]
        self.history[p.pid].append((row[0], n))
        return row

    def file(self, uploader: str, rows: list[list[str]], month: str) -> DemoFile:
        rows.sort(key=lambda r: r[2])
        bad = 0
        if self.bad_left and self.rnd.random() < 0.12:
            col, value = self.bad_left.pop()
            broken = list(rows[self.rnd.randrange(len(rows))])
            broken[HEADER.index(col)] = value
            broken[0] = f"X{self.seq:07d}"
            self.seq += 1
            rows.append(broken)
            bad = 1
        body = write_sales(rows, self.by_id[uploader].style)
        return DemoFile(f"incoming/{uploader}/sales-{month}.csv", body, len(rows), bad)

    def correction(self) -> DemoFile:
        """One partner re-sends 20 of last month's lines with fixed quantities."""
        fix = next(
            p
            for p in self.partners
            if not p.distributor_for and len(self.history[p.pid]) > 40 and self.uploader_of[p.pid] == p.pid
        )
        price = f"{self.prices['SKU-0001']:.2f}"
        rows = [
            [sid, fix.pid, "2026-10-28", "SKU-0001", str(qty + 1), price, "EUR", "hardware", "C00001", ""]
            for sid, qty in self.history[fix.pid][-20:]
        ]
        return DemoFile(
            f"incoming/{fix.pid}/correction-2026-10.csv", write_sales(rows, "plain"), len(rows), 0
        )


def make_sales(partners: list[DemoPartner], total_rows: int, rnd: random.Random) -> list[DemoFile]:
    gen = _Sales(partners, total_rows, rnd)
    files = [f for mi, month in enumerate(MONTHS) for f in gen.month(mi, month)]
    files.append(gen.correction())
    return files
