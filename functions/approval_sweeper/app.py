"""Hourly schedule: heartbeat pending finance callbacks, remind after APPROVAL_REMINDER_HOURS and
reject (SendTaskFailure `Approval.TimedOut`) after APPROVAL_TIMEOUT_HOURS. "Now" is the
schedule event's time, so the sweep is reproducible."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.settings import Settings
from loyalty.wiring import Container

logger = Logger(service="approval-sweeper")
tracer = Tracer(service="approval-sweeper")
container = Container(Settings.from_env())


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    now = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    result = container.approvals().sweep(now).to_json()
    logger.info("approvals swept", extra=result)
    return result
