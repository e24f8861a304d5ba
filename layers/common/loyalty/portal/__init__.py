"""What a partner sees of its own program: profile and language, balances, lines with their
calculation trace, statements, tier progress, targets, points and rewards, rank and uploads."""
