"""The monthly close and finance approvals: `loyalty close` (operator) and `loyalty approvals`
(finance: list, show, approve, reject), through the stack's approvals API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from decimal import Decimal
from typing import Any

from loyalty.kernel.money import fmt_eur
from loyalty_local.env import DEFAULT_TEMPLATE
from loyalty_local.template import load_template

from loyalty_cli.console import Progress
from loyalty_cli.stack import Target

# the roles of the template that callers of the approvals API hold (short name -> logical id)
ROLES = {"finance": "FinanceApproverRole", "operator": "CloseOperatorRole"}


class ApprovalsClient:
    """The approvals API as the caller sees it. The CLI assumes the finance or operator role for
    you with your user name as source identity and as session name (the roles' trust policies
    require both, and the API reads the person from the session). On AWS: from the profile's
    credentials (your IAM user; `--mfa-serial`/`--mfa-code` when they carry no MFA), then
    SigV4-signed HTTPS to the HTTP API. Locally there is no API Gateway and no IAM: the CLI
    assumes the role on the local STS the same way and invokes the API's function with the
    event API Gateway would send for that session (the local cloud trusts it)."""

    def __init__(
        self,
        target: Target,
        user: str | None,
        role: str,
        mfa: tuple[str | None, str | None] = (None, None),
    ) -> None:
        self.target = target
        self.named = user
        self.user = user or os.environ.get("USER", "operator")
        self.role = role
        self.mfa = mfa

    def role_name(self) -> str:
        """The stack's role for "finance" or "operator" (the name the template gives it; the
        local stack has no such role, as it refers to the HTTP API); any other name as is."""
        logical = ROLES.get(self.role)
        if logical is None:
            return self.role
        spec = load_template(DEFAULT_TEMPLATE)["Resources"][logical]["Properties"]["RoleName"]["Fn::Sub"]
        return str(spec).replace("${AWS::StackName}", self.target.stack)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        if self.target.endpoint is None:
            return self._signed(method, path, body)
        from loyalty_local.httpapi import assume_role_as, http_api_event

        arn, user_id = assume_role_as(self.target.client("sts"), self.role_name(), self.user)
        lam = self.target.client("lambda")
        out = lam.invoke(
            FunctionName=self.target.outputs["ApprovalsApiFunctionName"],
            Payload=json.dumps(http_api_event(method, path, arn, body, user_id=user_id)).encode(),
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
        SigV4Auth(self._role_credentials(), "execute-api", self.target.session.region_name).add_auth(req)
        http = urllib.request.Request(url, data=data, method=method, headers=dict(req.headers))  # noqa: S310 - https checked above
        try:
            with urllib.request.urlopen(http, timeout=30) as resp:  # noqa: S310 - https URL from the stack
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def _role_credentials(self) -> Any:
        """Your session of the role: source identity = session name = your IAM user name."""
        from botocore.credentials import Credentials

        sts = self.target.session.client("sts")
        me = sts.get_caller_identity()
        _, partition, _, _, account, resource = str(me["Arn"]).split(":", 5)
        user = self.named or resource.rsplit("/", 1)[-1]
        serial, code = self.mfa
        extra = {"SerialNumber": serial, "TokenCode": code} if serial and code else {}
        out = sts.assume_role(
            RoleArn=f"arn:{partition}:iam::{account}:role/{self.role_name()}",
            RoleSessionName=user,
            SourceIdentity=user,
            **extra,
        )["Credentials"]
        return Credentials(out["AccessKeyId"], out["SecretAccessKey"], out["SessionToken"])


def _approvals(args: argparse.Namespace) -> ApprovalsClient:
    mfa = (getattr(args, "mfa_serial", None), getattr(args, "mfa_code", None))
    return ApprovalsClient(Target.from_args(args), args.user, args.role, mfa)


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
        return _list(client, args)
    if not args.period:
        print("a period (YYYY-MM) is required", file=sys.stderr)
        return 2
    if args.action == "show":
        return _show(client, args)
    if args.action == "approve":
        return _approve(client, args)
    reject: dict[str, Any] = {"comment": args.comment or ""}
    if args.run:
        reject["run"] = args.run
    code, body = client.call("POST", f"/closes/{args.period}/reject", reject)
    return _answer(code, body)


def _approve(client: ApprovalsClient, args: argparse.Namespace) -> int:
    """Approve the run and proposal digest you were shown (`--run`, `--digest` from `show`);
    without them, the ones the close shows now, printed first so you see what you approve."""
    run, digest = args.run, args.digest
    if run is None or digest is None:
        code, meta = client.call("GET", f"/closes/{args.period}")
        if code >= 400:
            return _answer(code, meta)
        run = run if run is not None else meta["run"]
        digest = digest if digest is not None else meta.get("proposal_digest", "")
        print(f"approving {run}, proposal digest {digest or '(none)'}", file=sys.stderr)
    body = {"run": run, "digest": digest, "comment": args.comment or "", "exclude": args.exclude or []}
    code, answer = client.call("POST", f"/closes/{args.period}/approve", body)
    return _answer(code, answer)


def _list(client: ApprovalsClient, args: argparse.Namespace) -> int:
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


def _show(client: ApprovalsClient, args: argparse.Namespace) -> int:
    code, body = client.call("GET", f"/closes/{args.period}")
    if code >= 400 or args.json:
        return _answer(code, body)
    prop = body.get("proposal") or {}
    print(f"{args.period}: {body['status']} (run {body['run']}, started by {body.get('started_by')})")
    print(f"  proposal digest {body.get('proposal_digest') or '(none)'}")
    for a in body.get("approvals") or []:
        print(f"  approved by {a['by']} at {a['at']}")
    if prop:
        _print_proposal(prop)
    for e in body.get("audit", []):
        print(f"  {e['at']}  {e['actor']:<12} {e['action']}  {e.get('comment', '')}")
    return 0


def _print_proposal(prop: dict[str, Any]) -> None:
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


def register(sub: Any) -> None:
    def who(parser: argparse.ArgumentParser, role: str) -> None:
        parser.add_argument(
            "--user",
            help="your user name: source identity and session name of the role (default: $USER locally,"
            " your IAM user on AWS)",
        )
        parser.add_argument(
            "--role", default=role, help=f"local cloud only: finance or operator (default {role})"
        )
        parser.add_argument("--mfa-serial", help="AWS: your MFA device, when the profile has no MFA session")
        parser.add_argument("--mfa-code", help="AWS: the current MFA code")

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
    ap.add_argument("--run", help="approve/reject: the run you were shown (default: the current one)")
    ap.add_argument("--digest", help="approve: the proposal digest you were shown (default: the current one)")
    ap.add_argument("--json", action="store_true")
    who(ap, "finance")
    ap.set_defaults(func=cmd_approvals)
