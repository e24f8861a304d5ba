"""Generated analytics facts: partner_month and line_month Parquet for any number of partners.

`generate_facts` writes what the close would have written over `months` closed months, in the
schema and layout of `loyalty.analytics.schema` (`analytics/v1/<table>/period=YYYY-MM/
part-NNNNN.parquet`), entirely in DuckDB SQL (range(), hash-based pseudo-random numbers, window
functions): 100 000 partners x 24 months take seconds, not a Python loop per row.

The data (deterministic for a seed; docs/analytics-bench.md):
- partners: segment dealer 62 % / reseller 30 % / distributor 8 %, 12 countries, a log-normal
  sales level per partner, a monthly trend between -2 % and +2 %, an activity propensity (most
  sell nearly every month, some rarely: months without sales have zero lines);
- net sales: the level x seasonality (December up, August down) x trend x month noise (+-25 %),
  a function of (partner, month) alone, so a month's tier reads the months before it directly;
- tiers: the default rules' thresholds (25 000 / 100 000 / 250 000 EUR) on trailing 3-month net
  sales; a first review below the tier is a grace month, the second moves down;
- commission: the tier's rate (2..5 %) per category, services +1 pp, the pilot +1 pp;
- bonuses at quarter ends, overrides for a share of resellers and distributors;
- points: floor(net / 10 x the tier's multiplier), some spent, expired 12 months after earning,
  the balance consistent with them; points at EUR 0.01;
- payouts: a partner is paid everything it accrued since its last payout in a month whose own
  earnings reach the EUR 50 minimum (3 % have no bank details: excluded, always carried);
- a pilot cohort (`pilot_share` of partners, chosen at random) under PILOT_VERSION from the middle
  month on, its net sales x (1 + `planted_uplift`) there;
- line_month: every partner-month's lines split over hardware / software / services (lines,
  net sales and commission add up exactly to partner_month's), in the partner's currency.

A 12-month warm-up before the first period is computed and not written, so points expiry and
balances and carried balances are already in their steady state in the first written month.
partner_month is written in parts of `part_partners` partners (10 000 by default: 10 files a
period for 100 000 partners, where the close writes one per batch of 500), line_month in one part
a period. 100 000 partners x 24 months: 45 s on a shared 2-core machine (docs/analytics-bench.md).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH, SCHEMA_VERSION, Table
from loyalty.kernel.periods import check_period, months_back

BASE_VERSION = "2026.1"
PILOT_VERSION = "2026.2-pilot"
PILOT_COHORT = "pilot-2026"
WARMUP = 12  # months computed before the first written one
MAX_PARTNERS = 999_999  # partner ids P000000..P999999
PART_PARTNERS = 10_000  # partners per partner_month file (the close writes one per batch of 500)


@dataclass(frozen=True)
class FactsSummary:
    root: Path
    periods: tuple[str, ...]
    partners: int
    partner_month_rows: int
    line_month_rows: int
    files: int
    bytes: int
    part_partners: int
    pilot_cohort: str  # '' without a pilot
    pilot_version: str
    pilot_start: str  # the first period under the pilot version ('' without a pilot)
    pilot_partners: int
    base_version: str = BASE_VERSION


# uniform [0, 1) and ~N(0, 1) from a hash of (a, b, salt, seed); three uniforms from one hash of
# (partner, month) (its 21-bit thirds) for what every month of every partner needs
_MACROS = """
CREATE OR REPLACE MACRO lf_u(a, b, salt) AS (hash(a, b, salt, {seed}) % 1000003) / 1000003.0;
CREATE OR REPLACE MACRO lf_z(a, b, salt) AS
    (lf_u(a, b, salt || '1') + lf_u(a, b, salt || '2') + lf_u(a, b, salt || '3')
     + lf_u(a, b, salt || '4') - 2.0) * 1.7320508;
CREATE OR REPLACE MACRO lf_ua(i, j) AS (hash(i, j, {seed}) & 2097151) / 2097152.0;
CREATE OR REPLACE MACRO lf_ub(i, j) AS ((hash(i, j, {seed}) >> 21) & 2097151) / 2097152.0;
CREATE OR REPLACE MACRO lf_uc(i, j) AS ((hash(i, j, {seed}) >> 42) & 2097151) / 2097152.0;
CREATE OR REPLACE MACRO lf_moy(j) AS ((({start_month0} + j) % 12 + 12) % 12 + 1);
CREATE OR REPLACE MACRO lf_net(i, j, base, propensity, growth, pilot) AS
    CASE WHEN lf_ua(i, j) < propensity THEN round(
        base * (1 + 0.12 * sin(2 * pi() * (lf_moy(j) - 4) / 12)
                + CASE lf_moy(j) WHEN 12 THEN 0.15 WHEN 8 THEN -0.1 ELSE 0 END)
        * pow(1 + growth, j) * (0.75 + 0.25 * (lf_ub(i, j) + lf_uc(i, j)))
        * CASE WHEN pilot AND j >= {pilot_j} THEN {lift} ELSE 1 END, 2)
    ELSE 0 END::DECIMAL(18,2);
CREATE OR REPLACE MACRO lf_nat(t3) AS
    CASE WHEN t3 >= 250000 THEN 3 WHEN t3 >= 100000 THEN 2 WHEN t3 >= 25000 THEN 1 ELSE 0 END;
CREATE OR REPLACE MACRO lf_grace(a, b, c) AS a < b AND b >= c;
CREATE OR REPLACE MACRO lf_to(a, b, c) AS CASE WHEN lf_grace(a, b, c) THEN b ELSE a END;
CREATE OR REPLACE MACRO lf_points(net, tier, i, j) AS
    floor(net / 10 * [1, 1.25, 1.5, 2][tier + 1])::INTEGER
    + CASE WHEN floor(lf_ua(i, j) * 1000000) % 100 = 0 THEN 500 ELSE 0 END;
CREATE OR REPLACE MACRO lf_l_hw(i, k, n) AS
    CASE WHEN n <= 0 THEN 0
         ELSE greatest(1, floor(n * (0.3 + 0.4 * lf_u(i::BIGINT, k::BIGINT, 'chw'))))::INTEGER END;
CREATE OR REPLACE MACRO lf_l_sw(i, k, n) AS
    CASE WHEN n <= 0 THEN 0
         ELSE floor((n - lf_l_hw(i, k, n)) * (0.35 + 0.4 * lf_u(i::BIGINT, k::BIGINT, 'csw')))::INTEGER END;
CREATE OR REPLACE MACRO lf_share(net, l, n) AS
    CASE WHEN n > 0 THEN round(net * l / n, 2)::DECIMAL(18,2) ELSE 0::DECIMAL(18,2) END;
CREATE OR REPLACE MACRO lf_rate(tier, pilot_on) AS
    ((2 + tier + CASE WHEN pilot_on THEN 1 ELSE 0 END) / 100)::DECIMAL(6,4);
CREATE OR REPLACE MACRO lf_comm(net, rate) AS round(net * rate, 2)::DECIMAL(18,2);
"""

# One chunk of partners [lo, hi) over the computed months j = 0..n-1 (the first WARMUP are not
# written). A month's net sales are a function of (partner, month), so the tier chain reads the
# six months before directly (n0..n6: this month and the six before); only the points' expiry and
# balance and the carried balances need windows, over numbers only (the strings come last).
_PARTNER_SQL = """
WITH p AS (
  SELECT i,
    CASE WHEN lf_u(i, 0, 'seg') < 0.62 THEN 0 WHEN lf_u(i, 0, 'seg') < 0.92 THEN 1 ELSE 2 END AS seg,
    lf_u(i, 0, 'cty') AS cu,
    exp(0.9 * lf_z(i, 0, 'lvl')) AS lvl,
    CASE WHEN lf_u(i, 0, 'act') < 0.65 THEN 0.95 WHEN lf_u(i, 0, 'act') < 0.85 THEN 0.75
         WHEN lf_u(i, 0, 'act') < 0.95 THEN 0.4 ELSE 0.1 END AS propensity,
    (lf_u(i, 0, 'gro') - 0.5) * 0.04 AS growth,
    lf_u(i, 0, 'iban') < 0.03 AS excluded,
    lf_u(i, 0, 'pil') < {pilot_share} AS pilot,
    lf_u(i, 0, 'coh') < 0.05 AS referral,
    lf_u(i, 0, 'spon') < 0.3 AS sponsor,
    lf_u(i, 0, 'red') < 0.4 AS redeemer,
    0.1 + 0.5 * lf_u(i, 0, 'rsh') AS redeem_share,
    floor(lf_u(i, 0, 'joi') * 48)::INTEGER AS joined_back
  FROM range({lo}, {hi}) t(i)
), s AS (
  SELECT p.*, [6000, 20000, 90000][seg + 1] * lvl AS base, j, {start_k} + j AS k, lf_moy(j) AS moy,
    pilot AND j >= {pilot_j} AS pilot_on
  FROM p CROSS JOIN range({n}) m(j)
), s1 AS (
  SELECT *,
    lf_net(i, j, base, propensity, growth, pilot) AS n0,
    lf_net(i, j - 1, base, propensity, growth, pilot) AS n1,
    lf_net(i, j - 2, base, propensity, growth, pilot) AS n2,
    lf_net(i, j - 3, base, propensity, growth, pilot) AS n3,
    lf_net(i, j - 4, base, propensity, growth, pilot) AS n4,
    lf_net(i, j - 5, base, propensity, growth, pilot) AS n5,
    lf_net(i, j - 6, base, propensity, growth, pilot) AS n6
  FROM s
), s2 AS (
  SELECT *,
    lf_nat(n0 + n1 + n2) AS nat0, lf_nat(n1 + n2 + n3) AS nat1, lf_nat(n2 + n3 + n4) AS nat2,
    lf_nat(n3 + n4 + n5) AS nat3, lf_nat(n4 + n5 + n6) AS nat4
  FROM s1
), s3 AS (
  SELECT i, j, k, moy, seg, cu, pilot, referral, excluded, joined_back, pilot_on, sponsor,
    n0 AS net_sales, n0 > 0 AS active,
    CASE WHEN n0 > 0 THEN 1 + floor(n0 / [700, 1500, 4000][seg + 1])::INTEGER ELSE 0 END AS lines,
    lf_grace(nat0, nat1, nat2) AS grace,
    lf_to(nat0, nat1, nat2) AS tier_to,
    lf_to(nat1, nat2, nat3) AS tier_from,
    lf_points(n0, lf_to(nat1, nat2, nat3), i, j) AS points_earned,
    CASE WHEN redeemer AND lf_uc(i, j) < 0.5
         THEN floor(lf_points(n1, lf_to(nat2, nat3, nat4), i, j - 1) * redeem_share)::INTEGER
         ELSE 0 END AS points_spent
  FROM s2
), s4 AS (
  SELECT *, lf_l_hw(i, k, lines) AS l_hw, lf_l_sw(i, k, lines) AS l_sw, lf_rate(tier_from, pilot_on) AS rate
  FROM s3
), s5 AS (
  SELECT *, lf_share(net_sales, l_sw, lines) AS n_sw, lf_share(net_sales, lines - l_hw - l_sw, lines) AS n_sv
  FROM s4
), s6 AS (
  SELECT * EXCLUDE (l_hw, l_sw, rate, n_sw, n_sv),
    lf_comm(net_sales - n_sw - n_sv, rate) + lf_comm(n_sw, rate) + lf_comm(n_sv, rate + 0.01) AS commission,
    CASE WHEN active AND moy % 3 = 0 AND lf_u(i, j, 'bon') < 0.25 THEN [150, 500, 2000][seg + 1]
         ELSE 0 END::DECIMAL(18,2) AS bonuses,
    CASE WHEN sponsor AND seg > 0 AND active
         THEN round(net_sales * (0.002 + 0.004 * lf_ub(i, j)), 2) ELSE 0 END::DECIMAL(18,2) AS overrides
  FROM s5
), s7 AS (
  SELECT *, NOT excluded AND commission + bonuses + overrides >= 50 AS pay FROM s6
), s8 AS (
  SELECT *,
    (coalesce(LAG(points_earned, 12) OVER w, 0) - coalesce(LAG(points_spent, 11) OVER w, 0))::INTEGER
      AS points_expired,
    SUM(points_earned) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW)
      - SUM(points_spent) OVER (w ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS balance,
    coalesce(SUM(pay::INTEGER) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS pay_group
  FROM s7 WINDOW w AS (PARTITION BY i ORDER BY j)
), s9 AS (
  SELECT *, SUM(commission + bonuses + overrides) OVER (PARTITION BY i, pay_group ORDER BY j) AS accrued
  FROM s8
), s10 AS (
  SELECT *, strftime(DATE '{start}' + to_months(j::INTEGER), '%Y-%m') AS period FROM s9 WHERE j >= {warmup}
)
SELECT {columns}, period FROM s10 ORDER BY j, i
"""

_PARTNER_COLUMNS = {
    "schema_version": str(SCHEMA_VERSION),
    "partner_id": "'P' || lpad(i::VARCHAR, 6, '0')",
    "segment": "['dealer', 'reseller', 'distributor'][seg + 1]",
    "country": "CASE WHEN cu < 0.22 THEN 'DE' WHEN cu < 0.34 THEN 'FR' WHEN cu < 0.44 THEN 'IT' "
    "WHEN cu < 0.52 THEN 'ES' WHEN cu < 0.59 THEN 'NL' WHEN cu < 0.67 THEN 'PL' WHEN cu < 0.72 THEN 'SE' "
    "WHEN cu < 0.77 THEN 'AT' WHEN cu < 0.81 THEN 'CH' WHEN cu < 0.89 THEN 'GB' WHEN cu < 0.97 THEN 'US' "
    "ELSE 'CZ' END",
    "cohort": "CASE WHEN pilot THEN '{pilot_cohort}' WHEN referral THEN 'referral-2025' ELSE '' END",
    "joined": "strftime(DATE '{start}' - to_months(joined_back), '%Y-%m')",
    "rule_version": "CASE WHEN pilot_on THEN '{pilot_version}' ELSE '{base_version}' END",
    "tier_before": "['Bronze', 'Silver', 'Gold', 'Platinum'][tier_from + 1]",
    "tier_after": "['Bronze', 'Silver', 'Gold', 'Platinum'][tier_to + 1]",
    "tier_change": "CASE WHEN grace THEN 'grace' WHEN tier_to > tier_from THEN 'up' "
    "WHEN tier_to < tier_from THEN 'down' ELSE 'hold' END",
    "net_sales": "net_sales",
    "lines": "lines",
    "returns": "CASE WHEN active THEN floor(lines * 0.08 * lf_ub(i, j)) ELSE 0 END",
    "new_customers": "CASE WHEN active THEN floor(lines * 0.15 * lf_uc(i, j)) ELSE 0 END",
    "commission": "commission",
    "bonuses": "bonuses",
    "overrides": "overrides",
    "points_earned": "points_earned",
    "points_spent": "points_spent",
    "points_expired": "points_expired",
    "points_balance": "balance",
    "points_cost": "points_earned * 0.01",
    "points_liability": "balance * 0.01",
    "payout": "CASE WHEN pay THEN accrued ELSE 0 END",
    "carried": "CASE WHEN pay THEN 0 ELSE accrued END",
    "state": "CASE WHEN pay THEN 'paid' WHEN accrued > 0 AND excluded THEN 'excluded' "
    "WHEN accrued > 0 THEN 'carried' ELSE 'quiet' END",
}

# the partner-months re-read from their Parquet, split by category exactly as above
_LINE_SQL = """
WITH keyed AS (
  SELECT *, CAST(partner_id[2:] AS BIGINT) AS i,
    CAST(period[1:4] AS BIGINT) * 12 + CAST(period[6:7] AS BIGINT) - 1 AS k
  FROM read_parquet('{files}', hive_partitioning = true, hive_types = {{'period': 'VARCHAR'}})
  WHERE lines > 0
), pm AS (
  SELECT *,
    lf_l_hw(i, k, lines) AS l_hw, lf_l_sw(i, k, lines) AS l_sw,
    lf_rate(list_position(['Bronze', 'Silver', 'Gold', 'Platinum'], tier_before) - 1,
            rule_version = '{pilot_version}') AS rate,
    CASE country WHEN 'GB' THEN 'GBP' WHEN 'US' THEN 'USD' WHEN 'PL' THEN 'PLN' WHEN 'CH' THEN 'CHF'
                 WHEN 'SE' THEN 'SEK' WHEN 'CZ' THEN 'CZK'
                 ELSE CASE WHEN lf_u(i, 0, 'cur') < 0.12 THEN 'USD' ELSE 'EUR' END END AS currency
  FROM keyed
), pc AS (
  SELECT *, lf_share(net_sales, l_sw, lines) AS n_sw, lf_share(net_sales, lines - l_hw - l_sw, lines) AS n_sv
  FROM pm
), cat AS (
  SELECT period, segment, country, currency, 'software' AS category, l_sw AS n, 0 AS r, n_sw AS net,
         lf_comm(n_sw, rate) AS comm FROM pc
  UNION ALL
  SELECT period, segment, country, currency, 'services', lines - l_hw - l_sw, 0, n_sv,
         lf_comm(n_sv, rate + 0.01) FROM pc
  UNION ALL
  SELECT period, segment, country, currency, 'hardware', l_hw, returns, net_sales - n_sw - n_sv,
         lf_comm(net_sales - n_sw - n_sv, rate) FROM pc
)
SELECT {version} AS schema_version, segment, country, category, currency,
  count(*)::INTEGER AS partners, sum(n)::INTEGER AS lines, sum(r)::INTEGER AS returns,
  sum(round(net * CASE currency WHEN 'USD' THEN 1.08 WHEN 'GBP' THEN 0.86 WHEN 'PLN' THEN 4.30
        WHEN 'CHF' THEN 0.94 WHEN 'SEK' THEN 11.40 WHEN 'CZK' THEN 25.10 ELSE 1 END, 2))::DECIMAL(18,2) AS net_amount,
  sum(net)::DECIMAL(18,2) AS net_sales, sum(comm)::DECIMAL(18,2) AS commission, period
FROM cat WHERE n > 0
GROUP BY period, segment, country, category, currency
ORDER BY period, segment, country, category, currency
"""


def _select(table: Table, exprs: dict[str, str]) -> str:
    """The table's columns in schema order with its types: a column the schema gains and this
    factory does not make is a KeyError, not a silently missing column."""
    return ", ".join(f'CAST({exprs[c.name]} AS {c.sql}) AS "{c.name}"' for c in table.columns)


def _copy_parts(con: duckdb.DuckDBPyConnection, query: str, root: Path, table: Table, part: int) -> None:
    """COPY the query (its last column `period`) partitioned by period, each period's file moved
    to the table's `period=<p>/part-<part>.parquet`."""
    with tempfile.TemporaryDirectory(prefix="facts-", dir=root) as tmp:
        con.execute(f"COPY ({query}) TO '{tmp}' (FORMAT parquet, PARTITION_BY (period), COMPRESSION zstd)")
        for folder in sorted(Path(tmp).glob("period=*")):
            (made,) = folder.glob("*.parquet")  # one file per period (no FILE_SIZE_BYTES)
            dest = root / table.part_key(folder.name.removeprefix("period="), part)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(made, dest)


def generate_facts(
    root: Path,
    partners: int,
    months: int,
    last_period: str,
    seed: int = 7,
    pilot_share: float = 0.0,
    planted_uplift: float = 0.0,
    part_partners: int = PART_PARTNERS,
) -> FactsSummary:
    """Write `partners` x `months` partner-months ending with `last_period` (and their line
    aggregates) under `root/analytics/v1/`; any facts already there are replaced."""
    check_period(last_period)
    if not 0 < partners <= MAX_PARTNERS or months < 1 or part_partners < 1 or not 0 <= pilot_share <= 1:
        raise ValueError(
            f"partners in 1..{MAX_PARTNERS}, months and part_partners positive, pilot_share in [0, 1]"
        )
    seed, uplift = int(seed), float(planted_uplift)
    computed = months_back(last_period, months + WARMUP)
    written = tuple(computed[WARMUP:])
    pilot_j = WARMUP + months // 2 if pilot_share > 0 else len(computed) + 1
    for table in (PARTNER_MONTH, LINE_MONTH):
        shutil.rmtree(root / table.prefix(), ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    try:
        con.execute(
            _MACROS.format(
                seed=seed,
                pilot_version=PILOT_VERSION,
                start_month0=int(computed[0][5:7]) - 1,
                pilot_j=pilot_j,
                lift=1 + uplift,
            )
        )
        names = {
            "start": f"{computed[0]}-01",
            "pilot_cohort": PILOT_COHORT,
            "pilot_version": PILOT_VERSION,
            "base_version": BASE_VERSION,
        }
        columns = _select(PARTNER_MONTH, _PARTNER_COLUMNS).format(**names)
        for part, lo in enumerate(range(0, partners, part_partners)):
            sql = _PARTNER_SQL.format(
                lo=lo,
                hi=min(partners, lo + part_partners),
                n=len(computed),
                start_k=int(computed[0][:4]) * 12 + int(computed[0][5:7]) - 1,
                pilot_share=float(pilot_share),
                pilot_j=pilot_j,
                warmup=WARMUP,
                columns=columns,
                **names,
            )
            _copy_parts(con, sql, root, PARTNER_MONTH, part)
        files = (root / PARTNER_MONTH.prefix()).as_posix() + "/period=*/*.parquet"
        line_sql = _LINE_SQL.format(files=files, version=SCHEMA_VERSION, pilot_version=PILOT_VERSION)
        _copy_parts(con, line_sql, root, LINE_MONTH, 0)
        pm_rows, pilots = con.execute(
            f"SELECT count(*), count(DISTINCT partner_id) FILTER (WHERE cohort = '{PILOT_COHORT}') "  # noqa: S608
            f"FROM read_parquet('{files}')"
        ).fetchone() or (0, 0)
        (lm_rows,) = con.execute(
            f"SELECT count(*) FROM read_parquet('{(root / LINE_MONTH.prefix()).as_posix()}/period=*/*.parquet')"  # noqa: S608
        ).fetchone() or (0,)
    finally:
        con.close()
    made = [p for t in (PARTNER_MONTH, LINE_MONTH) for p in (root / t.prefix()).rglob("*.parquet")]
    return FactsSummary(
        root=root,
        periods=written,
        partners=partners,
        partner_month_rows=int(pm_rows),
        line_month_rows=int(lm_rows),
        files=len(made),
        bytes=sum(p.stat().st_size for p in made),
        part_partners=part_partners,
        pilot_cohort=PILOT_COHORT if pilot_share > 0 else "",
        pilot_version=PILOT_VERSION if pilot_share > 0 else "",
        pilot_start=computed[pilot_j] if pilot_share > 0 else "",
        pilot_partners=int(pilots),
    )


def pilot_start_date(summary: FactsSummary) -> dt.date:
    """The pilot version's effective_from (the first day of its first period)."""
    if not summary.pilot_start:
        raise ValueError("these facts have no pilot")
    return dt.date.fromisoformat(f"{summary.pilot_start}-01")
