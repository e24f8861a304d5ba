"""Moving the facts between the bucket and a local folder DuckDB reads."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from loyalty.analytics.ports import FactsFiles
from loyalty.analytics.schema import TABLES


def download_facts(files: FactsFiles, periods: Iterable[str], root: Path) -> int:
    """Copy the Parquet of `periods` (every table) to `root/<same keys>`; returns the bytes copied.
    A period without facts is simply absent (the report says so)."""
    copied = 0
    for period in sorted(set(periods)):
        for table in TABLES.values():
            for key in files.keys(table.partition(period)):
                if not key.endswith(".parquet"):
                    continue
                body = files.get(key)
                dest = root / key
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(body)
                copied += len(body)
    return copied
