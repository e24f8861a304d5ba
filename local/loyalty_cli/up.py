"""`loyalty up`: serve the local cloud on 127.0.0.1:4566 (the AWS CLI and this CLI talk to it);
`loyalty status [--wait S]`: is it ready (deployed and wired)? The server answers every AWS
request with 503 until then, so wait with this, not by polling describe-stacks."""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
from typing import Any

# the path the server's readiness gate answers (loyalty_local.server.READY_PATH; not imported:
# `status` must not load moto)
READY_PATH = "/_loyalty/ready"
AWS_READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")


def cmd_up(args: argparse.Namespace) -> int:
    from loyalty_local.server import serve

    prepare = None
    loaded: list[Any] = []
    if args.demo:
        from loyalty_cli import portal_demo

        def prepare(cloud: Any) -> None:
            loaded.append(portal_demo.load(cloud))

    def ready(urls: dict[str, str]) -> None:
        if loaded:
            from loyalty_cli import portal_demo

            portal_demo.print_logins(loaded[0], next(iter(urls.values())))

    # the portal's pages (served on api_port) may upload to the bucket with a presigned POST
    # and the emails partners receive link to it (statements, unsubscribe)
    portal = f"http://{args.host}:{args.api_port}"
    origin = {"PortalOrigin": portal, "PortalUrl": portal}
    serve(args.stack_name, args.host, args.port, args.api_port, prepare, origin, ready)
    return 0


def local_status(endpoint: str) -> dict[str, Any]:
    """The server's readiness answer, or why there is none (not running yet)."""
    url = endpoint.rstrip("/") + READY_PATH
    if not url.startswith(("http://", "https://")):
        raise SystemExit(f"--endpoint-url must be an http(s) URL, got {endpoint!r}")
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - scheme checked above
            answer: dict[str, Any] = json.loads(resp.read())
            return answer
    except urllib.error.HTTPError as exc:  # 503 while deploying (or after a failed deploy)
        body: dict[str, Any] = json.loads(exc.read() or b"{}")
        return {"ready": False, "phase": "unknown", **body}
    except (urllib.error.URLError, OSError) as exc:
        return {"ready": False, "phase": "not running", "reason": str(getattr(exc, "reason", exc))}


def aws_status(args: argparse.Namespace) -> dict[str, Any]:
    from loyalty_cli.stack import Target

    target = Target.from_args(args)
    stack = target.client("cloudformation").describe_stacks(StackName=args.stack_name)["Stacks"][0]
    status = stack["StackStatus"]
    return {"ready": status in AWS_READY, "stack": args.stack_name, "phase": status}


def cmd_status(args: argparse.Namespace) -> int:
    """Print the stack's readiness; with --wait, poll until ready (exit 0) or the time is up (1)."""
    on_aws = bool(args.aws or args.profile)
    deadline = time.monotonic() + args.wait
    while True:
        state = aws_status(args) if on_aws else local_status(args.endpoint_url)
        if state["ready"] or state.get("phase") == "failed" or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    print(json.dumps(state, indent=2))
    return 0 if state["ready"] else 1


def register(sub: Any) -> None:
    up = sub.add_parser("up", help="serve the local cloud on 127.0.0.1:4566")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=4566)
    up.add_argument("--api-port", type=int, default=4580, help="first port of the HTTP APIs (portal)")
    up.add_argument("--demo", action="store_true", help="load the portal demo data and create the demo users")
    up.set_defaults(func=cmd_up)

    st = sub.add_parser("status", help="is the stack ready (deployed and wired)? exit 0 if so")
    st.add_argument(
        "--wait", type=float, default=0, metavar="SECONDS", help="poll until ready, at most this long"
    )
    st.set_defaults(func=cmd_status)
