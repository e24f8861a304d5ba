"""One Lambda for the monthly close's steps: the state machine names the step in the payload
(`{"step": "review", "period": "2026-10", "run": "close-2026-10", ...}`) and this handler calls the
matching :class:`loyalty.close.steps.CloseService` method. The callback step receives the task
token; it is stored, never logged (no event logging here) and never put in a notification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.close.header import Decision
from loyalty.close.results import StepResult
from loyalty.close.steps import CloseService
from loyalty.settings import Settings
from loyalty.wiring import Container
from pydantic import BaseModel, Field

logger = Logger(service="close")
tracer = Tracer(service="close")
container = Container(Settings.from_env())


class StepEvent(BaseModel):
    step: Literal[
        "freeze",
        "plan",
        "review",
        "propose",
        "request_approval",
        "pay",
        "recognize",
        "statements",
        "finish",
        "outcome",
    ]
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    run: str = Field(pattern=r"^close-\d{4}-\d{2}(-r\d+)?$")
    batch: str = ""
    manifest: str = ""
    token: str = Field(default="", repr=False)
    decision: dict[str, Any] = Field(default_factory=dict)
    error: str | None = ""
    cause: str | None = ""  # null when the failure carries no cause


Step = Callable[[CloseService, StepEvent, dt.datetime], StepResult]
STEPS: dict[str, Step] = {
    "freeze": lambda svc, e, now: svc.freeze(e.period, e.run),
    "plan": lambda svc, e, now: svc.plan(e.period, e.run),
    "review": lambda svc, e, now: svc.review(e.period, e.run, e.batch),
    "propose": lambda svc, e, now: svc.propose(e.period, e.run, e.manifest),
    "request_approval": lambda svc, e, now: svc.request_approval(e.period, e.run, e.token, now),
    "pay": lambda svc, e, now: svc.pay(e.period, e.run, e.batch, Decision.from_json(e.decision)),
    "recognize": lambda svc, e, now: svc.recognize(e.period, e.run, e.manifest),
    "statements": lambda svc, e, now: svc.statements(e.period, e.run, e.batch),
    "finish": lambda svc, e, now: svc.finish(e.period, e.run, now),
    "outcome": lambda svc, e, now: svc.outcome(e.period, e.run, e.error or "", e.cause or ""),
}


def run_step(svc: CloseService, e: StepEvent, now: dt.datetime) -> StepResult:
    """The step the state machine named, as a typed result (its JSON is the step's output)."""
    return STEPS[e.step](svc, e, now)


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_parser(model=StepEvent)
def handler(event: StepEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(step=event.step, period=event.period, run=event.run)
    result = run_step(container.close(), event, dt.datetime.now(dt.UTC)).to_json()
    logger.info("close step done", extra={"result": result})
    return result
