"""Shared fixtures: one moto for the session, fresh local stacks on demand (the small program
of `loyalty_factories.small` loaded)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from loyalty_factories.small import RATES, REGISTRY, RULES, sales_csv
from loyalty_local.atomic import atomic_dynamodb
from loyalty_local.cloud import LocalCloud
from loyalty_local.env import LOCAL_ENV, REGION
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[1]
_names = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
def aws() -> Iterator[None]:
    import os

    os.environ.update(LOCAL_ENV)
    atomic_dynamodb()  # as the local cloud does: one DynamoDB request at a time, each atomic
    with mock_aws():
        yield


def load_program(cloud: LocalCloud) -> None:
    cloud.upload("rules/default-program.yaml", RULES)
    cloud.run_until_idle()
    cloud.upload("registry/partners.csv", REGISTRY)
    cloud.upload("rates/fx.csv", RATES)
    cloud.run_until_idle()


@pytest.fixture()
def new_cloud(tmp_path: Path) -> Iterator[Callable[..., LocalCloud]]:
    clouds: list[LocalCloud] = []

    def make(parameters: dict[str, str] | None = None, program: bool = True) -> LocalCloud:
        c = LocalCloud(
            stack_name=f"t{next(_names)}",
            parameters=parameters,
            log_path=tmp_path / "lambda.log",
            start_mock=False,
        )
        c.start()
        clouds.append(c)
        if program:
            load_program(c)
        return c

    yield make
    for c in clouds:
        c.stop()


@pytest.fixture()
def cloud(new_cloud: Callable[..., LocalCloud]) -> LocalCloud:
    return new_cloud()


def summary(cloud: LocalCloud, key: str) -> dict[str, Any]:
    from loyalty.ingest.keys import report_base

    return cloud.read_json(report_base(key) + ".summary.json")  # type: ignore[no-any-return]


def balances(cloud: LocalCloud, partners: list[str], months: list[str]) -> dict[str, Any]:
    """Every figure a partner sees, per month - what the reliability tests compare to the cent."""
    import datetime as dt

    from loyalty.adapters.dynamo import DynamoStore
    from loyalty.close.position import PositionService
    from loyalty.earning.balances import BalanceService

    store = DynamoStore(cloud.outputs["TableName"], REGION)
    svc = BalanceService(store)
    out: dict[str, Any] = {}
    for p in partners:
        for m, b in svc.balances(p, months).items():
            out[f"{p}/{m}"] = b.to_json()
        out[f"{p}/position"] = PositionService(store).position(p, dt.date(2026, 11, 23)).to_json()
        out[f"{p}/lines"] = sorted(
            (s.sale_id, str(s.net_eur), str(s.commission), s.tier, str(s.rate))
            for s in store.partner_sales(p)
        )
    return out


def event(name: str, **subst: str) -> dict[str, Any]:
    text = (ROOT / "events" / name).read_text()
    for k, v in subst.items():
        text = text.replace("{{" + k + "}}", v)
    return json.loads(text)  # type: ignore[no-any-return]


__all__ = ["RATES", "REGISTRY", "RULES", "balances", "event", "load_program", "sales_csv", "summary"]
