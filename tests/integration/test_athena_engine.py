"""AthenaEngine on moto's Athena (results seeded in moto's queue, as moto runs no SQL) and, where
moto cannot go (paged results, a FAILED query, bytes scanned), on botocore's Stubber, which checks
every request and response against Athena's API model."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from loyalty.adapters.athena import AthenaEngine, AthenaQueryError, convert, sql_literal
from loyalty.analytics.engine import Query, load_query
from loyalty_local.cloud import REGION
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager

_n = itertools.count(1)
QUERY = Query("by_segment", "-- params: period, segment\nSELECT 1 WHERE ? = ? ", ("period", "segment"))
INFO = [
    {"Name": "segment", "Type": "varchar"},
    {"Name": "partners", "Type": "bigint"},
    {"Name": "net_sales", "Type": "decimal"},
]


def _row(*values: str | None) -> dict[str, Any]:
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


@pytest.fixture()
def athena() -> Iterator[tuple[Any, str]]:
    client = boto3.client("athena", region_name=REGION)
    workgroup = f"analytics-{next(_n)}"
    client.create_work_group(
        Name=workgroup, Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/athena/"}}
    )
    yield client, workgroup
    athena_backends[DEFAULT_ACCOUNT_ID][REGION].query_results_queue.clear()


def _seed(rows: list[dict[str, Any]], info: list[dict[str, str]]) -> None:
    athena_backends[DEFAULT_ACCOUNT_ID][REGION].query_results_queue.append(QueryResults(rows, info))


def test_runs_in_the_workgroup_with_quoted_parameters_and_typed_values(athena: tuple[Any, str]) -> None:
    client, workgroup = athena
    _seed(
        [
            _row("segment", "partners", "net_sales"),  # a SELECT's first row is its header
            _row("smb", "12", "1234.56"),
            _row("o'brien & co", "3", "-0.10"),
            _row(None, "0", None),
        ],
        INFO,
    )
    rows = AthenaEngine(client, workgroup, "loyalty_analytics").run(
        QUERY, {"period": "2026-10", "segment": "it's"}
    )
    assert rows.columns == ("segment", "partners", "net_sales")
    assert rows.rows == (
        ("smb", 12, Decimal("1234.56")),
        ("o'brien & co", 3, Decimal("-0.10")),
        (None, 0, None),
    )
    assert isinstance(rows.rows[0][2], Decimal)
    assert rows.scanned_bytes == 0  # moto's statistics
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    execution = next(e for e in backend.executions.values() if e.workgroup and e.workgroup.name == workgroup)
    assert execution.query == QUERY.sql
    assert execution.context == {"Database": "loyalty_analytics"}
    # each value a SQL string literal, quotes doubled: a parameter never becomes SQL
    assert execution.execution_parameters == ["'2026-10'", "'it''s'"]


def test_a_real_query_file_goes_as_it_is(athena: tuple[Any, str]) -> None:
    client, workgroup = athena
    _seed(
        [_row("tier", "partners"), _row("Gold", "4")],
        [{"Name": "tier", "Type": "varchar"}, {"Name": "partners", "Type": "bigint"}],
    )
    query = load_query("tier_distribution")
    rows = AthenaEngine(client, workgroup, "db").run(query, {"period": "2026-10", "unused": "x"})
    assert rows.dicts() == [{"tier": "Gold", "partners": 4}]
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    execution = next(e for e in backend.executions.values() if e.workgroup and e.workgroup.name == workgroup)
    assert (execution.query, execution.execution_parameters) == (query.sql, ["'2026-10'"])


def test_a_missing_parameter_is_refused_before_athena_is_asked(athena: tuple[Any, str]) -> None:
    client, workgroup = athena
    with pytest.raises(ValueError, match="needs segment"):
        AthenaEngine(client, workgroup, "db").run(QUERY, {"period": "2026-10"})
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    assert not any(e.workgroup and e.workgroup.name == workgroup for e in backend.executions.values())


def test_polls_with_backoff_until_done_and_a_cancelled_query_raises(athena: tuple[Any, str]) -> None:
    client, workgroup = athena
    state_manager.set_transition(
        model_name="athena::execution", transition={"progression": "manual", "times": 99}
    )
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # someone cancels the query while the engine waits
        waits.append(seconds)
        if len(waits) == 4:
            backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
            for e in backend.executions.values():
                if e.workgroup and e.workgroup.name == workgroup:
                    client.stop_query_execution(QueryExecutionId=e.id)

    try:
        engine = AthenaEngine(client, workgroup, "db", first_wait=0.5, max_wait=2.0, sleep=sleep)
        with pytest.raises(AthenaQueryError) as err:
            engine.run(QUERY, {"period": "2026-10", "segment": "smb"})
    finally:
        state_manager.unset_transition("athena::execution")
    assert waits == [0.5, 1.0, 2.0, 2.0]
    assert err.value.state == "CANCELLED"


# -- on the Stubber: paging, FAILED with Athena's reason, bytes scanned, a timeout ------------------
def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("athena", region_name=REGION)
    return client, Stubber(client)


def _execution(state: str, reason: str = "", scanned: int = 0) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state, "SubmissionDateTime": dt.datetime(2026, 11, 1, tzinfo=dt.UTC)}
    if reason:
        status["StateChangeReason"] = reason
    return {
        "QueryExecution": {
            "QueryExecutionId": "q-1",
            "Status": status,
            "Statistics": {"DataScannedInBytes": scanned},
        }
    }


def _start(stub: Stubber) -> None:
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": QUERY.sql,
            "QueryExecutionContext": {"Database": "db"},
            "WorkGroup": "wg",
            "ExecutionParameters": ["'2026-10'", "'smb'"],
        },
    )


def test_pages_through_the_results_and_reports_bytes_scanned() -> None:
    client, stub = _stubbed()
    _start(stub)
    stub.add_response("get_query_execution", _execution("QUEUED"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response(
        "get_query_execution", _execution("SUCCEEDED", scanned=31_457_280), {"QueryExecutionId": "q-1"}
    )
    meta = {"ColumnInfo": INFO}
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [_row("segment", "partners", "net_sales"), _row("a", "1", "1.00")],
                "ResultSetMetadata": meta,
            },
            "NextToken": "t2",
        },
        {"QueryExecutionId": "q-1", "MaxResults": 1000},
    )
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [_row("b", "2", "2.50")], "ResultSetMetadata": meta}, "NextToken": "t3"},
        {"QueryExecutionId": "q-1", "MaxResults": 1000, "NextToken": "t2"},
    )
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [_row("c", "3", "0.01")], "ResultSetMetadata": meta}},
        {"QueryExecutionId": "q-1", "MaxResults": 1000, "NextToken": "t3"},
    )
    waits: list[float] = []
    with stub:
        rows = AthenaEngine(client, "wg", "db", sleep=waits.append).run(
            QUERY, {"period": "2026-10", "segment": "smb"}
        )
    stub.assert_no_pending_responses()
    assert rows.rows == (("a", 1, Decimal("1.00")), ("b", 2, Decimal("2.50")), ("c", 3, Decimal("0.01")))
    assert rows.scanned_bytes == 31_457_280
    assert waits == [0.25, 0.5]


def test_a_failed_query_raises_with_athenas_reason() -> None:
    client, stub = _stubbed()
    _start(stub)
    reason = "Query exhausted resources at this scale factor; bytes scanned limit exceeded"
    stub.add_response("get_query_execution", _execution("FAILED", reason), {"QueryExecutionId": "q-1"})
    with stub, pytest.raises(AthenaQueryError, match="bytes scanned limit exceeded") as err:
        AthenaEngine(client, "wg", "db", sleep=lambda _: None).run(
            QUERY, {"period": "2026-10", "segment": "smb"}
        )
    assert (err.value.state, err.value.execution_id, err.value.name) == ("FAILED", "q-1", "by_segment")


def test_a_query_running_too_long_is_stopped() -> None:
    client, stub = _stubbed()
    _start(stub)
    for _ in range(3):
        stub.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    with stub, pytest.raises(AthenaQueryError, match="TIMED OUT"):
        AthenaEngine(client, "wg", "db", first_wait=1, max_wait=1, timeout=2, sleep=lambda _: None).run(
            QUERY, {"period": "2026-10", "segment": "smb"}
        )
    stub.assert_no_pending_responses()


def test_values_and_literals() -> None:
    assert sql_literal("2026-10") == "'2026-10'"
    assert sql_literal("x'; DROP TABLE t; --") == "'x''; DROP TABLE t; --'"
    assert convert("12.30", "decimal(38,2)") == Decimal("12.30")
    assert convert("7", "integer") == 7 and convert("7", "bigint") == 7
    assert convert("true", "boolean") is True
    assert convert(None, "decimal") is None
    with pytest.raises(ValueError, match="double"):
        convert("0.1", "double")  # money never arrives as a float
