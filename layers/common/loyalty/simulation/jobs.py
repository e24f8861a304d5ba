"""A simulation as a job over partner batches, its files and report in the bucket (what a
Step Functions Map over Lambda steps would run on AWS: `plan`, then `batch` for each batch, then
`report`). Everything is written under `simulations/<job>/`; the live table is only read.

- `plan`: checks the window and the candidate, writes `job.json`, one `batches/NNNNN.json` per
  batch (partner ids, whole sponsor trees) and `manifest.json` (the batch keys, the Map's items).
- `batch`: one batch in an isolated world -> `partners/NNNNN.json` (the partners' results).
- `report`: the batch files one at a time -> `report.json` (the summary; memory: one batch file)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from loyalty.close.header import CloseMeta
from loyalty.close.ports import Workflow
from loyalty.close.runs import FINISHED
from loyalty.kernel.periods import previous_period
from loyalty.kernel.ports import BlobStore
from loyalty.program.rules import RuleVersion, parse_rules
from loyalty.simulation.ports import HistorySource, WorldFactory
from loyalty.simulation.report import PartnerResult, Summary
from loyalty.simulation.service import BATCH, SimulationError, Simulator, Targets

PREFIX = "simulations/"
JOB_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
JSON = "application/json"


@dataclass(frozen=True)
class JobSpec:
    job: str
    rules_key: str  # the candidate rules file in the bucket
    start: str
    end: str
    targets_key: str = ""  # a candidate targets file in the bucket ("" = none)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> JobSpec:
        return cls(
            str(d["job"]),
            str(d["rules_key"]),
            str(d["start"]),
            str(d["end"]),
            str(d.get("targets_key") or ""),
        )


RECENT_MONTHS = 3


def recent_window(closes: Sequence[CloseMeta], months: int = RECENT_MONTHS) -> tuple[str, str]:
    """The last `months` closed (finished) months, consecutive, ending at the latest one (fewer
    when fewer consecutive months are closed)."""
    done = {m.period for m in closes if m.status == FINISHED}
    if not done:
        raise SimulationError("no month is closed yet: nothing to simulate over")
    end = start = max(done)
    for _ in range(months - 1):
        before = previous_period(start)
        if before not in done:
            break
        start = before
    return start, end


class JobStarter:
    """Starts a simulation job as an execution of the simulation workflow named `sim-<job>`
    (Step Functions on AWS, `MemoryWorkflow` in tests): a second start of a job is a no-op."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow

    def start(self, job: str, spec: Mapping[str, str]) -> bool:
        job_prefix(job)
        return self.workflow.start(f"sim-{job}", {"job": job, **spec})[1]


def job_prefix(job: str) -> str:
    if not JOB_RE.match(job):
        raise SimulationError(f"job id must be 1-64 letters, digits, '.', '_' or '-', got {job!r}")
    return f"{PREFIX}{job}/"


class SimulationJobs:
    def __init__(
        self, history: HistorySource, worlds: WorldFactory, blobs: BlobStore, batch_size: int = BATCH
    ) -> None:
        self.history = history
        self.blobs = blobs
        self.sim = Simulator(history, worlds, batch_size)

    def _put(self, key: str, data: Any) -> None:
        self.blobs.put(key, json.dumps(data, indent=1).encode(), JSON)

    def _get(self, key: str) -> Any:
        return json.loads(self.blobs.get(key))

    def _rules(self, spec: JobSpec) -> RuleVersion:
        try:
            return parse_rules(self.blobs.get(spec.rules_key).decode())
        except ValueError as exc:
            raise SimulationError(f"rules file {spec.rules_key}: {exc}") from None

    def _targets(self, spec: JobSpec) -> Targets | None:
        if not spec.targets_key:
            return None
        return Targets(spec.targets_key.rsplit("/", 1)[-1], self.blobs.get(spec.targets_key))

    def plan(self, spec: JobSpec) -> dict[str, Any]:
        prefix = job_prefix(spec.job)
        if not spec.start and not spec.end:  # the default window: the last closed months
            start, end = recent_window(self.history.list_closes())
            spec = replace(spec, start=start, end=end)
        self.sim.check(spec.start, spec.end)
        rules = self._rules(spec)
        keys = []
        for i, batch in enumerate(self.sim.batches()):
            key = f"{prefix}batches/{i:05d}.json"
            self._put(key, [p.partner_id for p in batch])
            keys.append(key)
        self._put(f"{prefix}job.json", {**asdict(spec), "rules_version": rules.version})
        self._put(f"{prefix}manifest.json", [{"batch": k} for k in keys])
        return {
            "job": spec.job,
            "batches": len(keys),
            "manifest": f"{prefix}manifest.json",
            "from": spec.start,
            "to": spec.end,
        }

    def batch(self, job: str, batch_key: str) -> dict[str, Any]:
        prefix = job_prefix(job)
        if not (batch_key.startswith(f"{prefix}batches/") and batch_key.endswith(".json")):
            raise SimulationError(f"{batch_key} is not a batch of job {job}")
        spec = JobSpec.from_json(self._get(f"{prefix}job.json"))
        partners = [p for p in map(self.history.get_partner, self._get(batch_key)) if p is not None]
        results = list(
            self.sim.run(self._rules(spec), spec.start, spec.end, self._targets(spec), batches=[partners])
        )
        self._put(batch_key.replace("/batches/", "/partners/"), [r.to_json() for r in results])
        return {"batch": batch_key, "partners": len(results), "changed": sum(r.changed for r in results)}

    def report(self, job: str) -> dict[str, Any]:
        prefix = job_prefix(job)
        head = self._get(f"{prefix}job.json")
        summary = Summary()
        for item in self._get(f"{prefix}manifest.json"):
            for row in self._get(str(item["batch"]).replace("/batches/", "/partners/")):
                summary.add(PartnerResult.from_json(row))
        report = {
            "job": job,
            "from": head["start"],
            "to": head["end"],
            "rules": head["rules_version"],
            "rules_key": head["rules_key"],
            "targets_key": head["targets_key"] or None,
            "summary": summary.to_json(),
            "largest_differences": [r.to_json() for r in summary.largest()],
            "partners": f"{prefix}partners/",
        }
        self._put(f"{prefix}report.json", report)
        return {"job": job, "report": f"{prefix}report.json", **summary.to_json()["delta"]}
