-- params: period, period_prev, period_base, period_from, period_base, period
-- Key figures of the month and of the trailing 12 months, one row each (scope month | t12).
-- Counts of partners (in the facts, active, retained and the retention base) and EUR sums;
-- ratios are left to the caller (no division in SQL: DuckDB and Trino divide integers differently).
-- Active: lines in the month or net sales other than 0. Carried and points liability are
-- balances: both scopes show them at the month. The facts read go back to period_base (12 months
-- before the month) for the 12-month retention.
WITH facts AS (
    SELECT
        partner_id,
        net_sales,
        commission,
        bonuses,
        overrides,
        points_cost,
        payout,
        carried,
        points_liability,
        CASE WHEN period = ? THEN 1 ELSE 0 END AS is_month,
        CASE WHEN period = ? THEN 1 ELSE 0 END AS is_prev,
        CASE WHEN period = ? THEN 1 ELSE 0 END AS is_base,
        CASE WHEN period >= ? THEN 1 ELSE 0 END AS in_t12,
        CASE WHEN lines > 0 OR net_sales <> 0 THEN 1 ELSE 0 END AS active
    FROM partner_month
    WHERE period >= ? AND period <= ?
),
partners AS (
    SELECT
        partner_id,
        MAX(is_month) AS in_month,
        MAX(is_month * active) AS active_month,
        MAX(is_prev * active) AS active_prev,
        MAX(is_base * active) AS active_base,
        MAX(in_t12) AS in_t12,
        MAX(in_t12 * active) AS active_t12
    FROM facts
    GROUP BY partner_id
),
counts AS (
    SELECT
        SUM(in_month) AS partners_month,
        SUM(active_month) AS active_month,
        SUM(active_month * active_prev) AS retained_month,
        SUM(active_prev) AS base_month,
        SUM(in_t12) AS partners_t12,
        SUM(active_t12) AS active_t12,
        SUM(active_month * active_base) AS retained_t12,
        SUM(active_base) AS base_t12
    FROM partners
),
amounts AS (
    SELECT
        SUM(CASE WHEN is_month = 1 THEN net_sales END) AS net_sales_month,
        SUM(CASE WHEN is_month = 1 THEN commission END) AS commission_month,
        SUM(CASE WHEN is_month = 1 THEN bonuses END) AS bonuses_month,
        SUM(CASE WHEN is_month = 1 THEN overrides END) AS overrides_month,
        SUM(CASE WHEN is_month = 1 THEN points_cost END) AS points_cost_month,
        SUM(CASE WHEN is_month = 1 THEN payout END) AS payouts_month,
        SUM(CASE WHEN in_t12 = 1 THEN net_sales END) AS net_sales_t12,
        SUM(CASE WHEN in_t12 = 1 THEN commission END) AS commission_t12,
        SUM(CASE WHEN in_t12 = 1 THEN bonuses END) AS bonuses_t12,
        SUM(CASE WHEN in_t12 = 1 THEN overrides END) AS overrides_t12,
        SUM(CASE WHEN in_t12 = 1 THEN points_cost END) AS points_cost_t12,
        SUM(CASE WHEN in_t12 = 1 THEN payout END) AS payouts_t12,
        SUM(CASE WHEN is_month = 1 THEN carried END) AS carried,
        SUM(CASE WHEN is_month = 1 THEN points_liability END) AS points_liability
    FROM facts
)
SELECT
    'month' AS scope,
    c.partners_month AS partners,
    c.active_month AS active_partners,
    c.retained_month AS retained,
    c.base_month AS retention_base,
    a.net_sales_month AS net_sales,
    a.commission_month AS commission,
    a.bonuses_month AS bonuses,
    a.overrides_month AS overrides,
    a.points_cost_month AS points_cost,
    a.payouts_month AS payouts,
    a.carried AS carried,
    a.points_liability AS points_liability
FROM counts AS c
CROSS JOIN amounts AS a
UNION ALL
SELECT
    't12' AS scope,
    c.partners_t12 AS partners,
    c.active_t12 AS active_partners,
    c.retained_t12 AS retained,
    c.base_t12 AS retention_base,
    a.net_sales_t12 AS net_sales,
    a.commission_t12 AS commission,
    a.bonuses_t12 AS bonuses,
    a.overrides_t12 AS overrides,
    a.points_cost_t12 AS points_cost,
    a.payouts_t12 AS payouts,
    a.carried AS carried,
    a.points_liability AS points_liability
FROM counts AS c
CROSS JOIN amounts AS a
