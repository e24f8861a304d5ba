"""What finance and operations see and decide: closes awaiting a decision, proposals, anomalies,
exclusions, approvals, bank files, statements, the audit trail and CSV exports."""
