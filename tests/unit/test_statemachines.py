"""Lint over every state machine in statemachines/: the rules every Task must follow."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loyalty_local.cloud import load_template

ROOT = Path(__file__).resolve().parents[2]
MACHINES = sorted((ROOT / "statemachines").glob("*.asl.json"))
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def states(definition: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, st in definition["States"].items():
        yield f"{path}{name}", st
        for key in ("ItemProcessor", "Iterator"):
            if key in st:
                yield from states(st[key], f"{path}{name}/")
        for i, branch in enumerate(st.get("Branches", [])):
            yield from states(branch, f"{path}{name}[{i}]/")


def test_there_are_state_machines() -> None:
    assert [m.name for m in MACHINES] == ["close.asl.json", "simulation.asl.json"]


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.name)
def test_every_task_retries_lambda_errors_and_has_timeouts(path: Path) -> None:
    definition = json.loads(path.read_text())
    tasks = [(n, s) for n, s in states(definition) if s["Type"] == "Task"]
    assert len(tasks) >= {"close.asl.json": 10, "simulation.asl.json": 3}[path.name]
    for name, st in tasks:
        assert isinstance(st.get("TimeoutSeconds"), int) and st["TimeoutSeconds"] > 0, name
        retried = set().union(*(set(r["ErrorEquals"]) for r in st.get("Retry", [])))
        if "lambda" in st["Resource"]:
            assert retried >= LAMBDA_SERVICE_ERRORS, (name, retried)
        if st["Resource"].endswith(".waitForTaskToken"):
            assert isinstance(st.get("HeartbeatSeconds"), int), name
            assert st["HeartbeatSeconds"] < st["TimeoutSeconds"], name
            assert "$$.Task.Token" in json.dumps(st["Parameters"]), name
            caught = set().union(*(set(c["ErrorEquals"]) for c in st.get("Catch", [])))
            assert {
                "Approval.Rejected",
                "Approval.TimedOut",
                "States.Timeout",
                "States.HeartbeatTimeout",
            } <= caught


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.name)
def test_substitutions_match_the_template(path: Path) -> None:
    """Every ${Name} in the definition is a DefinitionSubstitutions key of the resource using it."""
    tpl = load_template(ROOT / "template.yaml")
    users = [
        r["Properties"]
        for r in tpl["Resources"].values()
        if r["Type"] == "AWS::Serverless::StateMachine"
        and r["Properties"]["DefinitionUri"].endswith(path.name)
    ]
    assert len(users) == 1
    used = set(re.findall(r"\$\{(\w+)\}", path.read_text()))
    assert used == set(users[0]["DefinitionSubstitutions"])
    assert users[0]["Type"] == "STANDARD"
    assert users[0]["Logging"]["IncludeExecutionData"] is False  # task tokens stay out of the logs


def test_fan_out_is_a_distributed_map_reading_the_partner_list_from_s3() -> None:
    definition = json.loads((ROOT / "statemachines/close.asl.json").read_text())
    maps = {n: s for n, s in states(definition) if s["Type"] == "Map"}
    assert set(maps) == {"Review", "Pay", "Statements"}
    for name, m in maps.items():
        assert m["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED", name
        assert m["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject", name
        assert m["ResultPath"] is None, name  # results stay in S3: the parent's payload stays small


def test_simulation_plans_maps_the_batches_from_s3_then_reports() -> None:
    definition = json.loads((ROOT / "statemachines/simulation.asl.json").read_text())
    sts = dict(states(definition))
    assert definition["StartAt"] == "Plan"
    assert (sts["Plan"]["Next"], sts["Simulate"]["Next"], sts["Report"]["Next"]) == (
        "Simulate",
        "Report",
        "Done",
    )
    steps = {n: s["Parameters"]["Payload"]["step"] for n, s in sts.items() if s["Type"] == "Task"}
    assert steps == {"Plan": "plan", "Simulate/SimulateBatch": "batch", "Report": "report"}
    m = sts["Simulate"]
    assert m["Type"] == "Map" and m["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert m["ItemReader"]["Parameters"]["Key.$"] == "$.plan.manifest" and m["ResultPath"] is None
    for name in steps:  # a refused job (bad window, bad rules file) is not retried
        assert sts[name]["Retry"][0] == {"ErrorEquals": ["SimulationError"], "MaxAttempts": 0}, name
    tpl = load_template(ROOT / "template.yaml")
    props = tpl["Resources"]["SimulationStateMachine"]["Properties"]
    policies = json.dumps(props["Policies"])
    assert "simulations/*" in policies and "close/*" not in policies


def test_schedule_is_the_first_of_the_month() -> None:
    tpl = load_template(ROOT / "template.yaml")
    events = tpl["Resources"]["CloseStarterFunction"]["Properties"]["Events"]
    assert events["MonthlyClose"]["Properties"]["Schedule"] == "cron(0 2 1 * ? *)"
