"""Incentives beyond commission (issue 10): target bonuses and multi-level overrides, computed by the close from the month aggregates."""
