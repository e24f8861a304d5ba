"""`loyalty outbox`: the emails the local cloud's SES captured, read over HTTP from the served
moto (`GET /_loyalty/outbox`) as `loyalty up` serves it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import boto3
import pytest
from loyalty.adapters.ses import SesMailer
from loyalty.notify.model import Email
from loyalty_cli.main import main
from loyalty_local.env import REGION
from loyalty_local.server import Server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def served() -> Iterator[str]:
    """moto served as `loyalty up` serves it (the readiness gate open, the outbox endpoint)."""
    port = free_port()
    server = Server("outbox", "127.0.0.1", port)
    server.start()
    server.gate.open({})
    yield f"http://127.0.0.1:{port}"
    server.stop()


def send(to: str, partner: str, kind: str, lang: str, subject: str) -> None:
    SesMailer("outbox@cli.example", REGION).send(
        Email(to, subject, "text", "<p>html</p>", lang, kind, partner, f"{kind}:2026-08")
    )


def test_outbox_lists_every_captured_email_and_one_partner_s(
    served: str, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress="outbox@cli.example")
    send("a@ru.example", "P70001", "statement_ready", "ru", "Ваш отчёт за август 2026 г. готов")
    send("b@de.example", "P70002", "payout_sent", "en", "Payout for August 2026 sent: €12.00")
    assert main(["outbox", "--endpoint-url", served, "--partner", "P70001", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(e["to"], e["kind"], e["lang"], e["subject"]) for e in shown] == [
        ("a@ru.example", "statement_ready", "ru", "Ваш отчёт за август 2026 г. готов")
    ]
    assert shown[0]["text"].strip() == "text" and "<p>html</p>" in shown[0]["html"]
    assert main(["outbox", "--endpoint-url", served]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("P70002"))
    assert row.split()[:4] == ["P70002", "payout_sent", "en", "b@de.example"]
    assert row.endswith("Payout for August 2026 sent: €12.00")
    assert table.splitlines()[0].split() == ["partner", "kind", "lang", "to", "subject"]


def test_outbox_says_when_no_local_cloud_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "--endpoint-url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "is `loyalty up` running?" in capsys.readouterr().err
