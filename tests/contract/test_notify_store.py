"""The notifier's items behave the same in memory and on DynamoDB (moto): preferences, the
conditional SENDING marker (one sender per event and partner; FAILED and stale claims may be
taken again), suppressed addresses; and the SES adapter's MIME message and refusals."""

from __future__ import annotations

import email
import email.policy

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from loyalty.adapters.dynamo.notify import NotifyTables
from loyalty.adapters.memory.notify import MemoryNotifyStore
from loyalty.adapters.ses import SesMailer
from loyalty.notify.model import Email, MailRejected, Prefs
from loyalty.notify.ports import FAILED, SENT, NotifyStore
from loyalty_local.cloud import REGION
from moto.ses.models import ses_backends

from tests.contract.conftest import make_table


@pytest.fixture(params=["memory", "dynamo"])
def nstore(request: pytest.FixtureRequest) -> NotifyStore:
    if request.param == "memory":
        return MemoryNotifyStore()
    return NotifyTables(make_table(), REGION)


def test_preferences_round_trip_and_default(nstore: NotifyStore) -> None:
    assert nstore.prefs("P1") == Prefs("P1")
    nstore.put_prefs(Prefs("P1", frozenset({"payout_sent", "bogus"}), "ru"))
    assert nstore.prefs("P1") == Prefs("P1", frozenset({"payout_sent"}), "ru")


def test_one_claim_per_event_and_partner(nstore: NotifyStore) -> None:
    assert nstore.claim("P1", "e1", 1000, 900) and not nstore.claim("P1", "e1", 1001, 900)
    assert nstore.claim("P2", "e1", 1000, 900) and nstore.claim("P1", "e2", 1000, 900)
    nstore.settle("P1", "e1", SENT, "m-1")
    assert nstore.marker("P1", "e1") == SENT and not nstore.claim("P1", "e1", 10**6, 900)
    nstore.settle("P1", "e2", FAILED)
    assert nstore.claim("P1", "e2", 1002, 900)  # a failed send is tried again
    assert not nstore.claim("P2", "e1", 1900, 900) and nstore.claim("P2", "e1", 1901, 900)  # stale
    assert nstore.marker("P9", "e1") is None


def test_suppressed_addresses_keep_their_first_reason(nstore: NotifyStore) -> None:
    assert nstore.suppressed("a@x.example") is None
    nstore.suppress("A@x.example", "bounce")
    nstore.suppress("a@x.example", "complaint")
    assert nstore.suppressed(" a@X.example") == "bounce"


def mail(to: str = "a@ru.example") -> Email:
    return Email(
        to, "Ваш отчёт готов", "Здравствуйте!\n", "<p>Здравствуйте!</p>", "ru", "statement_ready", "P1",
        "statement_ready:2026-08", "https://portal.example/email/unsubscribe?token=t",
    )  # fmt: skip


def test_ses_sends_a_mime_message_with_language_kind_and_unsubscribe() -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress="loyalty@ses.example")
    backend = ses_backends["123456789012"][REGION]
    before = len(backend.sent_messages)
    SesMailer("loyalty@ses.example", REGION, sender_name="Программа").send(mail())
    raw = backend.sent_messages[before].raw_data
    msg = email.message_from_string(raw, policy=email.policy.default)
    assert msg["Subject"] == "Ваш отчёт готов" and msg["To"] == "a@ru.example"
    assert msg["Content-Language"] == "ru" and msg["X-Loyalty-Kind"] == "statement_ready"
    assert msg["List-Unsubscribe"] == "<https://portal.example/email/unsubscribe?token=t>"
    assert {p.get_content_type() for p in msg.walk()} >= {"text/plain", "text/html"}


def test_ses_refusals_of_the_address_are_mail_rejected_of_the_sender_are_errors() -> None:
    mailer = SesMailer("loyalty@ses.example", REGION)
    with Stubber(mailer.ses) as stub:
        stub.add_client_error("send_raw_email", "MessageRejected", "Address blacklisted.")
        with pytest.raises(MailRejected, match="blacklisted"):
            mailer.send(mail())
    unverified = SesMailer("nobody@unverified.example", REGION)
    with pytest.raises(ClientError, match=r"nobody@unverified\.example") as exc:
        unverified.send(mail())
    assert not isinstance(exc.value, MailRejected)
