"""The monthly close: tier review, ledger, payout proposal, approvals, bank files, statements and
the steps that run them against the ports."""
