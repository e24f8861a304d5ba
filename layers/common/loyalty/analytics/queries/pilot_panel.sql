-- params: period_from, period_to
-- The partner-month panel of a pilot estimate (loyalty.analytics.uplift): net sales and the
-- program cost (commission + bonuses + overrides + points at their liability value) per partner
-- and month, with the segment and cohort that say who is in the pilot.
SELECT
    partner_id,
    period,
    segment,
    cohort,
    net_sales,
    commission + bonuses + overrides + points_cost AS cost
FROM partner_month
WHERE period >= ? AND period <= ?
ORDER BY partner_id, period
