-- params: period, period_from, period
-- Net sales (EUR) per product category from the line aggregates: the month and the trailing
-- 12 months (period_from to the month), largest first.
SELECT
    category,
    SUM(CASE WHEN period = ? THEN net_sales ELSE CAST(0 AS DECIMAL(18, 2)) END) AS net_sales,
    SUM(net_sales) AS t12
FROM line_month
WHERE period >= ? AND period <= ?
GROUP BY category
ORDER BY t12 DESC, category
