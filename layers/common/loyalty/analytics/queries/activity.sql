-- params: period_base, period
-- Partners, active partners and retained partners (active in the month and in the month before)
-- per month from period_base (the month 12 months before the report month) to the month.
-- Months are numbered year * 12 + month from the YYYY-MM string, so the month before is found
-- without date functions (which DuckDB and Trino spell differently).
WITH facts AS (
    SELECT
        period,
        partner_id,
        CAST(SUBSTR(period, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR(period, 6, 2) AS INTEGER) AS month_no,
        CASE WHEN lines > 0 OR net_sales <> 0 THEN 1 ELSE 0 END AS active
    FROM partner_month
    WHERE period >= ? AND period <= ?
)
SELECT
    cur.period AS period,
    COUNT(*) AS partners,
    SUM(cur.active) AS active,
    SUM(CASE WHEN cur.active = 1 AND prev.active = 1 THEN 1 ELSE 0 END) AS retained
FROM facts AS cur
LEFT JOIN facts AS prev
    ON prev.partner_id = cur.partner_id AND prev.month_no = cur.month_no - 1
GROUP BY cur.period
ORDER BY cur.period
