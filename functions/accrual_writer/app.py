"""SQS FIFO chunk messages -> accruals in DynamoDB (partial batch failures reported)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.ingest.chunks import Chunk
from loyalty.settings import Settings
from loyalty.wiring import Container

logger = Logger(service="accruals")
tracer = Tracer(service="accruals")
metrics = Metrics(namespace="PartnerLoyalty", service="accruals")
# a failed chunk holds back only the later chunks of its own message group (its partners)
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
container = Container(Settings.from_env())


@tracer.capture_method
def record_handler(record: SQSRecord) -> dict[str, Any]:
    chunk = Chunk.parse(record.body)
    result = container.accruals().handle(chunk)
    metrics.add_metric(name="RowsAccrued", unit=MetricUnit.Count, value=result.accepted)
    logger.info(
        "chunk written", extra={"upload_id": chunk.upload_id, "chunk": chunk.chunk_id, "rows": result.rows}
    )
    return {"chunk": chunk.chunk_id, "accepted": result.accepted, "rejected": result.rejected}


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
