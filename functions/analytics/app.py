"""The close's Analytics step in its own Lambda (the only one whose layers ship DuckDB): the
state machine calls it after Finish with `{"step": "publish", "period", "run", "manifest"}`; it
writes the period's Parquet facts, its report (JSON and HTML) and the program managers'
announcement (`loyalty.analytics.publish`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.settings import Settings
from loyalty.wiring import Container
from pydantic import BaseModel, Field

logger = Logger(service="analytics")
tracer = Tracer(service="analytics")
container = Container(Settings.from_env())


class AnalyticsEvent(BaseModel):
    step: Literal["publish"]
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    run: str = Field(pattern=r"^close-\d{4}-\d{2}(-r\d+)?$")
    manifest: str = Field(min_length=1)


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_parser(model=AnalyticsEvent)
def handler(event: AnalyticsEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(period=event.period, run=event.run)
    result = container.publish_analytics(event.period, event.run, event.manifest, dt.datetime.now(dt.UTC))
    logger.info("analytics published", extra={"result": result.to_json()})
    return result.to_json()
