-- params: period, period_from, period
-- Net sales (EUR) per partner country: the month and the trailing 12 months (period_from to the
-- month), largest first.
SELECT
    country,
    SUM(CASE WHEN period = ? THEN net_sales ELSE CAST(0 AS DECIMAL(18, 2)) END) AS net_sales,
    SUM(net_sales) AS t12
FROM partner_month
WHERE period >= ? AND period <= ?
GROUP BY country
ORDER BY t12 DESC, country
