"""The demo's training file (loyalty_factories.training) through the configuration loads, and the
`loyalty load-training` / `load-catalog` commands' upload keys."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.training.certification import certified_counts
from loyalty_cli import stack
from loyalty_cli.main import build_parser
from loyalty_factories.program import make_partners, registry_csv
from loyalty_factories.training import demo_training, platinum_candidate, training_csv

from tests.conftest import RULES

UP_TO = dt.date(2026, 10, 31)


def test_training_csv_writes_the_header_and_pads_rows() -> None:
    body = training_csv([["P1", "E-1", "X", dt.date(2026, 1, 2), "C"]], delimiter=";")
    assert body.decode().splitlines() == [
        "partner_id;person_id;course;completed_on;certificate_id;expires_on",
        "P1;E-1;X;2026-01-02;C;",
    ]


def test_the_demo_file_certifies_the_top_uncertified_partner_and_shows_two_errors() -> None:
    rnd = random.Random(7)
    people = make_partners(120, rnd)
    net = {p.pid: Decimal(int(p.size * 100_000)) for p in people}
    body, top = demo_training(people, net, rnd, UP_TO)
    assert top == platinum_candidate(people, net)
    assert "CERT-SALES" not in next(p for p in people if p.pid == top).certified
    assert all(net[top] >= net[p.pid] for p in people if "CERT-SALES" not in p.certified)

    c = MemoryContainer(today=UP_TO)
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", registry_csv(people))
    c.blobs.put("training/demo.csv", body, "text/csv")
    r = c.config().handle("training/demo.csv")
    assert r.rejected == 2 and r.accepted == r.rows - 2 > 10
    assert sorted(i.column for i in r.issues) == ["completed_on", "partner_id"]
    assert certified_counts(c.store.completions(top), UP_TO)["CERT-SALES"] == 1


@pytest.mark.parametrize(("kind", "prefix"), [("training", "training/"), ("catalog", "catalog/")])
def test_load_training_and_catalog_upload_under_their_prefix(
    kind: str, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploaded: list[tuple[str, str]] = []

    def upload(target: Any, path: Path, key: str, timeout: float, report: str) -> dict[str, Any]:
        uploaded.append((key, report))
        return {"status": "processed", "errors": []}

    monkeypatch.setattr(stack.Target, "from_args", classmethod(lambda cls, args: object()))
    monkeypatch.setattr(stack, "_upload", upload)
    f = tmp_path / "q1.csv"
    f.write_text("x")
    args = build_parser().parse_args([f"load-{kind}", str(f)])
    assert args.func(args) == 0
    assert uploaded == [(f"{prefix}q1.csv", f"reports/config/{prefix}q1.csv.report.json")]
