-- params: start, start, start, period_from, period_to, pre_to, start
-- The panel of a pilot estimate (loyalty.analytics.panel / uplift), aggregated in the query: one
-- row per partner, segment, cohort and side of the pilot's start. 'pre' = period_from..pre_to,
-- 'post' = start..period_to; a month the pilot starts in mid-way lies between them and is on
-- neither side. Per row: the months, the sums of net sales and of the program cost (commission +
-- bonuses + overrides + points at their liability value), and the sums of t, t * t and
-- t * net sales, t = months from the start (for the pre-period trend test); side_months = the
-- side's months with facts of any partner. Duplicate rows of a partner-month count as one month.
-- A partner that changed segment or cohort in the window has a row for each.
WITH months AS (
    SELECT
        partner_id,
        segment,
        cohort,
        period,
        CASE WHEN period >= ? THEN 'post' ELSE 'pre' END AS side,
        CAST(substr(period, 1, 4) AS INTEGER) * 12 + CAST(substr(period, 6, 2) AS INTEGER)
            - (CAST(substr(?, 1, 4) AS INTEGER) * 12 + CAST(substr(?, 6, 2) AS INTEGER)) AS t,
        SUM(net_sales) AS net_sales,
        SUM(commission + bonuses + overrides + points_cost) AS cost
    FROM partner_month
    WHERE period >= ? AND period <= ? AND (period <= ? OR period >= ?)
    GROUP BY partner_id, segment, cohort, period
),
sides AS (
    SELECT side, COUNT(DISTINCT period) AS side_months
    FROM months
    GROUP BY side
)
SELECT
    m.partner_id,
    m.segment,
    m.cohort,
    m.side,
    COUNT(*) AS months,
    SUM(m.net_sales) AS net_sales,
    SUM(m.cost) AS cost,
    SUM(m.t) AS t_sum,
    SUM(m.t * m.t) AS t2_sum,
    SUM(m.t * m.net_sales) AS t_sales,
    MAX(s.side_months) AS side_months
FROM months AS m
JOIN sides AS s ON s.side = m.side
GROUP BY m.partner_id, m.segment, m.cohort, m.side
ORDER BY m.partner_id, m.side, m.segment, m.cohort
