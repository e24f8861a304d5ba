"""One Lambda for a what-if simulation's steps: the simulation state machine names the step in the
payload and this handler calls the matching :class:`loyalty.simulation.jobs.SimulationJobs` method.

- `{"step": "plan", "job": "J", "rules_key": "rules/x.yaml", "start": "2026-07", "end": "2026-09",
  "targets_key": ""}` -> `{"job", "batches", "manifest"}` (the Map reads the manifest from S3)
- `{"step": "batch", "job": "J", "batch": "simulations/J/batches/00000.json"}`
- `{"step": "report", "job": "J"}` -> `simulations/J/report.json`

The live table is only read (its role has no write on it); only `simulations/<job>/` is written."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.settings import Settings
from loyalty.simulation.jobs import JobSpec, SimulationJobs
from loyalty.wiring import Container
from pydantic import BaseModel, Field

logger = Logger(service="simulation")
tracer = Tracer(service="simulation")
container = Container(Settings.from_env())
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


class SimEvent(BaseModel):
    step: Literal["plan", "batch", "report"]
    job: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    rules_key: str = Field(default="", pattern=r"^(rules/.+)?$")
    targets_key: str = Field(default="", pattern=r"^(targets/.+)?$")
    start: str = Field(default="", pattern=rf"({PERIOD})|^$")
    end: str = Field(default="", pattern=rf"({PERIOD})|^$")
    batch: str = ""


def run_step(jobs: SimulationJobs, e: SimEvent) -> dict[str, Any]:
    """The step the state machine named (its JSON is the step's output)."""
    if e.step == "plan":
        return jobs.plan(JobSpec(e.job, e.rules_key, e.start, e.end, e.targets_key))
    if e.step == "batch":
        return jobs.batch(e.job, e.batch)
    return jobs.report(e.job)


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_parser(model=SimEvent)
def handler(event: SimEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(step=event.step, job=event.job)
    result = run_step(container.simulation_jobs(), event)
    logger.info("simulation step done", extra={"result": result})
    return result
