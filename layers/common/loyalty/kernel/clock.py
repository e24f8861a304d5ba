"""Timestamps as the system writes them (UTC, ISO 8601 with Z)."""

from __future__ import annotations

import datetime as dt


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_seconds(t: dt.datetime) -> str:
    """`2026-09-01T02:00:00Z`: how the close records its times."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_seconds(t: str) -> dt.datetime:
    """The inverse of `iso_seconds`."""
    return dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
