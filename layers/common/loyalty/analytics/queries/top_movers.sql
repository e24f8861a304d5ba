-- params: period, period_prev
-- The 10 partners whose net sales rose most and the 10 whose net sales fell most against the
-- month before (a partner without facts the month before counts from 0). Ties by partner id.
WITH cur AS (
    SELECT partner_id, segment, net_sales
    FROM partner_month
    WHERE period = ?
),
prev AS (
    SELECT partner_id, net_sales
    FROM partner_month
    WHERE period = ?
),
moves AS (
    SELECT
        cur.partner_id AS partner_id,
        cur.segment AS segment,
        cur.net_sales AS net_sales,
        COALESCE(prev.net_sales, CAST(0 AS DECIMAL(18, 2))) AS previous,
        cur.net_sales - COALESCE(prev.net_sales, CAST(0 AS DECIMAL(18, 2))) AS delta
    FROM cur
    LEFT JOIN prev ON prev.partner_id = cur.partner_id
),
ranked AS (
    SELECT
        partner_id,
        segment,
        net_sales,
        previous,
        delta,
        ROW_NUMBER() OVER (ORDER BY delta DESC, partner_id) AS up_rank,
        ROW_NUMBER() OVER (ORDER BY delta ASC, partner_id) AS down_rank
    FROM moves
)
SELECT
    CASE WHEN delta > 0 THEN 'up' ELSE 'down' END AS direction,
    CASE WHEN delta > 0 THEN up_rank ELSE down_rank END AS place,
    partner_id,
    segment,
    net_sales,
    previous,
    delta
FROM ranked
WHERE (delta > 0 AND up_rank <= 10) OR (delta < 0 AND down_rank <= 10)
ORDER BY direction DESC, place
