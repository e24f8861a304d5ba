"""Contract of the RecruitNets port (overrides): the month net of many partners in one batched read,
in memory and on DynamoDB (BatchGetItem of the MONTH# items: <= 100 keys a call, unprocessed keys
retried with a pause, only the net projected)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.dynamo import recruits as dynamo_recruits
from loyalty.earning.records import MonthDelta
from loyalty.incentives.ports import RecruitNets


def _apply(store: Any, partner: str, month: str, *nets: str) -> None:
    for i, net in enumerate(nets):
        d = MonthDelta()
        d.add(3, Decimal(net), Decimal(net) / 50, 1, 0, f"C{i}")
        store.apply_month_delta(partner, month, f"{partner}-{month}-{i}", d)


def _seed(store: Any, month: str, nets: dict[str, str]) -> None:
    """Many month totals quickly: one batch write on DynamoDB (the writer's path is covered above)."""
    if isinstance(store, DynamoStore):
        with store.m.Month.batch_write() as batch:
            for p, net in nets.items():
                batch.save(store.m.Month(f"PARTNER#{p}", f"MONTH#{month}", net=Decimal(net), lines=1))
        return
    for p, net in nets.items():
        _apply(store, p, month, net)


def test_month_nets_of_the_partners_that_have_the_month(store: Any) -> None:
    nets: RecruitNets = store
    _apply(store, "P00007", "2026-09", "12000.00", "-250.50")
    _apply(store, "P00007", "2026-08", "99.00")
    _apply(store, "P00008", "2026-09", "-100.25")
    _apply(store, "P00009", "2026-09", "10.00", "-10.00")
    _apply(store, "P00010", "2026-10", "5.00")
    got = nets.month_nets(["P00007", "P00008", "P00009", "P00010", "P404", "P00007"], "2026-09")
    assert got == {"P00007": Decimal("11749.50"), "P00008": Decimal("-100.25"), "P00009": Decimal("0.00")}
    assert all(isinstance(v, Decimal) for v in got.values())
    assert nets.month_nets(["P00007"], "2026-08") == {"P00007": Decimal("99.00")}
    assert nets.month_nets([], "2026-09") == {}
    assert nets.month_nets(["P00010"], "2026-09") == {}


def test_month_nets_of_more_partners_than_one_batch(store: Any) -> None:
    ids = [f"P{i:05d}" for i in range(120)]
    _seed(store, "2026-09", {p: f"{i}.{i % 100:02d}" for i, p in enumerate(ids) if i % 5})
    got = store.month_nets(ids, "2026-09")
    assert got == {p: Decimal(f"{i}.{i % 100:02d}") for i, p in enumerate(ids) if i % 5}


class _Flaky:
    """Wraps the table connection's BatchGetItem: records each call; the first `fail` calls get
    half of their keys back as unprocessed (what DynamoDB does when throttled)."""

    def __init__(self, real: Any, fail: int, table: str) -> None:
        self.real, self.fail, self.table = real, fail, table
        self.calls: list[dict[str, Any]] = []

    def __call__(self, keys: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
        self.calls.append({"keys": list(keys), **kw})
        if len(self.calls) > self.fail:
            return dict(self.real(keys, **kw))
        done, left = keys[: len(keys) // 2], keys[len(keys) // 2 :]
        resp = dict(self.real(done, **kw)) if done else {"Responses": {self.table: []}}
        resp["UnprocessedKeys"] = {self.table: {"Keys": left}}
        return resp


def test_dynamo_batches_of_100_keys_project_the_net_and_retry_unprocessed_keys(
    dynamo_store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"P{i:05d}" for i in range(210)]
    _seed(dynamo_store, "2026-09", {p: f"{i + 1}.00" for i, p in enumerate(ids)})
    conn = dynamo_store.m.Month._get_connection()
    flaky = _Flaky(conn.batch_get_item, 3, conn.table_name)
    monkeypatch.setattr(conn, "batch_get_item", flaky)
    pauses: list[float] = []
    monkeypatch.setattr(dynamo_recruits, "pause", pauses.append)
    got = dynamo_store.month_nets(ids, "2026-09")
    assert got == {p: Decimal(f"{i + 1}.00") for i, p in enumerate(ids)}
    assert all(len(c["keys"]) <= 100 for c in flaky.calls)
    assert len(flaky.calls) > 3  # 3 batches, and the unprocessed halves again
    assert sum(len(c["keys"]) for c in flaky.calls) > len(ids)
    assert all(c["attributes_to_get"] == ["pk", "net"] and c["consistent_read"] for c in flaky.calls)
    assert len(pauses) == 3 and pauses == sorted(pauses)  # backs off before each retry


def test_dynamo_gives_up_on_keys_left_unprocessed_after_its_retries(
    dynamo_store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _apply(dynamo_store, "P00001", "2026-09", "1.00")
    _apply(dynamo_store, "P00002", "2026-09", "2.00")
    conn = dynamo_store.m.Month._get_connection()
    monkeypatch.setattr(conn, "batch_get_item", _Flaky(conn.batch_get_item, 1000, conn.table_name))
    pauses: list[float] = []
    monkeypatch.setattr(dynamo_recruits, "pause", pauses.append)
    with pytest.raises(dynamo_recruits.UnprocessedMonths, match="1 month item"):
        dynamo_store.month_nets(["P00001", "P00002"], "2026-09")
    assert len(pauses) == dynamo_recruits.RETRIES
