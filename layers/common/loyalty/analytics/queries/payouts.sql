-- params: period_from, period
-- Paid and carried forward per month (EUR), and how many partners were paid.
SELECT
    period,
    SUM(payout) AS payout,
    SUM(carried) AS carried,
    SUM(CASE WHEN payout > 0 THEN 1 ELSE 0 END) AS paid_partners
FROM partner_month
WHERE period >= ? AND period <= ?
GROUP BY period
ORDER BY period
