"""S3 ObjectCreated on incoming/<partner>/<file>.csv -> validate and split into chunk messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.ingest.splitter import S3Object
from loyalty.settings import Settings
from loyalty.wiring import Container

logger = Logger(service="ingest")
tracer = Tracer(service="ingest")
metrics = Metrics(namespace="PartnerLoyalty", service="ingest")
container = Container(Settings.from_env())


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    service = container.ingest()
    results = []
    for record in event.records:
        obj = S3Object(
            bucket=record.s3.bucket.name,
            key=unquote_plus(record.s3.get_object.key),  # S3 event keys are URL-encoded
            size=int(record.s3.get_object.size or 0),
            etag=record.s3.get_object.etag or "",
            sequencer=record.s3.get_object.sequencer or "",
            event_time=record.event_time,
            version_id=record.s3.get_object.version_id or "",  # read exactly this version
            principal=record.user_identity.principal_id or "",  # checked against the folder
        )
        rec = service.handle(obj)
        logger.info(
            "upload split",
            extra={
                "upload_id": rec.upload_id,
                "rows": rec.rows,
                "chunks": rec.chunks_total,
                "error": rec.file_error_code,
            },
        )
        metrics.add_metric(name="RowsSplit", unit=MetricUnit.Count, value=rec.rows)
        results.append({"upload_id": rec.upload_id, "state": rec.state, "chunks": rec.chunks_total})
    return {"uploads": results}
