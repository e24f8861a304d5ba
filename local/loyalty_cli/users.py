"""`loyalty users add NAME --role R [--partner P] [--email E] [--password PW]` and
`loyalty users list [--json]`: the people who sign in to the portal (the stack's user pool).

A partner user carries its partner id (`custom:partner_id`, which only an administrator writes)
and the `partner` group; staff get `finance`, `operator` or `program_manager` (several roles:
repeat `--role`). `add` is idempotent: adding a user again updates its attributes, password and
groups (it never removes a group). Works on the local cloud and, with `--aws`, on AWS."""

from __future__ import annotations

import argparse
import json
import secrets
import string
import sys
from typing import Any

from loyalty.kernel.identity import PARTNER, PARTNER_CLAIM, POOL_GROUPS
from loyalty_local.httpapi import add_user

from loyalty_cli.console import stdout_console, table
from loyalty_cli.stack import Target


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="portal users: add | list (the stack's user pool)")
    s = p.add_subparsers(dest="users_command", required=True)
    a = s.add_parser("add", help="add (or update) a user")
    a.add_argument("name", help="user name (sign-in name; case-insensitive)")
    a.add_argument(
        "--role", action="append", required=True, choices=sorted(POOL_GROUPS), help="group; repeatable"
    )
    a.add_argument("--partner", default=None, help="the partner id a partner user acts for")
    a.add_argument("--email", default=None, help="e-mail (default NAME@example.com)")
    a.add_argument("--password", default=None, help="password (default: generated and printed once)")
    a.set_defaults(func=cmd_add)
    ls = s.add_parser("list", help="the pool's users with their roles and partner")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)


def generated_password() -> str:
    """A password the pool's policy accepts (12+ characters, upper, lower, digits)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(16))
        if any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw):
            return pw


def pool(target: Target) -> tuple[str, str]:
    try:
        return target.outputs["UserPoolId"], target.outputs["UserPoolClientId"]
    except KeyError:
        raise SystemExit(
            f"stack {target.stack!r} has no user pool (outputs UserPoolId, UserPoolClientId)"
        ) from None


def cmd_add(args: argparse.Namespace) -> int:
    roles = sorted(set(args.role))
    name = args.name.strip().lower()  # user names are case-insensitive: stored as people sign in
    if (PARTNER in roles) != bool(args.partner):
        print(
            "loyalty users add: a partner user needs --partner P, and only a partner user takes one",
            file=sys.stderr,
        )
        return 2
    target = Target.from_args(args)
    pool_id = pool(target)[0]
    password = args.password or generated_password()
    email = args.email or f"{name}@example.com"
    idp = target.client("cognito-idp")
    try:
        add_user(idp, pool_id, name, password, email, roles, args.partner)
    except idp.exceptions.InvalidPasswordException as exc:
        print(f"loyalty users add: {exc.response['Error']['Message']}", file=sys.stderr)
        return 2
    shown = "" if args.password else f" password {password}"
    print(f"user {name} ({', '.join(roles)}{' of ' + args.partner if args.partner else ''}){shown}")
    return 0


def users(idp: Any, pool_id: str) -> list[dict[str, Any]]:
    """Every user of the pool with its groups and partner id (paged through the pool)."""
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"UserPoolId": pool_id, "Limit": 60}
    while True:
        page = idp.list_users(**kwargs)
        for u in page["Users"]:
            attrs = {a["Name"]: a["Value"] for a in u.get("Attributes", [])}
            groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=u["Username"])["Groups"]
            out.append(
                {
                    "user": u["Username"],
                    "roles": sorted(g["GroupName"] for g in groups),
                    "partner_id": attrs.get(PARTNER_CLAIM, ""),
                    "email": attrs.get("email", ""),
                    "status": u.get("UserStatus", ""),
                    "enabled": bool(u.get("Enabled", True)),
                }
            )
        if not page.get("PaginationToken"):
            return sorted(out, key=lambda r: str(r["user"]))
        kwargs["PaginationToken"] = page["PaginationToken"]


def cmd_list(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    rows = users(target.client("cognito-idp"), pool(target)[0])
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    t = table("User", "Roles", "Partner", "E-mail", "Status", title=f"users of {target.stack}")
    for r in rows:
        t.add_row(r["user"], ", ".join(r["roles"]), r["partner_id"], r["email"], r["status"])
    stdout_console().print(t)
    return 0
