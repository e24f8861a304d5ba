-- params: period_from, period_to
-- bench-local stand-in (bench/analytics.py runs these only while the report's own query files
-- are not in loyalty/analytics/queries): the program's monthly figures over a range of months
SELECT
  period,
  count(*) AS partners,
  count_if(lines > 0) AS active_partners,
  sum(net_sales) AS net_sales,
  sum(commission) AS commission,
  sum(bonuses) AS bonuses,
  sum(overrides) AS overrides,
  sum(points_cost) AS points_cost,
  sum(points_liability) AS points_liability,
  sum(payout) AS payouts,
  sum(carried) AS carried
FROM partner_month
WHERE period BETWEEN ? AND ?
GROUP BY period
ORDER BY period
