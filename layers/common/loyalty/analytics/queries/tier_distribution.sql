-- params: period
-- Partners per tier held after the month (tier_after: the tier the close gave them from the
-- next month on).
SELECT
    tier_after AS tier,
    COUNT(*) AS partners
FROM partner_month
WHERE period = ?
GROUP BY tier_after
ORDER BY tier_after
