"""The notifier in the local cloud: the events topic -> NotifyQueue (SNS envelope, filter on
partner event types) -> NotifierFunction -> SES (moto captures it); duplicate deliveries, bounce
notifications and the public unsubscribe route."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from loyalty_local.cloud import LocalCloud
from loyalty_local.mail import Captured, captured_emails

PORTAL = "https://portal.example"


@pytest.fixture()
def mail_cloud(new_cloud: Callable[..., LocalCloud]) -> LocalCloud:
    return new_cloud({"PortalUrl": PORTAL})


def publish(cloud: LocalCloud, topic: str, message: dict[str, Any], attributes: dict[str, str]) -> None:
    cloud.client("sns").publish(
        TopicArn=topic,
        Message=json.dumps(message),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    cloud.run_until_idle()


def mine(cloud: LocalCloud, before: int, partner: str) -> list[Captured]:
    return [m for m in captured_emails()[before:] if m.partner_id == partner]


def topic_named(cloud: LocalCloud, suffix: str) -> str:
    """The stack's topic `<stack>-<suffix>` (every page of the listing: the session's moto holds
    the topics of every stack the tests deployed)."""
    pages = cloud.client("sns").get_paginator("list_topics").paginate()
    return next(
        t["TopicArn"]
        for page in pages
        for t in page["Topics"]
        if t["TopicArn"].endswith(f":{cloud.stack_name}-{suffix}")
    )


def events_topic(cloud: LocalCloud) -> str:
    return topic_named(cloud, "partner-events")


def payout(pid: str) -> dict[str, Any]:
    return {"type": "payout_sent", "partner_id": pid, "period": "2026-08", "amount_eur": "1234.56"}


def test_a_partner_event_is_emailed_once_however_often_it_is_delivered(mail_cloud: LocalCloud) -> None:
    before = len(captured_emails())
    topic = events_topic(mail_cloud)
    publish(mail_cloud, topic, payout("P00002"), {"type": "payout_sent", "partner": "P00002"})
    publish(mail_cloud, topic, payout("P00002"), {"type": "payout_sent", "partner": "P00002"})
    publish(
        mail_cloud, topic, {"type": "approval_requested", "period": "2026-08"}, {"type": "approval_requested"}
    )
    sent = mine(mail_cloud, before, "P00002")
    assert len(sent) == 1 and len(captured_emails()) == before + 1  # finance events: not for partners
    email = sent[0]
    assert (email.to, email.kind, email.lang) == ("finance@beta.example", "payout_sent", "en")
    assert email.subject == "Payout for August 2026 sent: €1,234.56"
    assert "Hello Beta IT," in email.text and f"{PORTAL}/email/unsubscribe?token=" in email.text


def test_the_unsubscribe_link_stops_that_kind(mail_cloud: LocalCloud) -> None:
    before = len(captured_emails())
    topic = events_topic(mail_cloud)
    publish(mail_cloud, topic, payout("P00001"), {"type": "payout_sent", "partner": "P00001"})
    link = (
        mine(mail_cloud, before, "P00001")[0]
        .text.split(f"{PORTAL}/email/unsubscribe?token=", 1)[1]
        .split()[0]
    )
    token = unquote(link)
    # through the portal API as API Gateway serves it: a public route, no bearer token
    answer = mail_cloud.http("GET", f"/email/unsubscribe?token={link}", api="PortalApi")
    assert answer.status == 200 and "Unsubscribed" in answer.body.decode()
    again = mail_cloud.http("GET", f"/email/unsubscribe?token={link}", api="PortalApi")
    assert again.status == 200  # idempotent
    forged = mail_cloud.http("GET", f"/email/unsubscribe?token={token[:-2]}xx", api="PortalApi")
    assert forged.status == 400 and "not valid" in forged.body.decode()
    ru = mail_cloud.http(
        "GET", "/email/unsubscribe?token=x", headers={"Accept-Language": "ru"}, api="PortalApi"
    )
    assert ru.status == 400 and "Ссылка недействительна" in ru.body.decode()
    publish(
        mail_cloud,
        topic,
        {**payout("P00001"), "period": "2026-09"},
        {"type": "payout_sent", "partner": "P00001"},
    )
    assert len(mine(mail_cloud, before, "P00001")) == 1
    ready = {"type": "statement_ready", "partner_id": "P00001", "period": "2026-09"}
    publish(mail_cloud, topic, ready, {"type": "statement_ready", "partner": "P00001"})
    assert [m.kind for m in mine(mail_cloud, before, "P00001")] == ["payout_sent", "statement_ready"]


def test_an_ses_bounce_notification_suppresses_the_address(mail_cloud: LocalCloud) -> None:
    before = len(captured_emails())
    feedback = topic_named(mail_cloud, "mail-feedback")
    bounce = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "finance@gamma.example"}],
        },
        "mail": {"destination": ["finance@gamma.example"]},
    }
    publish(mail_cloud, feedback, bounce, {})
    publish(
        mail_cloud, events_topic(mail_cloud), payout("P00003"), {"type": "payout_sent", "partner": "P00003"}
    )
    assert mine(mail_cloud, before, "P00003") == [] and mail_cloud.pending() == 0


def test_an_upload_with_errors_is_reported_to_its_uploader_with_the_first_errors(
    mail_cloud: LocalCloud,
) -> None:
    from tests.conftest import sales_csv

    before = len(captured_emails())
    body = sales_csv(
        [
            ["S-900", "P00001", "2026-10-02", "SKU-1", 2, "10.50", "EUR", "", "", ""],
            ["S-901", "P00001", "2026-10-03", "SKU-1", 1, "ten", "EUR", "", "", ""],
        ]
    )
    mail_cloud.upload("incoming/P00001/october.csv", body)
    mail_cloud.settle()
    sent = mine(mail_cloud, before, "P00001")
    assert [e.kind for e in sent] == ["upload_processed"]
    email = sent[0]
    assert email.to == "finance@acme.example"
    assert email.subject == "Your file october.csv was processed: 1 accepted, 1 rejected"
    assert "The first errors:\n\n- line: 3; column: unit_price; value: ten;" in email.text
    assert f"{PORTAL}/partner?upload=" in email.html
