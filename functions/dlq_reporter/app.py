"""Dead-letter queues -> each poison message kept in S3, counted and announced to operators."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.ingest.dead_letters import DeadLetter
from loyalty.settings import Settings
from loyalty.wiring import Container

logger = Logger(service="dlq")
tracer = Tracer(service="dlq")
metrics = Metrics(namespace="PartnerLoyalty", service="dlq")
processor = BatchProcessor(event_type=EventType.SQS)
container = Container(Settings.from_env())
service = container.dlq()


def record_handler(record: SQSRecord) -> dict[str, Any]:
    letter = DeadLetter(
        queue_arn=record.event_source_arn or "",
        message_id=record.message_id,
        body=record.body,
        receive_count=int(record.attributes.approximate_receive_count or 0),
        attributes={
            k: v.get("stringValue", "") for k, v in (record.raw_event.get("messageAttributes") or {}).items()
        },
    )
    report = service.handle(letter)
    metrics.add_metric(name="PoisonMessages", unit=MetricUnit.Count, value=1)
    logger.warning("poison message reported", extra={"report": report["report_key"], "kind": report["kind"]})
    return report


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
