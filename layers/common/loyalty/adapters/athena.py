"""The report's queries on Athena (`loyalty report --aws`; docs/analytics-report.md).

The same query files DuckDB runs locally go to Athena as they are, in the stack's workgroup (its
encrypted result location and bytes-scanned limit apply) against the Glue database of the facts.
The `?` placeholders are bound by Athena's ExecutionParameters, each a SQL string literal, so a
parameter can never become SQL. Values come back as text and are typed by the result's column
types: decimal -> Decimal (money never passes through float), integer/bigint -> int, varchar -> str.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from loyalty.analytics.engine import Query, Rows

INTEGER_TYPES = frozenset({"tinyint", "smallint", "integer", "int", "bigint"})
TEXT_TYPES = frozenset({"varchar", "char", "string"})
FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
PAGE = 1000  # GetQueryResults' maximum page


class AthenaQueryError(RuntimeError):
    """A query Athena did not run to the end: FAILED or CANCELLED (with Athena's reason), or
    still running when the engine's patience ran out (then it is cancelled)."""

    def __init__(self, name: str, execution_id: str, state: str, reason: str) -> None:
        super().__init__(f"Athena query {name} ({execution_id}) {state}: {reason or 'no reason given'}")
        self.name = name
        self.execution_id = execution_id
        self.state = state
        self.reason = reason


def sql_literal(value: str) -> str:
    """A string as a SQL string literal (quotes doubled): what ExecutionParameters expects."""
    return "'" + value.replace("'", "''") + "'"


def convert(value: str | None, athena_type: str) -> Any:
    """One result cell as Python by its column's type (NULL, an absent VarCharValue, is None)."""
    if value is None:
        return None
    kind = athena_type.lower().split("(")[0].strip()
    if kind == "decimal":
        return Decimal(value)
    if kind in INTEGER_TYPES:
        return int(value)
    if kind == "boolean":
        return value.lower() == "true"
    if kind in TEXT_TYPES:
        return value
    raise ValueError(f"Athena type {athena_type!r} is not one the report's queries return")


class AthenaEngine:
    """`QueryEngine` on Athena: start, poll with backoff, page the results."""

    def __init__(
        self,
        client: Any,
        workgroup: str,
        database: str,
        *,
        first_wait: float = 0.25,
        max_wait: float = 5.0,
        timeout: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.workgroup = workgroup
        self.database = database
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.timeout = timeout
        self.sleep = sleep

    def run(self, query: Query, params: Mapping[str, str]) -> Rows:
        request: dict[str, Any] = {
            "QueryString": query.sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
        }
        values = query.values(params)
        if values:
            request["ExecutionParameters"] = [sql_literal(v) for v in values]
        execution_id: str = self.client.start_query_execution(**request)["QueryExecutionId"]
        execution = self._wait(query.name, execution_id)
        columns, rows = self._results(execution_id)
        scanned = execution.get("Statistics", {}).get("DataScannedInBytes")
        return Rows(columns, rows, None if scanned is None else int(scanned))

    def _wait(self, name: str, execution_id: str) -> dict[str, Any]:
        waited, delay = 0.0, self.first_wait
        while True:
            execution: dict[str, Any] = self.client.get_query_execution(QueryExecutionId=execution_id)[
                "QueryExecution"
            ]
            status = execution["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return execution
            if state in FINISHED:
                raise AthenaQueryError(name, execution_id, state, status.get("StateChangeReason", ""))
            if waited >= self.timeout:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise AthenaQueryError(name, execution_id, "TIMED OUT", f"still {state} after {waited:.0f} s")
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, self.max_wait)

    def _results(self, execution_id: str) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]:
        columns: tuple[str, ...] = ()
        types: list[str] = []
        out: list[tuple[Any, ...]] = []
        token: str | None = None
        first = True
        while True:
            request: dict[str, Any] = {"QueryExecutionId": execution_id, "MaxResults": PAGE}
            if token:
                request["NextToken"] = token
            page = self.client.get_query_results(**request)
            result = page["ResultSet"]
            if first:
                info = result["ResultSetMetadata"]["ColumnInfo"]
                columns = tuple(c["Name"] for c in info)
                types = [c["Type"] for c in info]
            rows = [[d.get("VarCharValue") for d in r["Data"]] for r in result.get("Rows", [])]
            if first and rows and tuple(rows[0]) == columns:
                rows = rows[1:]  # a SELECT's first row is its header
            first = False
            out.extend(tuple(convert(v, t) for v, t in zip(r, types, strict=True)) for r in rows)
            token = page.get("NextToken")
            if not token:
                return columns, tuple(out)
