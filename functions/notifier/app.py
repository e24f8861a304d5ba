"""Emails partners receive (issue 12, point 7) and the link that stops them.

- SQS (NotifyQueue, subscribed to the events topic; SNS envelopes, not raw): each record is one
  topic message; the partner events become at most one email each (`loyalty.notify.service`).
  SES bounce and complaint notifications arriving the same way suppress their addresses. A record
  that fails (SES unreachable...) is reported alone (partial batch failure) and comes back; after
  five receives it goes to NotifyDLQ.
- HTTP `GET /email/unsubscribe?token=...` (PortalApi, public: the token is the authority) turns
  the kind the token names off for its partner and answers a small page in its language.
docs/emails.md.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.adapters.dynamo.notify import NotifierTables
from loyalty.adapters.s3sqs import S3Blobs
from loyalty.adapters.ses import SesMailer
from loyalty.kernel.i18n import accept_language, choose_lang
from loyalty.notify.service import NotifyService
from loyalty.notify.tokens import InvalidToken, UnsubscribeTokens
from loyalty.settings import Settings

logger = Logger(service="notifier")
tracer = Tracer(service="notifier")
metrics = Metrics(namespace="PartnerLoyalty", service="notifier")
processor = BatchProcessor(event_type=EventType.SQS)
settings = Settings.from_env()
env = os.environ
store = NotifierTables(settings.table_name, settings.region, settings.endpoint_url)
service = NotifyService(
    store,
    SesMailer(
        env.get("MAIL_FROM", ""),
        settings.region,
        settings.endpoint_url,
        env.get("MAIL_FROM_NAME", ""),
        env.get("MAIL_CONFIGURATION_SET", ""),
    ),
    store,
    UnsubscribeTokens(env.get("UNSUBSCRIBE_KEY", "").encode()),
    env.get("PORTAL_URL", ""),
    reports=S3Blobs(settings.bucket, settings.region, settings.endpoint_url),
)


def envelope(body: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(message, attributes) of an SNS envelope (or of a raw message, attributes empty)."""
    outer = json.loads(body)
    if not isinstance(outer, dict) or "Message" not in outer or "TopicArn" not in outer:
        return (outer if isinstance(outer, dict) else {}), {}
    message = json.loads(outer["Message"])
    attrs = {k: str(v.get("Value", "")) for k, v in (outer.get("MessageAttributes") or {}).items()}
    return (message if isinstance(message, dict) else {}), attrs


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    try:
        message, attributes = envelope(record.body)
    except (json.JSONDecodeError, TypeError):
        logger.warning("not a topic message: dropped", extra={"message_id": record.message_id})
        return "dropped"
    if "notificationType" in message or "eventType" in message:
        n = service.feedback(message)
        metrics.add_metric(name="EmailAddressesSuppressed", unit=MetricUnit.Count, value=n)
        return "feedback"
    outcome = service.handle(message, attributes)
    metrics.add_metric(name=f"Email_{outcome.status}", unit=MetricUnit.Count, value=1)
    logger.info(
        "event handled",
        extra={"status": outcome.status, "partner": outcome.partner_id, "event": outcome.event_id},
    )
    return outcome.status


PAGE = {
    "en": ("Unsubscribed", "You will no longer receive these emails.", "This link is not valid."),
    "ru": ("Подписка отменена", "Вы больше не будете получать такие письма.", "Ссылка недействительна."),
}


def unsubscribe(event: dict[str, Any]) -> dict[str, Any]:
    params = event.get("queryStringParameters") or {}
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    token = str(params.get("token") or "")
    try:
        prefs = service.unsubscribe(token)
        lang = choose_lang(params.get("lang"), prefs.lang, accept_language(headers.get("accept-language")))
        title, text, _ = PAGE[lang]
        status = 200
    except InvalidToken:
        lang = choose_lang(params.get("lang"), accept_language(headers.get("accept-language")))
        title, _, text = PAGE[lang]
        status = 400
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return {
        "statusCode": status,
        "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        "body": page,
    }


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "requestContext" in event and "Records" not in event:  # the unsubscribe route
        return unsubscribe(event)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
