"""Earning: commission per line, the accrual writer (lines and month totals) and balances."""
