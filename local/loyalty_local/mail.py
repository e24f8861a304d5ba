"""Email locally: what moto's CloudFormation skips for the notifier (topic subscriptions to
queues, the SES sender identity and configuration set) applied through the service APIs, and
the emails moto's SES captured (`loyalty outbox`)."""

from __future__ import annotations

import email
import email.policy
import json
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from moto.ses.models import ses_backends

from loyalty_local.env import ACCOUNT_ID, REGION

MAIL_TYPES = frozenset({"AWS::SES::EmailIdentity", "AWS::SES::ConfigurationSet", "AWS::SQS::QueuePolicy"})


def wire_mail(
    client: Callable[[str], Any],
    resources: dict[str, Any],
    resolve: Callable[[Any], str],
    sub: Callable[[Any], str],
) -> None:
    """SNS -> SQS subscriptions (with their filter policies; moto's SNS then delivers every
    publish to the queue as AWS would), the sender identity (verified) and the configuration set."""
    sns, ses = client("sns"), client("ses")
    for res in resources.values():
        props = res.get("Properties", {})
        kind = res.get("Type")
        if kind == "AWS::SNS::Subscription" and props.get("Protocol") == "sqs":
            attrs = {"RawMessageDelivery": "true" if props.get("RawMessageDelivery") else "false"}
            if props.get("FilterPolicy"):
                attrs["FilterPolicy"] = json.dumps(props["FilterPolicy"])
            sns.subscribe(
                TopicArn=resolve(props["TopicArn"]),
                Protocol="sqs",
                Endpoint=resolve(props["Endpoint"]),
                Attributes=attrs,
            )
        elif kind == "AWS::SES::EmailIdentity":
            ses.verify_email_identity(EmailAddress=sub(props["EmailIdentity"]))
        elif kind == "AWS::SES::ConfigurationSet":
            ses.create_configuration_set(ConfigurationSet={"Name": sub(props["Name"])})


@dataclass(frozen=True)
class Captured:
    """One email moto's SES captured."""

    message_id: str
    to: str
    subject: str
    lang: str
    kind: str
    partner_id: str
    text: str
    html: str


def _parts(raw: str) -> tuple[dict[str, str], str, str]:
    msg = email.message_from_string(raw, policy=email.policy.default)
    headers = {k.lower(): str(v) for k, v in msg.items()}
    text = html = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/plain" and not text:
            text = str(part.get_content())  # type: ignore[attr-defined]
        elif ctype == "text/html" and not html:
            html = str(part.get_content())  # type: ignore[attr-defined]
    return headers, text, html


def _captured(m: Mapping[str, Any]) -> Captured:
    """One SES message as moto keeps it (`id`, `destinations`, `raw_data` or `subject`/`body`)."""
    raw = m.get("raw_data")
    dest = m.get("destinations") or []
    if raw is None:  # SendEmail (not used by the notifier): subject and body only
        to = ", ".join(a for addrs in dict(dest).values() for a in addrs) if isinstance(dest, dict) else ""
        return Captured(
            str(m.get("id", "")), to, str(m.get("subject", "")), "", "", "", str(m.get("body", "")), ""
        )
    headers, text, html = _parts(str(raw))
    return Captured(
        str(m.get("id", "")),
        headers.get("to", ", ".join(dest)),
        headers.get("subject", ""),
        headers.get("content-language", ""),
        headers.get("x-loyalty-kind", ""),
        headers.get("x-loyalty-partner", ""),
        text,
        html,
    )


def captured_emails(account: str = ACCOUNT_ID, region: str = REGION) -> list[Captured]:
    """Every email the in-process SES accepted, oldest first."""
    return [_captured(vars(m)) for m in ses_backends[account][region].sent_messages]


OUTBOX_PATH = "/_loyalty/outbox"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def outbox_endpoint(app: WsgiApp) -> WsgiApp:
    """WSGI middleware of the served local cloud: `GET /_loyalty/outbox` answers the captured
    emails as JSON (oldest first); every other request goes to `app` (moto)."""

    def outbox(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != OUTBOX_PATH:
            return app(environ, start_response)
        body = json.dumps([asdict(e) for e in captured_emails()], ensure_ascii=False).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return outbox


def served_emails(endpoint: str, timeout: float = 30) -> list[Captured]:
    """Every email the SES of a served local cloud (`loyalty up`) accepted, oldest first."""
    with urllib.request.urlopen(f"{endpoint.rstrip('/')}{OUTBOX_PATH}", timeout=timeout) as resp:  # noqa: S310 - the local endpoint
        return [Captured(**e) for e in json.loads(resp.read())]
