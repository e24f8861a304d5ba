-- params: period, period_from, period
-- Net sales (EUR) per partner segment: the month and the trailing 12 months (period_from to the
-- month), largest first.
SELECT
    segment,
    SUM(CASE WHEN period = ? THEN net_sales ELSE CAST(0 AS DECIMAL(18, 2)) END) AS net_sales,
    SUM(net_sales) AS t12
FROM partner_month
WHERE period >= ? AND period <= ?
GROUP BY segment
ORDER BY t12 DESC, segment
