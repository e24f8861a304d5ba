"""The what-if simulation as a job on the local cloud: the simulation state machine (Plan -> Map
over the manifest's batches -> Report) runs `functions/simulator` over two closed months; the
table is untouched, the report lands in `simulations/<job>/report.json`."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import yaml
from loyalty.adapters.s3sqs import StepFunctions
from loyalty_factories.small import RULES
from loyalty_local.cloud import REGION, LocalCloud

from tests.integration.test_simulate_cli import closed  # noqa: F401  (the fixture)

MACHINE = "SimulationStateMachine"


def table_digest(cloud: LocalCloud) -> str:
    h = hashlib.sha256()
    ddb = cloud.client("dynamodb")
    for page in ddb.get_paginator("scan").paginate(TableName=cloud.outputs["TableName"]):
        for item in sorted(json.dumps(i, sort_keys=True) for i in page["Items"]):
            h.update(item.encode())
    return h.hexdigest()


def test_simulation_state_machine_writes_the_report_and_never_the_table(closed: LocalCloud) -> None:  # noqa: F811
    before = table_digest(closed)
    sfn = StepFunctions(closed.state_machine(MACHINE), REGION)
    spec = {
        "job": "in-force-1",
        "rules_key": "rules/default-program.yaml",
        "targets_key": "",
        "start": "2026-08",
        "end": "2026-09",
    }
    _, started = sfn.start("sim-in-force-1", spec)
    assert started
    ex = closed.wait_execution("sim-in-force-1", machine=MACHINE)
    assert ex["status"] == "SUCCEEDED", ex
    report = closed.read_json("simulations/in-force-1/report.json")
    assert (report["job"], report["from"], report["to"]) == ("in-force-1", "2026-08", "2026-09")
    assert report["summary"]["partners_changed"] == 0  # the rules in force reproduce the closes
    assert all(Decimal(v) == 0 for v in report["summary"]["delta"].values())
    assert json.loads(closed.read_bytes("simulations/in-force-1/manifest.json")) == [
        {"batch": "simulations/in-force-1/batches/00000.json"}
    ]
    assert sfn.start("sim-in-force-1", spec)[1] is False  # the same job again: no new execution
    assert table_digest(closed) == before


def test_simulator_refuses_a_window_that_is_not_closed(closed: LocalCloud) -> None:  # noqa: F811
    event = {"step": "plan", "job": "j2", "rules_key": "rules/default-program.yaml", "start": "2026-09"}
    _, error = closed.invoke("SimulatorFunction", {**event, "end": "2026-10"})
    assert error is not None and error.startswith("SimulationError")
    _, error = closed.invoke("SimulatorFunction", {**event, "end": "2026-10", "rules_key": "close/x"})
    assert error is not None and error.startswith("ValidationError")


def test_rules_uploaded_with_simulate_first_are_simulated_before_they_take_effect(
    closed: LocalCloud,  # noqa: F811
) -> None:
    data = yaml.safe_load(RULES)
    data["version"], data["effective_from"] = "2027.1", "2027-01-01"
    for t in data["tiers"]:
        t["commission_pct"] = str(Decimal(t["commission_pct"]) + 1)
    before = table_digest(closed)
    closed.upload("rules/2027.yaml", yaml.safe_dump({**data, "simulate_first": True}).encode())
    closed.run_until_idle()
    load = closed.read_json("reports/config/rules/2027.yaml.report.json")
    assert load["status"] == "processed" and load["pending"] is True, load
    job = load["simulation"]["job"]
    ex = closed.wait_execution(f"sim-{job}", machine=MACHINE)
    assert ex["status"] == "SUCCEEDED", ex
    report = closed.read_json(f"simulations/{job}/report.json")
    # the window: the last closed months (August and September); one point more on every line
    assert (report["from"], report["to"], report["rules"]) == ("2026-08", "2026-09", "2027.1")
    assert Decimal(report["summary"]["delta"]["commission_accrued"]) == Decimal("346.00")
    assert table_digest(closed) == before  # the rule book (and everything else) is unchanged
    closed.upload("rules/2027.yaml", yaml.safe_dump(data).encode())  # publish after review
    closed.run_until_idle()
    published = closed.read_json("reports/config/rules/2027.yaml.report.json")
    assert published["new"] is True and "pending" not in published
    assert table_digest(closed) != before
