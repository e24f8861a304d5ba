-- params: period_m3, period, period, period_m3, period_m3, period_m2, period_prev, period
-- Partners at risk: net sales strictly falling in each of the last three months
-- (m-3 > m-2 > m-1 > m) and active at m-3; a partner missing any of the four months is not
-- listed. The 50 with the largest fall first, with how many there are in all.
WITH facts AS (
    SELECT
        partner_id,
        period,
        segment,
        net_sales,
        CASE WHEN lines > 0 OR net_sales <> 0 THEN 1 ELSE 0 END AS active
    FROM partner_month
    WHERE period >= ? AND period <= ?
),
months AS (
    SELECT
        partner_id,
        MAX(CASE WHEN period = ? THEN segment END) AS segment,
        MAX(CASE WHEN period = ? THEN active END) AS active_m3,
        MAX(CASE WHEN period = ? THEN net_sales END) AS sales_m3,
        MAX(CASE WHEN period = ? THEN net_sales END) AS sales_m2,
        MAX(CASE WHEN period = ? THEN net_sales END) AS sales_m1,
        MAX(CASE WHEN period = ? THEN net_sales END) AS sales_m0
    FROM facts
    GROUP BY partner_id
)
SELECT
    partner_id,
    segment,
    sales_m3,
    sales_m2,
    sales_m1,
    sales_m0,
    COUNT(*) OVER () AS at_risk_total
FROM months
WHERE active_m3 = 1 AND sales_m3 > sales_m2 AND sales_m2 > sales_m1 AND sales_m1 > sales_m0
ORDER BY sales_m3 - sales_m0 DESC, partner_id
LIMIT 50
