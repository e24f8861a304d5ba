"""Training and certification (issue 11): course completions imported from `training/*.csv`, certificates that count for the tiers."""
