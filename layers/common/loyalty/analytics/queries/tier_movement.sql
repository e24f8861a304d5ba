-- params: period
-- The movement matrix of the month: partners per tier during the month (tier_before) and tier
-- from the next month on (tier_after); the diagonal is the partners that held their tier.
SELECT
    tier_before,
    tier_after,
    COUNT(*) AS partners
FROM partner_month
WHERE period = ?
GROUP BY tier_before, tier_after
ORDER BY tier_before, tier_after
