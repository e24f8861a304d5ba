"""One Lambda for the monthly close's steps: the state machine names the step in the payload
(`{"step": "review", "period": "2026-10", "run": "close-2026-10", ...}`) and this handler calls the
matching :class:`loyalty.close.steps.CloseService` method. The callback step receives the task
token; it is stored, never logged (no event logging here) and never put in a notification."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
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
        "bank_files",
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


def run_step(svc: CloseService, e: StepEvent, now: dt.datetime) -> dict[str, Any]:
    match e.step:
        case "freeze":
            return svc.freeze(e.period, e.run)
        case "plan":
            return svc.plan(e.period, e.run)
        case "review":
            return svc.review(e.period, e.run, e.batch)
        case "propose":
            return svc.propose(e.period, e.run, e.manifest)
        case "request_approval":
            return svc.request_approval(e.period, e.run, e.token, now)
        case "pay":
            return svc.pay(e.period, e.run, e.batch, e.decision)
        case "bank_files":
            return svc.bank_files(e.period, e.run, e.manifest, now)
        case "statements":
            return svc.statements(e.period, e.run, e.batch)
        case "finish":
            return svc.finish(e.period, e.run, now)
        case "outcome":
            return svc.outcome(e.period, e.run, e.error or "", e.cause or "")


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_parser(model=StepEvent)
def handler(event: StepEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(step=event.step, period=event.period, run=event.run)
    result = run_step(container.close(), event, dt.datetime.now(dt.UTC))
    logger.info("close step done", extra={"result": result})
    return result
