"""Contract of the training ports (TrainingReader, TrainingWriter): the same outcomes and reads
from the in-memory store and the DynamoDB store (moto)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import Any

import boto3
from loyalty.adapters.dynamo import DynamoStore
from loyalty.training.records import Completion
from loyalty_local.cloud import REGION

D = dt.date
MARCH_1 = D(2026, 3, 1)


def done(pid: str, person: str, course: str, on: D = MARCH_1, cert: str = "C-1", **kw: Any) -> Completion:
    return Completion(pid, person, course, on, cert, source="training/a.csv", line=2, **kw)


def test_new_completions_are_stored_and_read_back_in_order(store: Any) -> None:
    rows = [
        done("P00001", "E-2", "CERT-SALES"),
        done("P00001", "E-1", "CERT-SALES", expires_on=D(2027, 3, 1)),
        done("P00001", "E-1", "CERT-PRE", cert=""),
        done("P00002", "E-1", "CERT-SALES"),
    ]
    assert store.completions("P00001") == []
    assert store.put_completions(rows) == ["new"] * 4
    assert store.completions("P00001") == [rows[2], rows[1], rows[0]]
    got = store.completions_of(["P00002", "P00001", "P00009", "P00002"])
    assert got == {"P00001": [rows[2], rows[1], rows[0]], "P00002": [rows[3]]}


def test_reimport_is_idempotent_renewals_replace_conflicts_change_nothing(store: Any) -> None:
    first = done("P00001", "E-1", "CERT-SALES", expires_on=D(2027, 3, 1))
    assert store.put_completions([first]) == ["new"]
    again = dataclasses.replace(first, source="training/b.csv", line=7)
    assert store.put_completions([again]) == ["unchanged"]
    assert store.completions("P00001") == [first]  # the original source is kept
    renewal = dataclasses.replace(
        first, completed_on=D(2027, 2, 20), certificate_id="C-2", expires_on=D(2029, 2, 20)
    )
    older = dataclasses.replace(first, completed_on=D(2026, 1, 1), certificate_id="C-0")
    outcomes = store.put_completions([renewal, older, first])
    assert outcomes[0] == "renewed"
    assert outcomes[1].startswith("conflict: stored completed 2027-02-20, C-2, expires 2029-02-20")
    assert outcomes[2].startswith("conflict: stored completed 2027-02-20, C-2")
    assert store.completions("P00001") == [renewal]


def test_keys_with_hash_and_percent_stay_apart(store: Any) -> None:
    a = done("P00001", "E#1", "C%23X")
    b = done("P00001", "E", "1#C#X")
    c = done("P00001", "E#1#C", "X")
    assert store.put_completions([a, b, c]) == ["new"] * 3
    assert {(x.person_id, x.course) for x in store.completions("P00001")} == {
        ("E#1", "C%23X"),
        ("E", "1#C#X"),
        ("E#1#C", "X"),
    }
    assert store.put_completions([a, b, c]) == ["unchanged"] * 3


def test_two_loads_of_the_same_renewal_at_once_renew_once(store: Any) -> None:
    first = done("P00001", "E-1", "CERT-SALES")
    store.put_completions([first])
    renewal = dataclasses.replace(first, completed_on=D(2026, 9, 1), certificate_id="C-2")
    results: list[list[str]] = []
    start = threading.Barrier(4)

    def load() -> None:
        start.wait()
        results.append(store.put_completions([renewal]))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["renewed", "unchanged", "unchanged", "unchanged"]
    assert store.completions("P00001") == [renewal]


def test_a_concurrent_write_between_read_and_write_is_judged_again(dynamo_store: DynamoStore) -> None:
    """The DynamoDB adapter reads, judges, then writes conditionally: when another load stored the
    key in between, the write fails and the row is judged against what is stored now."""
    s = dynamo_store
    theirs = done("P00001", "E-1", "CERT-SALES", cert="C-THEIRS")
    mine = done("P00001", "E-1", "CERT-SALES", cert="C-MINE")
    other = DynamoStore(s.m.Doc.Meta.table_name, REGION)  # another loader on the same table
    read = s._stored

    def read_then_race(keys: Any) -> Any:
        got = read(keys)
        assert other.put_completions([theirs]) == ["new"]  # lands after our read
        return got

    s._stored = read_then_race  # type: ignore[method-assign]
    (outcome,) = s.put_completions([mine])
    assert outcome.startswith("conflict: stored completed 2026-03-01, C-THEIRS")
    s._stored = read  # type: ignore[method-assign]
    assert s.completions("P00001") == [theirs]


def test_items_are_keyed_per_partner_person_and_course(dynamo_store: DynamoStore) -> None:
    dynamo_store.put_completions([done("P00001", "E#1", "CERT-SALES")])
    ddb = boto3.client("dynamodb", region_name=REGION)
    items = ddb.scan(TableName=dynamo_store.m.Doc.Meta.table_name)["Items"]
    keys = sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)
    # the completion, and the marker the close's batched read finds the partner by
    assert keys == [("TRAINING#P00001", "DONE#E%231#CERT-SALES"), ("TRAINING#P00001", "HAS")]
    done_item = next(i for i in items if i["sk"]["S"].startswith("DONE#"))
    assert len(done_item["data"]["S"]) < 1024  # bounded: ids are at most 64 characters


def test_the_close_reads_only_the_partners_that_have_completions(dynamo_store: DynamoStore) -> None:
    dynamo_store.put_completions([done("P00001", "E1", "CERT-SALES"), done("P00003", "E2", "X")])
    calls: list[str] = []
    ddb = dynamo_store.m.Doc._get_connection().connection.client
    ddb.meta.events.register("after-call.dynamodb.*", lambda event_name, **kw: calls.append(event_name))
    got = dynamo_store.completions_of([f"P{i:05d}" for i in range(1, 251)])
    assert sorted(got) == ["P00001", "P00003"]
    # 250 partners: three batched reads of the markers, then one query per partner with completions
    assert calls.count("after-call.dynamodb.BatchGetItem") == 3
    assert calls.count("after-call.dynamodb.Query") == 2
