"""Close runs: statuses, execution names, errors, the file prefix of a run."""

from __future__ import annotations

FINISHED = "paid"
RERUNNABLE = ("rejected", "timed_out", "failed")
ACTIVE = ("started", "frozen", "proposed", "awaiting_approval", "approved", "paying")


class CloseError(Exception):
    """A refusal with a reason the caller can act on (HTTP 4xx, CLI message)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def run_name(period: str, attempt: int) -> str:
    """Execution name from the period: a second start of the same attempt is a no-op."""
    return f"close-{period}" if attempt <= 1 else f"close-{period}-r{attempt}"


def _prefix(period: str, run: str) -> str:
    return f"close/{period}/{run}/"
