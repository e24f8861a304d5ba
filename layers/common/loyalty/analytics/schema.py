"""The analytics tables: their columns, types and where their Parquet files live.

Two tables, Hive-partitioned by `period` (YYYY-MM), under `analytics/v<SCHEMA_VERSION>/<table>/`:

- `partner_month`: one row per partner and closed month (every partner of the close, quiet ones
  included, so activity, retention and risk see the months without sales);
- `line_month`: the month's sales lines summed by segment, country, category and currency.

The same column list makes the Parquet files (DuckDB types), the Glue tables (Hive types in
template.yaml; a test compares them) and the rows the close emits. A change of meaning gets a new
SCHEMA_VERSION and a new prefix; old files stay readable under their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMA_VERSION = 1
ROOT = "analytics"
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MONEY = "DECIMAL(18,2)"


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # DuckDB / Parquet type
    doc: str

    @property
    def hive(self) -> str:
        """The Glue (Hive DDL) type of the column."""
        return {"VARCHAR": "string", "INTEGER": "int", "BIGINT": "bigint"}.get(self.sql, self.sql.lower())


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    doc: str

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def prefix(self) -> str:
        """The table's location under the bucket (Glue's LOCATION; partitions below it)."""
        return f"{ROOT}/v{SCHEMA_VERSION}/{self.name}/"

    def partition(self, period: str) -> str:
        if not PERIOD_RE.match(period):
            raise ValueError(f"not a period (YYYY-MM): {period!r}")
        return f"{self.prefix()}period={period}/"

    def part_key(self, period: str, part: int) -> str:
        """One batch's file of a period: the same batch of a re-run overwrites it."""
        return f"{self.partition(period)}part-{part:05d}.parquet"


def _c(name: str, sql: str, doc: str) -> Column:
    return Column(name, sql, doc)


PARTNER_MONTH = Table(
    "partner_month",
    (
        _c("schema_version", "INTEGER", "the facts' schema version"),
        _c("partner_id", "VARCHAR", "the partner"),
        _c("segment", "VARCHAR", "its segment (lower-case)"),
        _c("country", "VARCHAR", "its country (ISO 3166 alpha-2)"),
        _c("cohort", "VARCHAR", "its pilot cohort ('' = none)"),
        _c("joined", "VARCHAR", "the month it joined (YYYY-MM): the retention cohort"),
        _c("rule_version", "VARCHAR", "the rules version its close ran under"),
        _c("tier_before", "VARCHAR", "its tier during the month"),
        _c("tier_after", "VARCHAR", "its tier from the next month"),
        _c("tier_change", "VARCHAR", "up | down | hold | grace"),
        _c("net_sales", MONEY, "net sales of the month, EUR"),
        _c("lines", "INTEGER", "sales lines of the month"),
        _c("returns", "INTEGER", "return lines of the month"),
        _c("new_customers", "INTEGER", "customers first seen this month"),
        _c("commission", MONEY, "commission accrued on the month's lines, EUR"),
        _c("bonuses", MONEY, "bonuses (targets, accelerators) accrued at this close, EUR"),
        _c("overrides", MONEY, "overrides on the downline accrued at this close, EUR"),
        _c("points_earned", "INTEGER", "points earned in the month (all sources)"),
        _c("points_spent", "INTEGER", "points redeemed in the month (net of cancellations)"),
        _c("points_expired", "INTEGER", "points expired in the month"),
        _c("points_balance", "INTEGER", "points balance at the close"),
        _c("points_cost", MONEY, "points earned x the liability EUR per point"),
        _c("points_liability", MONEY, "points balance x the liability EUR per point"),
        _c("payout", MONEY, "paid at this close, EUR"),
        _c("carried", MONEY, "balance carried forward, EUR (negative: owed by the partner)"),
        _c("state", "VARCHAR", "paid | excluded | carried | quiet"),
    ),
    "one row per partner and closed month",
)

LINE_MONTH = Table(
    "line_month",
    (
        _c("schema_version", "INTEGER", "the facts' schema version"),
        _c("segment", "VARCHAR", "the partners' segment"),
        _c("country", "VARCHAR", "the partners' country"),
        _c("category", "VARCHAR", "the product category"),
        _c("currency", "VARCHAR", "the currency the lines were sold in"),
        _c("partners", "INTEGER", "partners with such lines"),
        _c("lines", "INTEGER", "sales lines"),
        _c("returns", "INTEGER", "return lines"),
        _c("net_amount", MONEY, "net amount in the sale currency"),
        _c("net_sales", MONEY, "net amount in EUR"),
        _c("commission", MONEY, "commission accrued on them, EUR"),
    ),
    "the month's lines summed by segment, country, category and currency",
)

TABLES = {t.name: t for t in (PARTNER_MONTH, LINE_MONTH)}


# the report's HTML and JSON of a period (written by the analytics step at each close)
def report_key(period: str, ext: str) -> str:
    if not PERIOD_RE.match(period):
        raise ValueError(f"not a period (YYYY-MM): {period!r}")
    return f"{ROOT}/reports/{period}/report.{ext}"
