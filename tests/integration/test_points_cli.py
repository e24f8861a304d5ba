"""`loyalty points ...` end to end through the real argument parser, on a store holding the
program (rules, registry, a Gold tier) and the demo catalog: balance, history, redeem (ok,
replayed, refused with exit 3 and the reason), cancel, fulfil and the fulfilment CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.kernel import MemoryBlobs, MemoryCipher, MemoryNotifier
from loyalty.points.catalog import CatalogLoader
from loyalty.program.registry import parse_registry
from loyalty.program.rules import parse_rules
from loyalty_cli import main as cli
from loyalty_cli import points, stack
from loyalty_factories.catalog import DEMO_CATALOG
from loyalty_factories.small import RULES
from loyalty_local.cloud import REGION

from tests.contract.conftest import make_table
from tests.unit.rewards_world import grant, lot

REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,\n"
    b"P00002,Beta IT,finance@beta.example,smb,FR,,2026-01-01,\n"
)
NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)


def program(store: Any) -> Any:
    rules = parse_rules(RULES.decode())
    store.put_rule_version(rules, "rules/default-program.yaml")
    partners, issues, _ = parse_registry(io.BytesIO(REGISTRY), [t.name for t in rules.tiers])
    assert not issues
    store.put_partners(partners)
    store.put_tier("P00002", "2026-02", "Gold", "test")
    blobs = MemoryBlobs()
    blobs.put("catalog/demo.yaml", DEMO_CATALOG.encode(), "text/yaml")
    rep = CatalogLoader(store, blobs, lambda: [t.name for t in rules.tiers]).load("catalog/demo.yaml")
    assert rep.accepted == 4 and not rep.issues
    grant(
        store,
        "P00001",
        [
            lot("bonus:a", 1200, "2026-04-30", pid="P00001"),
            lot("month:2026-02", 300, "2027-02-28", state="pending", pid="P00001"),
        ],
    )
    grant(store, "P00002", [lot("bonus:b", 5000, "2026-12-31", pid="P00002")])
    return store


@pytest.fixture(params=["memory", "dynamo"])
def store(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    fresh = (
        MemoryStore()
        if request.param == "memory"
        else DynamoStore(make_table(), REGION, cipher=MemoryCipher())
    )
    s = program(fresh)
    monkeypatch.setattr(points, "open_store", lambda args: s)
    monkeypatch.setattr(points, "open_events", lambda args: EVENTS)
    monkeypatch.setattr(points, "now", lambda: NOW)
    EVENTS.published.clear()
    return s


EVENTS = MemoryNotifier()


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(list(argv))
    return code, out.getvalue()


def test_redeem_replay_and_refusals_with_exit_codes(store: Any) -> None:
    code, out = run("points", "redeem", "P00001", "MUG", "--request-id", "R1", "--json")
    assert code == 0 and json.loads(out)["redemption"]["state"] == "pending"
    code, out = run("points", "redeem", "P00001", "MUG", "--request-id", "R1", "--json")
    assert code == 0 and json.loads(out)["replayed"] is True
    # the partner hears of its redemption once (a replay sends nothing)
    assert [p.message["request_id"] for p in EVENTS.of_type("reward_redeemed")] == ["R1"]
    code, out = run("points", "redeem", "P00001", "EBIKE", "--request-id", "R1")
    assert code == 3 and "request_conflict" in out
    assert run("points", "redeem", "P00002", "HEADPHONES", "--request-id", "B1")[0] == 0
    code, out = run("points", "redeem", "P00001", "HEADPHONES", "--request-id", "R2")
    assert code == 3 and out.startswith("refused (out_of_stock)")
    code, out = run("points", "redeem", "P00001", "EBIKE", "--request-id", "R3")
    assert code == 3 and "insufficient points: 250 000 needed, 1 000 active (300 pending)" in out
    code, out = run("points", "redeem", "P00001", "GOLD-SUMMIT", "--request-id", "R4")
    assert code == 3 and "tier_too_low" in out and "tier is Bronze" in out
    assert run("points", "redeem", "P00002", "GOLD-SUMMIT", "--request-id", "B2")[0] == 0
    assert run("points", "redeem", "P09999", "MUG", "--request-id", "X")[0] == 2


def test_balance_history_cancel_fulfil_and_the_fulfilment_list(store: Any, tmp_path: Path) -> None:
    run("points", "redeem", "P00001", "MUG", "--request-id", "R1")
    run("points", "redeem", "P00001", "MUG", "--request-id", "R2")
    code, out = run("points", "balance", "P00001", "--json")
    bal = json.loads(out)
    assert code == 0 and (bal["active"], bal["pending"], bal["balance"], bal["spent"]) == (
        800,
        300,
        1100,
        400,
    )
    assert bal["expiring_soon"] == 800 and bal["expiring_on"] == "2026-04-30"
    assert "balance" in run("points", "balance", "P00001")[1]
    code, out = run("points", "cancel", "P00001", "R1", "--reason", "wrong colour", "--actor", "olga")
    assert code == 0 and "cancelled R1" in out
    code, out = run("points", "fulfil", "P00001", "R2", "--actor", "ops")
    assert code == 0 and "fulfilled" in out
    code, out = run("points", "cancel", "P00001", "R2", "--reason", "late")
    assert code == 3 and "not_cancellable" in out
    code, out = run("points", "history", "P00001", "--period", "2026-03", "--json")
    assert [m["move_id"] for m in json.loads(out)] == [
        "redeem:R1",
        "redeem:R1:cancel",
        "redeem:R2",
        "redeem:R2:fulfil",
    ]
    assert "redeem:R2:fulfil" in run("points", "history", "P00001")[1]
    dest = tmp_path / "fulfilment.csv"
    code, out = run("points", "fulfilment", "--period", "2026-03", "--out", str(dest))
    rows = list(csv.DictReader(io.StringIO(dest.read_text())))
    assert code == 0 and "2 redemptions" in out
    assert [(r["request_id"], r["state"]) for r in rows] == [("R1", "cancelled"), ("R2", "fulfilled")]
    assert rows[0]["note"] == "cancelled by olga: wrong colour" and rows[1]["fmv_eur"] == "6.50"
    head = store.points_head("P00001")
    assert head.active == 1000 and head.spent == 200


def test_load_catalog_command_is_registered() -> None:
    args = cli.build_parser().parse_args(["load-catalog", "catalog.yaml"])
    assert args.file == "catalog.yaml"
    # registered here, or with the other load-* kinds by `stack` (then it uploads to catalog/ too)
    assert args.func is points.cmd_load_catalog or (args.func is stack.cmd_load and args.kind == "catalog")


def test_bad_input_and_contention_have_their_own_exit_codes(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("points", "redeem", "P00001", "MUG", "--request-id", "bad\tid")[0] == 2
    assert run("points", "redeem", "P00001", "MUG", "--request-id", "R1")[0] == 0
    assert run("points", "cancel", "P00001", "R1", "--reason", " ")[0] == 2
    monkeypatch.setattr(store, "commit_points", lambda tx: False)  # every commit loses a race
    monkeypatch.setattr("loyalty.points.redemptions._backoff", lambda attempt: None)
    assert run("points", "redeem", "P00001", "MUG", "--request-id", "R2")[0] == 4
    assert store.redemption("P00001", "R2") is None
