"""EventBridge schedule `cron(0 2 1 * ? *)` -> start the close of the previous month.

The execution name is derived from the period (`close-2026-10`), so a duplicate schedule
delivery or a second start finds the existing execution instead of starting another."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.close.runs import CloseError
from loyalty.kernel.identity import Caller
from loyalty.kernel.periods import period_before
from loyalty.settings import Settings
from loyalty.wiring import Container

logger = Logger(service="close-starter")
tracer = Tracer(service="close-starter")
container = Container(Settings.from_env())
SCHEDULE = Caller("schedule", frozenset())


@tracer.capture_lambda_handler
@logger.inject_lambda_context(log_event=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    now = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    period = str(event.detail.get("period") or period_before(now.date()))
    try:
        result = (
            container.close().start(container.workflow(), period, SCHEDULE, rerun=False, now=now).to_json()
        )
    except CloseError as exc:  # e.g. the previous attempt was rejected: needs an operator's --rerun
        logger.warning("close not started", extra={"period": period, "reason": str(exc)})
        return {"period": period, "started": False, "reason": str(exc)}
    logger.info("close", extra=result)
    return result
