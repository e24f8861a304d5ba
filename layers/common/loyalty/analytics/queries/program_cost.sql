-- params: period_from, period
-- The program cost per month (EUR): commission, bonuses, overrides and the points earned at
-- their liability value, their sum, and the net sales they bought (cost per EUR is computed by
-- the caller: no division in SQL).
SELECT
    period,
    SUM(commission) AS commission,
    SUM(bonuses) AS bonuses,
    SUM(overrides) AS overrides,
    SUM(points_cost) AS points_cost,
    SUM(commission + bonuses + overrides + points_cost) AS program_cost,
    SUM(net_sales) AS net_sales
FROM partner_month
WHERE period >= ? AND period <= ?
GROUP BY period
ORDER BY period
