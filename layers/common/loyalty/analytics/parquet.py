"""Parquet files of the analytics tables, written by DuckDB (docs/analytics.md: chosen over
pyarrow by the measured layer size, 62 MB against 151 MB unzipped on arm64, and speed).

Rows arrive as JSON-able dicts (money as decimal strings, never floats); DuckDB reads them as
newline-delimited JSON with the table's declared types and writes one zstd-compressed Parquet
file. Memory stays bounded by the batch (the close writes one file per batch of partners).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from loyalty.analytics.schema import Table


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_parquet(table: Table, rows: Iterable[Mapping[str, Any]], dest: Path) -> int:
    """Write `rows` (each with every column of `table`) to `dest`; returns how many."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with tempfile.TemporaryDirectory(prefix="facts-") as tmp:
        src = Path(tmp) / "rows.json"
        with src.open("w", encoding="utf-8") as out:
            for row in rows:
                missing = [c for c in table.names if c not in row]
                if missing:
                    raise ValueError(f"{table.name} row without {', '.join(missing)}: {dict(row)!r:.200}")
                out.write(json.dumps({c: row[c] for c in table.names}, default=str))
                out.write("\n")
                count += 1
        columns = "{" + ", ".join(f"{_literal(c.name)}: {_literal(c.sql)}" for c in table.columns) + "}"
        select = ", ".join(f'"{c}"' for c in table.names)
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads TO 1")  # one Lambda vCPU at small memory; files stay ordered
            source = (
                f"read_json({_literal(str(src))}, format='newline_delimited', columns={columns})"
                if count
                else "(SELECT "
                + ", ".join(f'CAST(NULL AS {c.sql}) AS "{c.name}"' for c in table.columns)
                + " WHERE false)"
            )
            # column names and types from the schema, the paths quoted: nothing a caller supplies
            con.execute(
                f"COPY (SELECT {select} FROM {source}) TO {_literal(str(dest))} "  # noqa: S608
                "(FORMAT parquet, COMPRESSION zstd)"
            )
        finally:
            con.close()
    return count
