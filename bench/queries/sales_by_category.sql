-- params: period_from, period_to
-- bench-local stand-in: net sales and commission by category, segment and country
SELECT category, segment, country, sum(net_sales) AS net_sales, sum(commission) AS commission
FROM line_month
WHERE period BETWEEN ? AND ?
GROUP BY category, segment, country
ORDER BY category, segment, country
