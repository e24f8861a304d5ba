"""Finance alerts of the close: a run that failed (an invariant, a digest or a bank check that
stopped it fails closed and finance hears of it at once)."""

from __future__ import annotations

from loyalty.close.header import CloseMeta
from loyalty.close.notices import Notice


def close_failed(meta: CloseMeta) -> Notice:
    return Notice(
        f"Payout run {meta.period} failed: nothing more was paid",
        {
            "type": "close_failed",
            "period": meta.period,
            "run": meta.run,
            "error": meta.ended or "",
            "reason": meta.reason or "",
            "how": f"loyalty approvals show {meta.period}; fix the cause, then loyalty close --period "
            f"{meta.period} --rerun",
        },
        {"type": "close_failed", "period": meta.period},
    )
