"""The target stack (the local cloud served by `loyalty up`, or `--aws`) and the commands that
move data in and out of it: upload, load-rules/-registry/-rates/-targets/-products/-training/-catalog, balance, dlq."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import boto3
from loyalty.adapters.dynamo import DynamoStore
from loyalty.close.ports import PositionStore
from loyalty.close.position import PositionService
from loyalty.earning.balances import BalanceService
from loyalty.earning.ports import BalanceStore
from loyalty.ingest.keys import report_base
from loyalty.kernel.money import fmt_eur
from loyalty.settings import Settings
from loyalty.wiring import Container

from loyalty_cli.console import Progress

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"


def target_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """--stack-name, --endpoint-url, --aws, --profile, --region: before or after the command."""
    d = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    parser.add_argument("--stack-name", default=d("loyalty"))
    parser.add_argument("--endpoint-url", default=d(os.environ.get("LOYALTY_ENDPOINT", DEFAULT_ENDPOINT)))
    parser.add_argument(
        "--aws", action="store_true", default=d(False), help="the stack on AWS (default: local)"
    )
    parser.add_argument("--profile", default=d(None), help="AWS profile (implies --aws)")
    parser.add_argument("--region", default=d(None))


@dataclass
class Target:
    session: Any
    endpoint: str | None
    stack: str
    outputs: dict[str, str]

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Target:
        if args.aws or args.profile:
            session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
            endpoint = None
        else:
            from loyalty_local.env import LOCAL_ENV, REGION

            for k, v in LOCAL_ENV.items():
                os.environ.setdefault(k, v)
            session = boto3.session.Session(region_name=args.region or REGION)
            endpoint = args.endpoint_url
        cfn = session.client("cloudformation", endpoint_url=endpoint)
        try:
            stack = cfn.describe_stacks(StackName=args.stack_name)["Stacks"][0]
        except Exception as exc:
            where = endpoint or "AWS"
            hint = (
                " - is `loyalty up` running? (`loyalty status --wait 120` waits for it)" if endpoint else ""
            )
            raise SystemExit(f"cannot read stack {args.stack_name!r} at {where}: {exc}{hint}") from exc
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return cls(session, endpoint, args.stack_name, outputs)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint)

    def store(self) -> DynamoStore:
        return DynamoStore(self.outputs["TableName"], self.session.region_name, self.endpoint)

    @property
    def bucket(self) -> str:
        return self.outputs["UploadBucketName"]

    def container(self) -> Container:
        """The stack's services as its functions build them, from its outputs (the operator's
        own credentials: what the operator may not do, AWS refuses)."""
        env = {
            "TABLE_NAME": self.outputs["TableName"],
            "UPLOAD_BUCKET": self.bucket,
            "PROGRAM_TOPIC_ARN": self.outputs.get("ProgramTopicArn", ""),
            "AWS_REGION": self.session.region_name,
        }
        if self.endpoint:
            env["AWS_ENDPOINT_URL"] = self.endpoint
        return Container(Settings.from_env(env))


def wait_for_report(target: Target, key: str, report_key: str, timeout: float) -> dict[str, Any]:
    """Poll until the upload's summary is written, showing chunk progress."""
    s3 = target.client("s3")
    head = s3.head_object(Bucket=target.bucket, Key=key)
    store = target.store()
    bar = Progress(f"processing {key}")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                body = s3.get_object(Bucket=target.bucket, Key=report_key)
                report = json.loads(body["Body"].read())
                if report.get("processed_at", "") >= head["LastModified"].strftime("%Y-%m-%dT%H:%M:%S"):
                    bar.update(1, 1, "done")
                    return report  # type: ignore[no-any-return]
            except s3.exceptions.NoSuchKey:
                pass
            done, total = _upload_progress(store, key)
            bar.update(done, total if total >= 0 else None, "chunks")
            time.sleep(0.5)
    finally:
        bar.close()
    raise SystemExit(f"no report for {key} after {timeout:.0f}s; see the logs of the stack")


def _upload_progress(store: DynamoStore, key: str) -> tuple[int, int]:
    upload_id = store.latest_upload_for_key(key)
    rec = store.get_upload(upload_id) if upload_id else None
    if rec is None or rec.chunks_total < 0:
        return 0, -1
    return rec.chunks_done, rec.chunks_total


# -- commands ---------------------------------------------------------------------------------------
def _upload(target: Target, path: Path, key: str, timeout: float, report_key: str) -> dict[str, Any]:
    s3 = target.client("s3")
    size = path.stat().st_size
    bar = Progress(f"uploading {path.name}", size)
    sent = 0

    def cb(n: int) -> None:
        nonlocal sent
        sent += n
        bar.update(sent, size, "bytes")

    s3.upload_file(str(path), target.bucket, key, Callback=cb)
    bar.close()
    return wait_for_report(target, key, report_key, timeout)


def cmd_upload(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    path = Path(args.file)
    key = f"incoming/{args.partner}/{args.name or path.name}"
    report = _upload(target, path, key, args.timeout, report_base(key) + ".summary.json")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_summary(report)
    return 0 if report.get("status") == "processed" else 2


def _print_summary(r: dict[str, Any]) -> None:
    print(f"{r['key']}: {r['status']}")
    if r.get("file_error"):
        print(f"  file error ({r['file_error']['code']}): {r['file_error']['message']}")
    print(
        f"  rows {r['rows']} = accepted {r['accepted']} + rejected {r['rejected']}"
        f"  ({'reconciled' if r['reconciled'] else 'NOT RECONCILED'})"
    )
    print(f"  new {r['new']}, replaced {r['replaced']}, superseded {r['superseded']}")
    print(
        f"  net sales EUR {fmt_eur(Decimal(r['totals']['net_eur']))}, commission EUR {fmt_eur(Decimal(r['totals']['commission_eur']))}"
    )
    if r.get("errors_report"):
        print(f"  errors: s3://…/{r['errors_report']}")


def cmd_load(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    path = Path(args.file)
    prefix = {
        "rules": "rules/",
        "registry": "registry/",
        "rates": "rates/",
        "targets": "targets/",
        "products": "products/",
        "training": "training/",
        "catalog": "catalog/",
    }[args.kind]
    key = prefix + path.name
    report = _upload(target, path, key, args.timeout, f"reports/config/{key}.report.json")
    print(json.dumps({k: v for k, v in report.items() if k != "errors"}, indent=2))
    for e in report.get("errors", [])[:20]:
        print(f"  line {e['line']} {e['column']}: {e['reason']}")
    return 0 if report.get("status") == "processed" else 2


class ReportStore(PositionStore, BalanceStore, Protocol):
    """What `loyalty balance` reads (the DynamoDB store; the in-memory one in tests)."""


def balance_report(store: ReportStore, partner_id: str, month: str, today: dt.date) -> dict[str, Any]:
    """The month's figures and the partner's position (`loyalty.close.position`) in one JSON."""
    return {
        **BalanceService(store).balance(partner_id, month).to_json(),
        **PositionService(store).position(partner_id, today).to_json(),
    }


def cmd_balance(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    today = dt.datetime.now(dt.UTC).date()
    month = args.month or today.isoformat()[:7]
    store = target.store()
    if store.get_partner(args.partner_id) is None:
        print(f"unknown partner {args.partner_id!r}", file=sys.stderr)
        return 2
    report = balance_report(store, args.partner_id, month, today)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"partner {report['partner_id']} - {month} (tier {report['tier']})")
    net, comm = Decimal(report["net_sales_eur"]), Decimal(report["month_commission_eur"])
    print(
        f"  net sales month to date: EUR {fmt_eur(net)} over {report['lines']} lines ({report['returns']} returns)"
    )
    print(f"  commission this month:   EUR {fmt_eur(comm)}")
    print(f"  position as of {report['as_of']} (last close {report['last_close'] or 'none'}):")
    for status, amount in report["commission_eur"].items():
        print(f"    {status:<11} EUR {fmt_eur(Decimal(amount))}")
    print(
        "    (provisional + held + payable + paid = earned; carried is the part of payable the last close carried)"
    )
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    sqs = target.client("sqs")
    out = []
    for name in ("ChunkDLQUrl", "AsyncDLQUrl"):
        url = target.outputs[name]
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]
        out.append({"queue": name, "messages": int(a.get("ApproximateNumberOfMessages", 0))})
    s3 = target.client("s3")
    reports = s3.list_objects_v2(Bucket=target.bucket, Prefix="reports/dlq/").get("KeyCount", 0)
    print(json.dumps({"queues": out, "reported_poison_messages": reports}, indent=2))
    return 0


def register(sub: Any) -> None:
    upl = sub.add_parser("upload", help="upload a sales file for a partner and wait for its report")
    upl.add_argument("file")
    upl.add_argument("--partner", required=True)
    upl.add_argument("--name", help="object name (default: the file name)")
    upl.add_argument("--timeout", type=float, default=900)
    upl.add_argument("--json", action="store_true")
    upl.set_defaults(func=cmd_upload)

    for kind in ("rules", "registry", "rates", "targets", "products", "training", "catalog"):
        lp = sub.add_parser(f"load-{kind}", help=f"upload a {kind} file and wait for its report")
        lp.add_argument("file")
        lp.add_argument("--timeout", type=float, default=300)
        lp.set_defaults(func=cmd_load, kind=kind)

    bal = sub.add_parser(
        "balance", help="month-to-date net sales and tier; commission provisional/held/payable/paid/carried"
    )
    bal.add_argument("partner_id")
    bal.add_argument("--month", help="YYYY-MM (default: this month)")
    bal.add_argument("--json", action="store_true")
    bal.set_defaults(func=cmd_balance)

    dlq = sub.add_parser("dlq", help="dead-letter queues and reported poison messages")
    dlq.set_defaults(func=cmd_dlq)
