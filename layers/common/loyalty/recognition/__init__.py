"""Recognition (issue 11): leaderboards per segment at each close and the partner-of-the-month certificates."""
