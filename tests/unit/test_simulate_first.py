"""A rules file uploaded with `simulate_first: true` (issue 10, point 4): the version stays out of
the rule book, the simulation job over the last closed months is started, the same upload again
starts nothing, the same file without the flag publishes the version."""

from __future__ import annotations

import json

import pytest
import yaml
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.adapters.memory.simworld import MemorySimWorld
from loyalty.close.header import CloseMeta
from loyalty.close.runs import FINISHED
from loyalty.program.rules import parse_rules
from loyalty.simulation.jobs import JobSpec, SimulationJobs, recent_window
from loyalty.simulation.service import SimulationError

from tests.conftest import RULES
from tests.unit.test_simulation import build


def proposal(flag: bool) -> bytes:
    data = yaml.safe_load(RULES)
    data["version"], data["effective_from"] = "2027.1", "2027-01-01"
    data["minimum_payout_eur"] = "25"
    if flag:
        data["simulate_first"] = True
    return yaml.safe_dump(data).encode()


def upload(c: MemoryContainer, key: str, body: bytes) -> dict[str, object]:
    c.blobs.put(key, body, "text/yaml")
    report = c.config().handle(key)
    stored = json.loads(c.blobs.get(f"reports/config/{key}.report.json"))
    assert stored["version"] == report.detail["version"]
    return report.to_json()


def test_simulate_first_keeps_the_version_pending_and_starts_its_job() -> None:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    book = [v.version for v in c.store.rule_versions()]
    r = upload(c, "rules/2027.yaml", proposal(True))
    assert r["status"] == "processed" and r["pending"] is True and r["accepted"] == 1
    assert [v.version for v in c.store.rule_versions()] == book  # the engine never sees it
    sim = r["simulation"]
    assert isinstance(sim, dict) and sim["started"] is True
    job = sim["job"]
    assert job.startswith("rules-2027.1-") and sim["report"] == f"simulations/{job}/report.json"
    assert c.simulations.executions == {
        f"sim-{job}": {"job": job, "rules_key": "rules/2027.yaml", "targets_key": "", "start": "", "end": ""}
    }
    again = upload(c, "rules/2027.yaml", proposal(True))  # the same upload: no second job
    assert again["simulation"] == {**sim, "started": False}
    assert len(c.simulations.executions) == 1
    # publishing: the same file without the flag is the version, in effect as any upload
    published = upload(c, "rules/2027.yaml", proposal(False))
    assert published["new"] is True and "pending" not in published
    assert [v.version for v in c.store.rule_versions()] == [*book, "2027.1"]
    assert upload(c, "rules/2027.yaml", proposal(False))["new"] is False


def test_the_flag_is_not_part_of_the_version() -> None:
    flagged = parse_rules(proposal(True).decode())
    assert flagged.simulate_first is True
    assert flagged.model_dump_json() == parse_rules(proposal(False).decode()).model_dump_json()


def test_a_changed_file_is_another_job() -> None:
    c = MemoryContainer()
    c.load("rules/default-program.yaml", RULES)
    first = upload(c, "rules/2027.yaml", proposal(True))["simulation"]
    data = yaml.safe_load(proposal(True))
    data["minimum_payout_eur"] = "30"
    second = upload(c, "rules/2027.yaml", yaml.safe_dump(data).encode())["simulation"]
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["job"] != second["job"] and second["started"] is True


def test_without_a_simulation_workflow_the_flag_is_refused() -> None:
    class NoSimulations(MemoryContainer):
        def simulation_workflow(self) -> None:  # type: ignore[override]
            return None

    c = NoSimulations()
    c.load("rules/default-program.yaml", RULES)
    book = [v.version for v in c.store.rule_versions()]
    c.blobs.put("rules/2027.yaml", proposal(True), "text/yaml")
    r = c.config().handle("rules/2027.yaml").to_json()
    assert r["status"] == "rejected" and "runs no simulations" in str(r["file_error"])
    assert [v.version for v in c.store.rule_versions()] == book


def meta(period: str, status: str = FINISHED) -> CloseMeta:
    return CloseMeta(period, status, f"close-{period}")  # type: ignore[arg-type]


def test_the_window_is_the_last_three_closed_months() -> None:
    closes = [meta(p) for p in ("2026-05", "2026-07", "2026-08", "2026-09", "2026-10")]
    assert recent_window(closes) == ("2026-08", "2026-10")
    assert recent_window([*closes, meta("2026-11", "awaiting_approval")]) == ("2026-08", "2026-10")
    assert recent_window([meta("2026-05"), meta("2026-07")]) == ("2026-07", "2026-07")
    assert recent_window([meta("2026-12"), meta("2027-01")]) == ("2026-12", "2027-01")
    with pytest.raises(SimulationError, match="no month is closed"):
        recent_window([meta("2026-05", "awaiting_approval")])


def test_a_job_without_a_window_simulates_the_last_closed_months() -> None:
    history = build()
    history.blobs.put("rules/x.yaml", proposal(True), "text/yaml")
    jobs = SimulationJobs(history.store, MemorySimWorld, history.blobs)
    planned = jobs.plan(JobSpec("j9", "rules/x.yaml", "", ""))
    assert (planned["from"], planned["to"]) == ("2026-08", "2026-10")
    head = json.loads(history.blobs.get("simulations/j9/job.json"))
    assert (head["start"], head["end"]) == ("2026-08", "2026-10")
