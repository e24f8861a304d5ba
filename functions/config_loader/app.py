"""S3 ObjectCreated on registry/, rates/ and rules/ -> partners, FX rates, rule versions."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.settings import Settings
from loyalty.wiring import Container

logger = Logger(service="config")
tracer = Tracer(service="config")
container = Container(Settings.from_env())


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    service = container.config()
    out = []
    for record in event.records:
        report = service.handle(unquote_plus(record.s3.get_object.key))
        logger.info(
            "config loaded", extra={"kind": report.kind, "key": report.key, "rejected": report.rejected}
        )
        out.append(report.to_json())
    return {"reports": out}
