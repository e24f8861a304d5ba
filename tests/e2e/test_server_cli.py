"""`loyalty up` serves the stack on a local port; the AWS CLI and the `loyalty` CLI drive an
upload end to end through it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(endpoint: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """The readiness check the README gives: exit 0 once the stack is deployed and wired."""
    r = subprocess.run(
        [str(BIN / "loyalty"), "--endpoint-url", endpoint, "status", "--wait", "120"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert r.returncode == 0 and proc.poll() is None, r.stdout + r.stderr + log.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("up") / "up.log"
    env = {**os.environ, "LOYALTY_LOG": str(log.with_suffix(".lambda.log"))}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "loyalty"), "up", "--port", str(port), "--stack-name", "loyalty"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_ready(endpoint, proc, log)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(*args: str, endpoint: str, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    return subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=300, check=False)


def load_rules_and_registry(server: str, tmp_path: Path, registry_csv: str) -> None:
    """`loyalty load-rules` (the default program) and `loyalty load-registry` (one partner)."""
    loyalty = str(BIN / "loyalty")
    r = run(
        loyalty,
        "--endpoint-url",
        server,
        "load-rules",
        str(ROOT / "rules/default-program.yaml"),
        endpoint=server,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    reg = tmp_path / "partners.csv"
    reg.write_text(registry_csv)
    r = run(loyalty, "--endpoint-url", server, "load-registry", str(reg), endpoint=server)
    assert r.returncode == 0 and '"accepted": 1' in r.stdout, r.stdout + r.stderr
    goals = tmp_path / "q4.csv"  # a targets file with one good and one bad row: the report says which
    goals.write_text(
        "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,bands,method,"
        "version,effective_from\n"
        "Q4,segment,smb,net_sales,,quarter,2026-Q4,50000,,500,80:50|100:100,flat,T1,2026-10-01\n"
        "BAD,segment,smb,revenue,,quarter,2026-Q4,50000,,500,,flat,T1,2026-10-01\n"
    )
    r = run(loyalty, "--endpoint-url", server, "load-targets", str(goals), endpoint=server)
    assert r.returncode == 0 and '"accepted": 1' in r.stdout and '"rejected": 1' in r.stdout, (
        r.stdout + r.stderr
    )
    assert "line 3 metric" in r.stdout, r.stdout


def test_aws_cli_and_loyalty_cli_drive_an_upload(server: str, tmp_path: Path) -> None:
    aws = str(BIN / "aws")
    loyalty = str(BIN / "loyalty")
    out = run(
        aws,
        "--endpoint-url",
        server,
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        "loyalty",
        endpoint=server,
    )
    assert out.returncode == 0, out.stderr
    outputs = {o["OutputKey"]: o["OutputValue"] for o in json.loads(out.stdout)["Stacks"][0]["Outputs"]}
    assert {"UploadBucketName", "TableName", "ChunkQueueUrl", "EventsTopicArn"} <= set(outputs)
    bucket = outputs["UploadBucketName"]

    load_rules_and_registry(
        server,
        tmp_path,
        "partner_id,name,email,segment,joined_on,starting_tier\nP 1,Space Partner,p1@x.example,smb,2026-01-01,Gold\n",
    )

    sales = tmp_path / "oct.csv"
    sales.write_text(
        "sale_id;partner_id;sold_at;sku;quantity;unit_price;currency;category\nS1;P 1;2026-10-05;A;2;100,00;EUR;services\n"
    )
    r = run(
        aws,
        "--endpoint-url",
        server,
        "s3",
        "cp",
        str(sales),
        f"s3://{bucket}/incoming/P 1/oct.csv",
        endpoint=server,
    )
    assert r.returncode == 0, r.stderr
    key = f"s3://{bucket}/reports/ingest/incoming/P 1/oct.csv.summary.json"
    deadline = time.monotonic() + 60
    while True:
        r = run(aws, "--endpoint-url", server, "s3", "cp", key, "-", endpoint=server)
        if r.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    report = json.loads(r.stdout)
    assert (
        report["accepted"] == 1 and report["totals"]["commission_eur"] == "10.00"
    )  # Gold 4 % + services 1 pp

    r = run(
        loyalty,
        "--endpoint-url",
        server,
        "upload",
        str(sales),
        "--partner",
        "P 1",
        "--name",
        "oct-again.csv",
        endpoint=server,
    )
    assert r.returncode == 0 and "replaced 1" in r.stdout, r.stdout + r.stderr
    r = run(
        loyalty, "--endpoint-url", server, "balance", "P 1", "--month", "2026-10", "--json", endpoint=server
    )
    bal = json.loads(r.stdout)
    assert bal["tier"] == "Gold" and bal["net_sales_eur"] == "200.00" and bal["lines"] == 1
    assert bal["month_commission_eur"] == "10.00" and bal["last_close"] is None
    assert bal["commission_eur"] == {  # October is not closed: all of it provisional
        "provisional": "10.00",
        "held": "0.00",
        "payable": "0.00",
        "paid": "0.00",
        "carried": "0.00",
    }


def test_loyalty_cli_closes_a_month_and_finance_approves(server: str, tmp_path: Path) -> None:
    """`loyalty close` (operator) and `loyalty approvals` (finance) against the served stack:
    the interpreter runs the real state machine and calls the handlers through the server."""
    loyalty = str(BIN / "loyalty")
    load_rules_and_registry(
        server,
        tmp_path,
        "partner_id,name,email,segment,joined_on,iban\nP 2,Close Partner,p2@x.example,smb,2026-01-01,DE89370400440532013000\n",
    )
    sales = tmp_path / "aug.csv"
    sales.write_text(
        "sale_id,partner_id,sold_at,sku,quantity,unit_price,currency\nA1,P 2,2026-08-01,A,1,5000.00,EUR\n"
    )
    r = run(loyalty, "--endpoint-url", server, "upload", str(sales), "--partner", "P 2", endpoint=server)
    assert r.returncode == 0, r.stdout + r.stderr

    close = [loyalty, "--endpoint-url", server, "close", "--period", "2026-08", "--user", "olga"]
    r = run(*close, "--wait", "--timeout", "120", endpoint=server)
    assert r.returncode == 0 and "2026-08: awaiting_approval" in r.stdout, r.stdout + r.stderr
    r = run(*close, endpoint=server)  # a second start is a no-op
    assert json.loads(r.stdout)["started"] is False, r.stdout + r.stderr

    ap = [loyalty, "--endpoint-url", server, "approvals"]
    r = run(*ap, "list", "--user", "frank", endpoint=server)
    assert r.returncode == 0 and "2026-08  run close-2026-08  started by olga" in r.stdout, (
        r.stdout + r.stderr
    )
    r = run(*ap, "approve", "2026-08", "--user", "olga", "--role", "operator", endpoint=server)
    assert r.returncode == 2 and "finance role" in r.stderr
    # olga started the run: as finance, under another spelling of her name, she is still olga
    r = run(*ap, "approve", "2026-08", "--user", "Olga", endpoint=server)
    assert r.returncode == 2 and "maker-checker" in r.stderr, r.stdout + r.stderr
    r = run(*ap, "approve", "2026-08", "--user", "olga.2", endpoint=server)
    assert r.returncode == 2 and "is not a person's user name" in r.stderr, r.stdout + r.stderr
    r = run(*ap, "approve", "2026-08", "--user", "frank", "--comment", "ok", endpoint=server)
    assert r.returncode == 0 and json.loads(r.stdout)["approved_by"] == "frank", r.stdout + r.stderr
    deadline = time.monotonic() + 120
    while True:
        r = run(*ap, "show", "2026-08", "--user", "frank", "--json", endpoint=server)
        shown = json.loads(r.stdout)
        if shown["status"] == "paid" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shown["status"] == "paid" and shown["paid_total"] == "100.00", shown
    r = run(*ap, "show", "2026-08", "--user", "frank", endpoint=server)
    assert "frank        approved  ok" in r.stdout and "EUR 100.00" in r.stdout, r.stdout

    # the partner's balance after the close that paid it: paid, and no longer payable
    bal = [loyalty, "--endpoint-url", server, "balance", "P 2", "--month", "2026-08"]
    r = run(*bal, "--json", endpoint=server)
    got = json.loads(r.stdout)
    assert (got["last_close"], got["month_commission_eur"], got["earned_eur"]) == (
        "2026-08",
        "100.00",
        "100.00",
    )
    assert got["commission_eur"] == {
        "provisional": "0.00",
        "held": "0.00",
        "payable": "0.00",
        "paid": "100.00",
        "carried": "0.00",
    }, got
    r = run(*bal, endpoint=server)
    assert "paid        EUR 100.00" in r.stdout, r.stdout
