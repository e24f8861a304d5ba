-- params: period_from, period_to, period
-- bench-local stand-in: partners whose net sales fell in each of the range's last three months
WITH m AS (
  SELECT
    partner_id,
    segment,
    period,
    net_sales,
    lines,
    lag(net_sales, 1) OVER (PARTITION BY partner_id ORDER BY period) AS s1,
    lag(net_sales, 2) OVER (PARTITION BY partner_id ORDER BY period) AS s2,
    lag(net_sales, 3) OVER (PARTITION BY partner_id ORDER BY period) AS s3,
    lag(lines, 3) OVER (PARTITION BY partner_id ORDER BY period) AS lines3
  FROM partner_month
  WHERE period BETWEEN ? AND ?
)
SELECT partner_id, segment, s3, s2, s1, net_sales
FROM m
WHERE period = ? AND s3 > s2 AND s2 > s1 AND s1 > net_sales AND lines3 > 0
ORDER BY s3 - net_sales DESC, partner_id
