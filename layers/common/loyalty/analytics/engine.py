"""The report's queries and the engines that run them.

A query is a file `queries/<name>.sql` in the SQL both Athena (Trino) and DuckDB run (a test
runs each on DuckDB and parses it as Trino with sqlglot). Its first line names its parameters,
in the order of its `?` placeholders:

    -- params: period_from, period_to

The tables are `partner_month` and `line_month` (loyalty.analytics.schema), with `period` the
partition column (a YYYY-MM string). On AWS they are Glue tables over the bucket's Parquet;
locally `DuckDBEngine` makes views of the same names over the same files copied from the bucket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import duckdb

from loyalty.analytics.schema import TABLES

PARAMS_RE = re.compile(r"^--\s*params:\s*(.*)$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    name: str
    sql: str
    params: tuple[str, ...]

    def values(self, given: Mapping[str, str]) -> list[str]:
        """The parameter values in placeholder order; a missing one is an error."""
        missing = [p for p in self.params if p not in given]
        if missing:
            raise ValueError(f"query {self.name} needs {', '.join(missing)}")
        return [given[p] for p in self.params]


def query_names() -> list[str]:
    folder = resources.files("loyalty.analytics") / "queries"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql"))


def load_query(name: str) -> Query:
    if not NAME_RE.match(name):
        raise ValueError(f"not a query name: {name!r}")
    sql = (resources.files("loyalty.analytics") / "queries" / f"{name}.sql").read_text(encoding="utf-8")
    first = sql.splitlines()[0] if sql else ""
    m = PARAMS_RE.match(first)
    params = tuple(p.strip() for p in m.group(1).split(",") if p.strip()) if m else ()
    if sql.count("?") != len(params):
        raise ValueError(f"query {name}: {sql.count('?')} placeholders but params {params}")
    return Query(name, sql, params)


@dataclass(frozen=True)
class Rows:
    """A query's answer: column names and rows (Decimal for money, int, str)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    scanned_bytes: int | None = None  # Athena's figure; None locally

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


class QueryEngine(Protocol):
    def run(self, query: Query, params: Mapping[str, str]) -> Rows: ...


class DuckDBEngine:
    """The queries over a folder holding `analytics/v<N>/<table>/period=YYYY-MM/*.parquet`."""

    def __init__(self, root: Path, memory_limit: str = "") -> None:
        self.con = duckdb.connect(":memory:")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        for table in TABLES.values():
            files = root / table.prefix()
            if any(files.glob("period=*/*.parquet")):
                src = (
                    f"read_parquet('{files.as_posix()}/period=*/*.parquet', hive_partitioning = true, "
                    "hive_types = {'period': 'VARCHAR'}, union_by_name = true)"
                )
            else:  # no facts yet: an empty table of the same shape
                cols = ", ".join(f'CAST(NULL AS {c.sql}) AS "{c.name}"' for c in table.columns)
                src = f"(SELECT {cols}, CAST(NULL AS VARCHAR) AS period WHERE false)"
            # names and types from the schema, the folder quoted: nothing a caller supplies
            self.con.execute(f"CREATE VIEW {table.name} AS SELECT * FROM {src}")  # noqa: S608

    def run(self, query: Query, params: Mapping[str, str]) -> Rows:
        cur = self.con.execute(query.sql, query.values(params))
        columns = tuple(d[0] for d in cur.description or ())
        return Rows(columns, tuple(tuple(r) for r in cur.fetchall()))

    def close(self) -> None:
        self.con.close()


def run_all(engine: QueryEngine, names: Sequence[str], params: Mapping[str, str]) -> dict[str, Rows]:
    return {n: engine.run(load_query(n), params) for n in names}
