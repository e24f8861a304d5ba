"""`loyalty` - the operator and partner CLI.

By default it talks to the local cloud served by `loyalty up` on http://127.0.0.1:4566; with
`--aws` (and optionally `--profile`) it talks to the stack deployed on AWS.
"""

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
from typing import Any

import boto3
from loyalty.adapters.dynamo import DynamoStore
from loyalty.earning.balances import BalanceService
from loyalty.ingest.keys import report_base
from loyalty.kernel.money import fmt_eur

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"


# -- progress -------------------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self._last = 0.0

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        self.total = total if total is not None else self.total
        now = time.monotonic()
        if not self.tty and now - self._last < 5:
            return
        self._last = now
        elapsed = now - self.started
        if self.total:
            frac = min(1.0, done / self.total)
            bar = "#" * int(frac * 30) + "-" * (30 - int(frac * 30))
            text = f"{self.label} [{bar}] {done}/{self.total} {note} {elapsed:5.1f}s"
        else:
            text = f"{self.label} {done} {note} {elapsed:5.1f}s"
        if self.tty:
            sys.stderr.write("\r" + text[:160].ljust(100))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


# -- target stack -----------------------------------------------------------------------------------
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
            from loyalty_local.cloud import LOCAL_ENV, REGION

            for k, v in LOCAL_ENV.items():
                os.environ.setdefault(k, v)
            session = boto3.session.Session(region_name=args.region or REGION)
            endpoint = args.endpoint_url
        cfn = session.client("cloudformation", endpoint_url=endpoint)
        try:
            stack = cfn.describe_stacks(StackName=args.stack_name)["Stacks"][0]
        except Exception as exc:
            where = endpoint or "AWS"
            hint = " - is `loyalty up` running?" if endpoint else ""
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
def cmd_up(args: argparse.Namespace) -> int:
    from loyalty_local.server import serve

    serve(args.stack_name, args.host, args.port)
    return 0


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
    prefix = {"rules": "rules/", "registry": "registry/", "rates": "rates/"}[args.kind]
    key = prefix + path.name
    report = _upload(target, path, key, args.timeout, f"reports/config/{key}.report.json")
    print(json.dumps({k: v for k, v in report.items() if k != "errors"}, indent=2))
    for e in report.get("errors", [])[:20]:
        print(f"  line {e['line']} {e['column']}: {e['reason']}")
    return 0 if report.get("status") == "processed" else 2


def cmd_balance(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    today = dt.datetime.now(dt.UTC).date()
    month = args.month or today.isoformat()[:7]
    store = target.store()
    if store.get_partner(args.partner_id) is None:
        print(f"unknown partner {args.partner_id!r}", file=sys.stderr)
        return 2
    bal = BalanceService(store).balance(args.partner_id, month, today)
    if args.json:
        print(json.dumps(bal.to_json(), indent=2))
        return 0
    print(f"partner {bal.partner_id} - {month} (tier {bal.tier})")
    print(
        f"  net sales month to date: EUR {fmt_eur(bal.net_sales_eur)} over {bal.lines} lines ({bal.returns} returns)"
    )
    for status, amount in bal.commission.items():
        print(f"  commission {status:<11} EUR {fmt_eur(amount)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from loyalty_local.demo import run_demo

    return run_demo(partners=args.partners, rows=args.rows, seed=args.seed)


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


# -- monthly close and finance approvals -----------------------------------------------------------
class ApprovalsClient:
    """The approvals API as the caller sees it. On AWS: SigV4-signed HTTPS to the HTTP API with the
    profile's credentials (assume the finance or operator role; the session name is your user
    name). Locally there is no API Gateway and no IAM: the CLI invokes the API's function with the
    event API Gateway would send for `--user` holding `--role` (the local cloud trusts it)."""

    def __init__(self, target: Target, user: str | None, role: str) -> None:
        self.target = target
        self.user = user or os.environ.get("USER", "operator")
        self.role = role

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        if self.target.endpoint is None:
            return self._signed(method, path, body)
        from loyalty_local.cloud import assumed_role_arn, http_api_event

        arn = assumed_role_arn(self.target.stack, self.role, self.user)
        lam = self.target.client("lambda")
        out = lam.invoke(
            FunctionName=self.target.outputs["ApprovalsApiFunctionName"],
            Payload=json.dumps(http_api_event(method, path, arn, body)).encode(),
        )
        payload = json.loads(out["Payload"].read() or b"null")
        if out.get("FunctionError"):
            return 502, {"error": payload.get("errorMessage", "function error")}
        return int(payload["statusCode"]), json.loads(payload.get("body") or "null")

    def _signed(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        import urllib.error
        import urllib.request

        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = self.target.outputs["ApprovalsApiUrl"].rstrip("/") + path
        if not url.startswith("https://"):
            raise SystemExit(f"the approvals API must be https, got {url}")
        data = json.dumps(body).encode() if body is not None else None
        req = AWSRequest(method=method, url=url, data=data, headers={"content-type": "application/json"})
        creds = self.target.session.get_credentials()
        SigV4Auth(creds.get_frozen_credentials(), "execute-api", self.target.session.region_name).add_auth(
            req
        )
        http = urllib.request.Request(url, data=data, method=method, headers=dict(req.headers))  # noqa: S310 - https checked above
        try:
            with urllib.request.urlopen(http, timeout=30) as resp:  # noqa: S310 - https URL from the stack
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


def _approvals(args: argparse.Namespace) -> ApprovalsClient:
    return ApprovalsClient(Target.from_args(args), args.user, args.role)


def _answer(code: int, body: Any, as_json: bool = True) -> int:
    if code >= 400:
        print(f"refused ({code}): {body.get('error') if isinstance(body, dict) else body}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(body, indent=2))
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    client = _approvals(args)
    code, body = client.call("POST", "/closes", {"period": args.period, "rerun": args.rerun})
    if code >= 400 or not args.wait:
        return _answer(code, body)
    print(f"close {body['run']}: {body['status']}" + (" (already under way)" if not body["started"] else ""))
    bar = Progress(f"closing {args.period}")
    deadline = time.monotonic() + args.timeout
    steps = ["started", "frozen", "proposed", "awaiting_approval", "approved", "paying", "paid"]
    try:
        while time.monotonic() < deadline:
            code, meta = client.call("GET", f"/closes/{args.period}")
            status = meta.get("status", "?") if code == 200 else "?"
            bar.update(steps.index(status) + 1 if status in steps else 0, len(steps), status)
            if status in {"awaiting_approval", "paid", "rejected", "timed_out", "failed"}:
                break
            time.sleep(1)
    finally:
        bar.close()
    print(f"{args.period}: {status}")
    return 0


def cmd_approvals(args: argparse.Namespace) -> int:
    client = _approvals(args)
    if args.action == "list":
        code, body = client.call("GET", "/approvals")
        if code >= 400 or args.json:
            return _answer(code, body)
        for a in body["approvals"]:
            s = a.get("summary", {})
            print(
                f"{a['period']}  run {a['run']}  started by {a.get('started_by')}  waiting since {a.get('requested_at')}"
                f"  payees {s.get('payees')}  payout EUR {fmt_eur(Decimal(s.get('totals', {}).get('payout', '0')))}"
                f"  anomalies {s.get('anomaly_count')}"
            )
        if not body["approvals"]:
            print("nothing awaits approval")
        return 0
    if not args.period:
        print("a period (YYYY-MM) is required", file=sys.stderr)
        return 2
    if args.action == "show":
        code, body = client.call("GET", f"/closes/{args.period}")
        if code >= 400 or args.json:
            return _answer(code, body)
        prop = body.get("proposal") or {}
        print(f"{args.period}: {body['status']} (run {body['run']}, started by {body.get('started_by')})")
        if prop:
            t = prop["totals"]
            print(
                f"  partners {prop['partners']} ({prop.get('dormant', 0)} dormant), payees {prop['payees']},"
                f" payout EUR {fmt_eur(Decimal(t['payout']))}, carried EUR {fmt_eur(Decimal(t['carried_out']))}"
            )
            print(f"  tier moves {prop['tier_moves']}")
            for row in prop["top"][:20]:
                print(
                    f"  top  {row['partner_id']:<12} {row['name'][:30]:<30} EUR {fmt_eur(Decimal(row['payout'])):>14}"
                )
            for row in prop["anomalies"][:50]:
                print(f"  anomaly {row['partner_id']}: {row['anomaly']}")
        for e in body.get("audit", []):
            print(f"  {e['at']}  {e['actor']:<12} {e['action']}  {e.get('comment', '')}")
        return 0
    if args.action == "approve":
        code, body = client.call(
            "POST",
            f"/closes/{args.period}/approve",
            {"comment": args.comment or "", "exclude": args.exclude or []},
        )
        return _answer(code, body)
    code, body = client.call("POST", f"/closes/{args.period}/reject", {"comment": args.comment or ""})
    return _answer(code, body)


def build_parser() -> argparse.ArgumentParser:
    def target_options(parser: argparse.ArgumentParser, top: bool) -> None:
        d = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
        parser.add_argument("--stack-name", default=d("loyalty"))
        parser.add_argument("--endpoint-url", default=d(os.environ.get("LOYALTY_ENDPOINT", DEFAULT_ENDPOINT)))
        parser.add_argument(
            "--aws", action="store_true", default=d(False), help="the stack on AWS (default: local)"
        )
        parser.add_argument("--profile", default=d(None), help="AWS profile (implies --aws)")
        parser.add_argument("--region", default=d(None))

    p = argparse.ArgumentParser(prog="loyalty", description=__doc__)
    target_options(p, top=True)
    common = argparse.ArgumentParser(add_help=False)
    target_options(common, top=False)
    sub = p.add_subparsers(dest="command", required=True)
    _add = sub.add_parser

    def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        return _add(name, parents=[common], **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]

    up = sub.add_parser("up", help="serve the local cloud on 127.0.0.1:4566")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=4566)
    up.set_defaults(func=cmd_up)

    upl = sub.add_parser("upload", help="upload a sales file for a partner and wait for its report")
    upl.add_argument("file")
    upl.add_argument("--partner", required=True)
    upl.add_argument("--name", help="object name (default: the file name)")
    upl.add_argument("--timeout", type=float, default=900)
    upl.add_argument("--json", action="store_true")
    upl.set_defaults(func=cmd_upload)

    for kind in ("rules", "registry", "rates"):
        lp = sub.add_parser(f"load-{kind}", help=f"upload a {kind} file and wait for its report")
        lp.add_argument("file")
        lp.add_argument("--timeout", type=float, default=300)
        lp.set_defaults(func=cmd_load, kind=kind)

    bal = sub.add_parser("balance", help="month-to-date net sales, commission by status, tier")
    bal.add_argument("partner_id")
    bal.add_argument("--month", help="YYYY-MM (default: this month)")
    bal.add_argument("--json", action="store_true")
    bal.set_defaults(func=cmd_balance)

    demo = sub.add_parser("demo", help="generate a program, run it through the local cloud, print totals")
    demo.add_argument("--partners", type=int, default=200)
    demo.add_argument("--rows", type=int, default=51_000)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)

    dlq = sub.add_parser("dlq", help="dead-letter queues and reported poison messages")
    dlq.set_defaults(func=cmd_dlq)

    def who(parser: argparse.ArgumentParser, role: str) -> None:
        parser.add_argument(
            "--user", help="local cloud only: who you are (default $USER); on AWS your role session"
        )
        parser.add_argument(
            "--role", default=role, help=f"local cloud only: finance or operator (default {role})"
        )

    close = sub.add_parser("close", help="start the monthly close of a period (idempotent)")
    close.add_argument("--period", required=True, help="YYYY-MM")
    close.add_argument(
        "--rerun", action="store_true", help="a new attempt after a rejected, timed-out or failed run"
    )
    close.add_argument("--wait", action="store_true", help="follow the run until it awaits approval or ends")
    close.add_argument("--timeout", type=float, default=3600)
    who(close, "operator")
    close.set_defaults(func=cmd_close)

    ap = sub.add_parser("approvals", help="finance: list, show, approve or reject payout runs")
    ap.add_argument("action", choices=["list", "show", "approve", "reject"])
    ap.add_argument("period", nargs="?", help="YYYY-MM")
    ap.add_argument("--comment", help="why (required to reject)")
    ap.add_argument(
        "--exclude", nargs="*", metavar="PARTNER_ID", help="approve without these partners (carried forward)"
    )
    ap.add_argument("--json", action="store_true")
    who(ap, "finance")
    ap.set_defaults(func=cmd_approvals)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
