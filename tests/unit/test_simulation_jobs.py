"""The simulation as a job over partner batches with its report in the bucket (the AWS entry
point's use case), on the in-memory adapters."""

from __future__ import annotations

import copy
import json

import pytest
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.adapters.memory.simworld import MemorySimWorld
from loyalty.simulation.jobs import JobSpec, SimulationJobs
from loyalty.simulation.report import Summary
from loyalty.simulation.service import SimulationError

from tests.unit.test_simulation import build, richer, simulate


@pytest.fixture(scope="module")
def history() -> MemoryContainer:
    return build()


def test_plan_batches_and_report_give_the_simulation_report_in_the_bucket(history: MemoryContainer) -> None:
    history.blobs.put("simulations/j1/rules.yaml", richer().model_dump_json().encode(), "text/yaml")
    table = repr(copy.deepcopy({k: v for k, v in vars(history.store).items() if "cipher" not in k}))
    keys = set(history.blobs.keys())
    jobs = SimulationJobs(history.store, MemorySimWorld, history.blobs, batch_size=1)
    planned = jobs.plan(JobSpec("j1", "simulations/j1/rules.yaml", "2026-08", "2026-10"))
    assert planned == {
        "job": "j1",
        "batches": 2,
        "manifest": "simulations/j1/manifest.json",
        "from": "2026-08",
        "to": "2026-10",
    }
    done = [
        jobs.batch("j1", i["batch"]) for i in json.loads(history.blobs.get("simulations/j1/manifest.json"))
    ]
    # P00003 (P00001's recruit, in its batch) returns all it sells: nothing changes for it
    assert [(d["partners"], d["changed"]) for d in done] == [(2, 1), (1, 1)]
    out = jobs.report("j1")
    report = json.loads(history.blobs.get(out["report"]))
    _, direct = simulate(history, richer(), "2026-08", "2026-10")
    assert report["summary"] == direct.to_json() and report["rules"] == "2027.1"
    assert [r["partner_id"] for r in report["largest_differences"]] == [
        r.partner_id for r in direct.largest()
    ]
    # only the job's own files were written; the table is as it was
    assert all(k.startswith("simulations/j1/") for k in set(history.blobs.keys()) - keys)
    assert repr(copy.deepcopy({k: v for k, v in vars(history.store).items() if "cipher" not in k})) == table


def test_a_job_refuses_bad_ids_foreign_batches_and_unclosed_windows(history: MemoryContainer) -> None:
    history.blobs.put("simulations/j2/rules.yaml", richer().model_dump_json().encode(), "text/yaml")
    jobs = SimulationJobs(history.store, MemorySimWorld, history.blobs)
    with pytest.raises(SimulationError, match="job id"):
        jobs.plan(JobSpec("../x", "simulations/j2/rules.yaml", "2026-08", "2026-10"))
    with pytest.raises(SimulationError, match="not closed"):
        jobs.plan(JobSpec("j2", "simulations/j2/rules.yaml", "2026-08", "2026-11"))
    jobs.plan(JobSpec("j2", "simulations/j2/rules.yaml", "2026-08", "2026-10"))
    with pytest.raises(SimulationError, match="not a batch of job j2"):
        jobs.batch("j2", "close/2026-08/close-2026-08/batches/00000.json")


def test_summary_rebuilt_from_the_batch_files_is_the_same() -> None:
    c = build()
    results, summary = simulate(c, richer(), "2026-09", "2026-10")
    again = Summary()
    for r in results:
        from loyalty.simulation.report import PartnerResult

        again.add(PartnerResult.from_json(json.loads(json.dumps(r.to_json()))))
    assert again.to_json() == summary.to_json()
