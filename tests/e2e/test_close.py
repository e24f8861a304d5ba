"""The monthly close end to end on the local cloud: real ASL (Distributed Map, finance callback),
uploads, closes and approvals over three months, a rejected run, a timed-out run and a crash in
the payout step."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.s3sqs import KmsTokenCipher
from loyalty.close.bankfiles import end_to_end_id
from loyalty.close.ledger import Ledger, payable_account
from loyalty_factories.small import RATES, RULES, sales_csv
from loyalty_local.cloud import REGION, LocalCloud

from tests.conftest import summary

REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,certified,iban,bic\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,,,,,DE89 3704 0044 0532 0130 00,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,smb,FR,,2026-01-01,,,Silver,,FR1420041010050500013M02606,\n"
    b"P00003,Gamma Trade,finance@gamma.example,enterprise,US,,2026-01-01,,,,CERT-SALES:1,,\n"
    b"P00004,Delta Shop,finance@delta.example,enterprise,DE,,2026-01-01,,,,,DE02120300000000202051,BYLADEM1001\n"
)
D = Decimal
H = 3600.0


def program(new_cloud: Callable[..., LocalCloud]) -> LocalCloud:
    cloud = new_cloud(program=False)
    cloud.upload("rules/default-program.yaml", RULES)
    cloud.run_until_idle()
    cloud.upload("registry/partners.csv", REGISTRY)
    cloud.upload("rates/fx.csv", RATES)
    cloud.run_until_idle()
    return cloud


class Inbox:
    """An SQS queue subscribed to a topic: what finance or partners would receive."""

    def __init__(self, cloud: LocalCloud, topic_output: str) -> None:
        self.cloud = cloud
        sqs = cloud.client("sqs")
        name = f"{cloud.stack_name}-{topic_output}-inbox"
        self.url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        cloud.client("sns").subscribe(TopicArn=cloud.outputs[topic_output], Protocol="sqs", Endpoint=arn)
        self.messages: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        sqs = self.cloud.client("sqs")
        while True:
            got = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return self.messages
            for m in got:
                self.messages.append(json.loads(json.loads(m["Body"])["Message"]))
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.read() if m.get("type") == kind]


def upload(cloud: LocalCloud, partner: str, name: str, rows: list[list[Any]]) -> dict[str, Any]:
    key = f"incoming/{partner}/{name}.csv"
    cloud.upload(key, sales_csv(rows))
    cloud.settle()
    return summary(cloud, key)


def sale(
    sid: str, partner: str, day: str, amount: str, cat: str = "hardware", qty: int = 1, orig: str = ""
) -> list[Any]:
    return [sid, partner, day, "SKU-1", qty, amount, "EUR", cat, f"C-{sid}", orig]


def start(cloud: LocalCloud, period: str, user: str | None = None, rerun: bool = False) -> dict[str, Any]:
    if user is None:  # the monthly schedule (EventBridge), here fired for a given period
        return cloud.fire_schedule("CloseStarterFunction", {"period": period})  # type: ignore[no-any-return]
    code, body = cloud.api("POST", "/closes", user, "operator", {"period": period, "rerun": rerun})
    assert code == 200, body
    return body  # type: ignore[no-any-return]


def awaiting(cloud: LocalCloud, run: str) -> dict[str, Any]:
    ex = cloud.wait_execution(
        run,
        until=lambda c: any(
            a["run"] == run for a in c.api("GET", "/approvals", "auditor", "finance")[1]["approvals"]
        ),
    )
    assert ex["status"] == "RUNNING", ex
    return ex


def decide(cloud: LocalCloud, period: str, user: str, action: str, **body: Any) -> tuple[int, Any]:
    """A finance decision; an approval names the run and proposal digest `show` gives now."""
    if action == "approve":
        shown = cloud.api("GET", f"/closes/{period}", user, "finance")[1]
        body = {"run": shown.get("run"), "digest": shown.get("proposal_digest"), **body}
    return cloud.api("POST", f"/closes/{period}/{action}", user, "finance", body)


def store(cloud: LocalCloud) -> DynamoStore:
    """The stack's table, reading callback tokens with the key the approvals function uses."""
    env = cloud.functions["ApprovalsApiFunction"].env
    key = env.get("TOKEN_KEY_ID") or env["DATA_KEY_ID"]
    return DynamoStore(cloud.outputs["TableName"], REGION).with_token_cipher(KmsTokenCipher(key, REGION))


def line(cloud: LocalCloud, partner: str, period: str) -> Any:
    return store(cloud).close_lines(period, [partner])[partner]


def all_entries(cloud: LocalCloud, periods: list[str]) -> Ledger:
    return Ledger(e for p in periods for e in store(cloud).ledger_entries(period=p))


@pytest.mark.e2e
def test_three_months_of_closes(new_cloud: Callable[..., LocalCloud], tmp_path: Any) -> None:
    cloud = program(new_cloud)
    finance = Inbox(cloud, "FinanceTopicArn")
    partners = Inbox(cloud, "EventsTopicArn")

    # -- August: sales; a rejected run, then the re-run is approved ---------------------------
    aug = [sale(f"A{i}", "P00001", "2026-08-01", "1500.00") for i in range(20)]  # 30 000 -> Silver
    aug.append(sale("A-late", "P00001", "2026-08-20", "5000.00"))  # matures only at the Sep close
    upload(cloud, "P00001", "aug", aug)
    upload(cloud, "P00002", "aug", [sale("B1", "P00002", "2026-08-01", "2000.00")])  # Silver 3 %
    upload(cloud, "P00003", "aug", [sale("C1", "P00003", "2026-08-01", "5000.00")])  # no bank details
    upload(cloud, "P00004", "aug", [sale("D1", "P00004", "2026-08-01", "1000.00")])  # 20 < minimum

    first = start(cloud, "2026-08")
    assert first["run"] == "close-2026-08" and first["started"]
    awaiting(cloud, "close-2026-08")
    again = start(cloud, "2026-08")  # a duplicate schedule delivery: the same execution, nothing new
    assert (again["run"], again["started"]) == ("close-2026-08", False)
    request = finance.of_type("approval_requested")
    assert len(request) == 1 and request[0]["summary"]["totals"]["payout"] == "660.00"
    token = store(cloud).close_token("2026-08")
    assert token

    code, body = cloud.api("POST", "/closes/2026-08/approve", "pat", "operator", {})
    assert code == 403 and "finance role" in body["error"]
    code, body = decide(cloud, "2026-08", "fiona", "reject", comment="P00001 volume looks wrong, check first")
    assert code == 200, body
    ex = cloud.wait_execution("close-2026-08")
    assert (ex["status"], ex["error"]) == ("FAILED", "Close.NotApproved")
    assert store(cloud).payout("P00001", "2026-08") is None and not store(cloud).ledger_entries(
        period="2026-08"
    )
    assert cloud.api("GET", "/closes/2026-08", "fiona", "finance")[1]["status"] == "rejected"
    code, body = cloud.api("POST", "/closes", "fiona", "finance", {"period": "2026-08"})
    assert code == 403 and "needs the operator role" in body["error"]  # finance never starts one
    code, body = cloud.api("POST", "/closes", "fiona", "operator", {"period": "2026-08"})
    assert code == 409 and "--rerun" in body["error"]

    rerun = start(cloud, "2026-08", user="fiona", rerun=True)
    assert rerun["run"] == "close-2026-08-r2"
    awaiting(cloud, "close-2026-08-r2")
    code, body = decide(cloud, "2026-08", "fiona", "approve", comment="mine")
    assert code == 403 and "maker-checker" in body["error"]
    for session in ("fiona.2", "Fiona", "fiona "):  # another session name is not another person
        code, body = decide(cloud, "2026-08", session, "approve", comment="mine")
        assert code == 403, (session, body)
    code, body = decide(cloud, "2026-08", "frank", "approve", comment="checked against the ERP")
    assert code == 200, body
    retry = decide(cloud, "2026-08", "frank", "approve", comment="checked against the ERP")
    assert retry == (200, body)  # an API retry gets the recorded decision
    assert cloud.wait_execution("close-2026-08-r2")["status"] == "SUCCEEDED"

    a = line(cloud, "P00001", "2026-08")
    assert (a.matured_now, a.payout, a.tier_change, a.tier_after) == (
        D("600.00"),
        D("600.00"),
        "up",
        "Silver",
    )
    b = line(cloud, "P00002", "2026-08")
    assert (b.payout, b.tier_change, b.below_reviews) == (D("60.00"), "grace", 1)
    c = line(cloud, "P00003", "2026-08")
    assert (c.payout, c.carried_out) == (D("0"), D("100.00")) and "no bank details" in c.payout_reason
    d = line(cloud, "P00004", "2026-08")
    assert (d.payout, d.carried_out) == (D("0"), D("20.00"))
    assert store(cloud).tier_for("P00001", "2026-09") == "Silver"
    bank = cloud.read_bytes("payouts/2026-08/close-2026-08-r2/payouts.csv").decode().splitlines()
    e2e = {p: end_to_end_id("2026-08", p) for p in ("P00001", "P00002")}
    assert bank[1:] == [
        f"P00001,Acme Systems,600.00,EUR,DE89370400440532013000,COBADEFFXXX,{e2e['P00001']}",
        f"P00002,Beta IT,60.00,EUR,FR1420041010050500013M02606,,{e2e['P00002']}",
    ]
    xml = cloud.read_bytes("payouts/2026-08/close-2026-08-r2/pain001.xml").decode()
    assert "<CtrlSum>660.00</CtrlSum>" in xml and "<MsgId>close-2026-08-r2</MsgId>" in xml
    stmt = cloud.read_bytes("statements/P00001/2026-08.csv").decode()
    assert "TOTAL,,,,21,,,,,35000.00,,,,700.00," in stmt and "tier from next month,Silver (up" in stmt
    assert "EUR 65 000.00 more trailing-3-month sales to reach Gold" in stmt
    assert cloud.read_bytes("statements/P00003/2026-08.html").startswith(b"<!doctype html>")
    sent = partners.of_type("payout_sent")
    assert sorted((m["partner_id"], m["amount_eur"]) for m in sent) == [
        ("P00001", "600.00"),
        ("P00002", "60.00"),
    ]
    assert [m["partner_id"] for m in partners.of_type("tier_changed")] == ["P00001"]
    assert len(partners.of_type("statement_ready")) == 4
    masked = cloud.api("GET", "/closes/2026-08", "frank", "finance")[1]
    assert [e["action"] for e in masked["audit"]] == [
        "close started",
        "approval requested",
        "rejected",
        "close started",
        "approval requested",
        "approved",
        "close finished",
    ]
    assert (
        masked["audit"][2]["actor"] == "fiona" and masked["audit"][5]["comment"] == "checked against the ERP"
    )
    logs = cloud.log_path.read_text()
    assert token not in logs and token not in json.dumps(finance.read()) and token not in json.dumps(masked)
    assert "DE89370400440532013000" not in logs

    # -- September: finance excludes P00001; P00002 drops to Bronze after two reviews ---------
    upload(cloud, "P00001", "sep", [sale("A-sep", "P00001", "2026-09-01", "10000.00")])  # Silver 3 %
    timed = start(cloud, "2026-09")
    awaiting(cloud, timed["run"])
    # nobody decides: the hourly sweep rejects the run after 72 h; nothing moves
    assert cloud.fire_schedule("ApprovalSweeperFunction", at=time.time() + 73 * H)["timed_out"] == ["2026-09"]
    assert cloud.wait_execution(timed["run"])["error"] == "Close.NotApproved"
    assert store(cloud).close_lines("2026-09", ["P00001", "P00002"]) == {}
    assert store(cloud).tier_for("P00002", "2026-10") == "Silver"
    sep = start(cloud, "2026-09", user="olga", rerun=True)
    assert sep["run"] == "close-2026-09-r2"
    awaiting(cloud, sep["run"])
    code, body = decide(cloud, "2026-09", "frank", "approve", comment="hold Acme", exclude=["P00001"])
    assert code == 200, body
    assert cloud.wait_execution(sep["run"])["status"] == "SUCCEEDED"
    a = line(cloud, "P00001", "2026-09")
    assert (a.matured_now, a.payout, a.carried_out, a.state) == (D("100.00"), D("0"), D("100.00"), "excluded")
    assert store(cloud).payout("P00001", "2026-09") is None
    b = line(cloud, "P00002", "2026-09")
    assert (b.tier_change, b.tier_after) == ("down", "Bronze")
    assert store(cloud).tier_for("P00002", "2026-10") == "Bronze"

    # -- October: a late upload for frozen September, a return after payout, a crash in Pay ----
    late = upload(
        cloud, "P00001", "sep-late", [sale("A-ret", "P00001", "2026-09-02", "1500.00", qty=-1, orig="A0")]
    )
    assert late["late"]["by_closed_month"] == {"2026-09": 1}
    upload(cloud, "P00002", "oct", [sale("B-ret", "P00002", "2026-10-01", "2000.00", qty=-1, orig="B1")])
    octo = start(cloud, "2026-10")
    awaiting(cloud, octo["run"])
    # the pay batch dies right after its first transaction: P00001's commit (the invariant is
    # checked for every line of the batch before any commit, so nothing else is written before it)
    cloud.faults.crash_after_operation("CloseWorkerFunction", "TransactWriteItems")
    code, body = decide(cloud, "2026-10", "frank", "approve", comment="ok")
    assert code == 200, body
    assert cloud.wait_execution(octo["run"])["status"] == "SUCCEEDED"
    assert [(f[0], f[2].rsplit(".", 1)[-1]) for f in cloud.faults.fired] == [
        ("CloseWorkerFunction", "TransactWriteItems")
    ]
    a = line(cloud, "P00001", "2026-10")
    # carried 100 + Sep 1 sale (300 at Silver) - the late return of A0 at its original 2 % (30)
    assert (a.carried_in, a.matured_now, a.payout) == (D("100.00"), D("270.00"), D("370.00"))
    b = line(cloud, "P00002", "2026-10")
    assert (b.matured_now, b.payout, b.carried_out) == (D("-60.00"), D("0"), D("-60.00"))
    assert any("negative balance" in x for x in b.anomalies)
    bank = cloud.read_bytes("payouts/2026-10/close-2026-10/payouts.csv").decode().splitlines()
    e2e = end_to_end_id("2026-10", "P00001")
    assert bank[1:] == [f"P00001,Acme Systems,370.00,EUR,DE89370400440532013000,COBADEFFXXX,{e2e}"]

    # -- the books ---------------------------------------------------------------------------
    periods = ["2026-08", "2026-09", "2026-10"]
    ledger = all_entries(cloud, periods)
    assert ledger.trial_balance() == 0
    bal = ledger.balances()
    assert bal["asset:bank"] == -(D("660.00") + D("370.00"))  # paid exactly once each
    for pid, carried in {"P00001": "0.00", "P00002": "-60.00", "P00003": "100.00", "P00004": "20.00"}.items():
        latest = store(cloud).close_history(pid, "2026-11", 1)[0]
        assert latest.carried_out == D(carried), pid
        assert bal.get(payable_account(pid), D(0)) == -D(carried), pid
    # P00004 had nothing new after August: no record (August's line stays true), but a statement
    # every month, since it carries a balance (issue 9, point 12)
    assert [h.period for h in store(cloud).close_history("P00004", "2026-11")] == ["2026-08"]
    for month in ("2026-09", "2026-10"):
        assert "carried forward EUR,20.00" in cloud.read_bytes(f"statements/P00004/{month}.csv").decode()
    payouts = [store(cloud).payout("P00001", p) for p in periods]
    assert payouts == [D("600.00"), None, D("370.00")]
    done = start(cloud, "2026-10")
    assert (done["status"], done["started"]) == ("paid", False)


@pytest.mark.e2e
def test_a_run_nobody_decides_times_out_and_pays_nothing(new_cloud: Callable[..., LocalCloud]) -> None:
    cloud = program(new_cloud)
    finance = Inbox(cloud, "FinanceTopicArn")
    upload(cloud, "P00001", "aug", [sale(f"A{i}", "P00001", "2026-08-01", "1500.00") for i in range(5)])
    run = start(cloud, "2026-08")["run"]
    awaiting(cloud, run)
    t0 = time.time()
    assert cloud.fire_schedule("ApprovalSweeperFunction", at=t0 + 1 * H) == {
        "reminded": [],
        "timed_out": [],
        "heartbeats": 1,
        "redelivered": [],
    }
    assert cloud.fire_schedule("ApprovalSweeperFunction", at=t0 + 25 * H)["reminded"] == ["2026-08"]
    assert cloud.fire_schedule("ApprovalSweeperFunction", at=t0 + 26 * H)["reminded"] == []  # once
    assert len(finance.of_type("approval_reminder")) == 1
    assert cloud.fire_schedule("ApprovalSweeperFunction", at=t0 + 73 * H)["timed_out"] == ["2026-08"]
    ex = cloud.wait_execution(run)
    assert (ex["status"], ex["error"]) == ("FAILED", "Close.NotApproved")
    meta = cloud.api("GET", "/closes/2026-08", "frank", "finance")[1]
    assert meta["status"] == "timed_out" and meta["audit"][-1]["action"] == "approval timed out"
    assert store(cloud).payout("P00001", "2026-08") is None
    assert not store(cloud).ledger_entries(partner_id="P00001")
    assert store(cloud).close_lines("2026-08", ["P00001"]) == {}  # the proposal was never committed
    code, body = decide(cloud, "2026-08", "frank", "approve")
    assert code == 409 and "timed_out" in body["error"]


@pytest.mark.e2e
def test_closes_run_in_order_and_not_before_the_month_is_over(new_cloud: Callable[..., LocalCloud]) -> None:
    cloud = program(new_cloud)
    this_month = dt.date.today().strftime("%Y-%m")
    code, body = cloud.api("POST", "/closes", "olga", "operator", {"period": this_month})
    assert code == 400 and "not over yet" in body["error"]
    code, body = cloud.api("POST", "/closes", "eve", "sales-rep", {"period": "2026-08"})
    assert code == 403
    run = start(cloud, "2026-08")["run"]
    awaiting(cloud, run)
    assert decide(cloud, "2026-08", "frank", "approve")[0] == 200
    assert cloud.wait_execution(run)["status"] == "SUCCEEDED"
    skipped = start(cloud, "2026-10")  # September was never closed: refused before any run
    assert not skipped["started"] and "close 2026-09 first" in skipped["reason"]
    code, body = cloud.api("POST", "/closes", "olga", "operator", {"period": "2026-07"})
    assert code == 409 and "latest committed close 2026-08" in body["error"]


@pytest.mark.e2e
def test_a_failed_analytics_step_leaves_the_close_paid_and_says_why(
    new_cloud: Callable[..., LocalCloud], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: the Analytics step runs after Finish. Broken on purpose, the execution fails with
    the step's own error as its cause (the close-failed alarm fires), the close stays finished
    and paid, and running the step again (`loyalty analytics-publish`) writes the report."""
    from loyalty.analytics.publish import AnalyticsPublisher
    from loyalty.analytics.schema import report_key
    from loyalty.close.runs import FINISHED
    from loyalty.settings import Settings
    from loyalty.wiring import Container

    cloud = program(new_cloud)
    upload(cloud, "P00001", "aug", [sale(f"A{i}", "P00001", "2026-08-01", "1500.00") for i in range(5)])

    def broken(self: AnalyticsPublisher, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the analytics disk is full (planted)")

    monkeypatch.setattr(AnalyticsPublisher, "publish", broken)
    run = start(cloud, "2026-08")["run"]
    awaiting(cloud, run)
    code, body = decide(cloud, "2026-08", "frank", "approve", comment="ok")
    assert code == 200, body
    ex = cloud.wait_execution(run)
    assert (ex["status"], ex["error"]) == ("FAILED", "AnalyticsFailed")
    assert "the analytics disk is full (planted)" in ex["cause"]
    meta = store(cloud).close_meta("2026-08")
    assert meta is not None and meta.status == FINISHED
    assert store(cloud).payout("P00001", "2026-08") is not None
    s3 = cloud.client("s3")
    assert "Contents" not in s3.list_objects_v2(Bucket=cloud.bucket, Prefix="analytics/reports/")
    monkeypatch.undo()
    env = {
        "TABLE_NAME": cloud.outputs["TableName"],
        "UPLOAD_BUCKET": cloud.bucket,
        "PROGRAM_TOPIC_ARN": cloud.outputs["ProgramTopicArn"],
        "AWS_REGION": REGION,
    }
    assert meta.manifest
    done = Container(Settings.from_env(env)).publish_analytics(
        "2026-08", run, meta.manifest, dt.datetime.now(dt.UTC)
    )
    assert done.notified and done.partners >= 1
    report = json.loads(s3.get_object(Bucket=cloud.bucket, Key=report_key("2026-08", "json"))["Body"].read())
    assert report["kpis"]["month"]["net_sales"] == "7500.00"
