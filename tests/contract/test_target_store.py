"""Contract of the target-set ports (TargetSource, TargetStore): the same results from the
in-memory store and the DynamoDB store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from loyalty.adapters.dynamo import targets as dynamo_targets
from loyalty.program.targets import Target, TargetSet


def target(tid: str, goal: str = "1000.00", **kw: Any) -> Target:
    base = Target(
        tid,
        "partner",
        "P00001",
        "net_sales",
        "",
        "month",
        "2026-09",
        Decimal(goal),
        (Decimal(goal),),
        Decimal("50.00"),
    )
    return dataclasses.replace(base, **kw)


def tset(version: str, day: dt.date, *targets: Target) -> TargetSet:
    return TargetSet(version, day, f"targets/{version}.csv", targets)


def test_sets_come_back_whole_in_effective_order(store: Any) -> None:
    t2 = tset(
        "T2", dt.date(2026, 7, 1), target("A"), target("B", scope="segment", scope_value="smb", method="step")
    )
    t1 = tset("T1", dt.date(2026, 1, 1), target("A", goal="5.00"))
    assert store.target_sets() == []
    assert store.put_target_set(t2, "targets/q3.csv") is True
    assert store.put_target_set(t1, "targets/base.yaml") is True
    got = store.target_sets()
    assert [s.version for s in got] == ["T1", "T2"]
    assert got[1] == dataclasses.replace(t2, source="targets/q3.csv")
    assert got[0].targets == t1.targets


def test_the_same_version_again_is_no_change_other_content_is_refused(store: Any) -> None:
    t1 = tset("T1", dt.date(2026, 1, 1), target("A"))
    assert store.put_target_set(t1, "targets/a.csv") is True
    assert store.put_target_set(dataclasses.replace(t1, source="elsewhere"), "targets/b.csv") is False
    with pytest.raises(ValueError, match="already exists"):
        store.put_target_set(tset("T1", dt.date(2026, 1, 1), target("A", goal="9.00")), "targets/c.csv")
    with pytest.raises(ValueError, match="already exists"):
        store.put_target_set(tset("T1", dt.date(2026, 2, 1), target("A")), "targets/d.csv")
    assert [s.source for s in store.target_sets()] == ["targets/a.csv"]


def test_a_large_book_is_stored_in_parts(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamo_targets, "PART_BYTES", 2_000)  # parts on the DynamoDB store
    big = tset("T9", dt.date(2026, 1, 1), *(target(f"T-{i:04d}") for i in range(60)))
    assert len(dynamo_targets.parts_of(big)) > 5
    assert store.put_target_set(big, "targets/big.csv") is True
    (got,) = store.target_sets()
    assert [t.target_id for t in got.targets] == [f"T-{i:04d}" for i in range(60)]
