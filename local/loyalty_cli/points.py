"""`loyalty points balance|history|redeem|cancel|fulfil|fulfilment` and `loyalty load-catalog`:
a partner's points and the reward catalog on the stack's table (the local cloud by default).

Exit codes: 0 done (or replayed: the same request id again), 2 bad input (unknown partner, bad
request id, no reason), 3 refused (the reason is printed: insufficient points, out of stock,
limit reached, ...), 4 busy (every attempt lost a race: retry with the same request id).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from loyalty.adapters.s3sqs import SnsNotifier
from loyalty.kernel.ports import Notifier
from loyalty.points.balances import balance_of, expiring
from loyalty.points.fulfilment import fulfilment_csv
from loyalty.points.ports import PointsStore
from loyalty.points.redemptions import Contention, ProgramView, RedeemResult, Redemptions, from_program
from loyalty.program.rules import RuleBook

from loyalty_cli import stack

OK, BAD_INPUT, REFUSED, BUSY = 0, 2, 3, 4


class CliStore(PointsStore, ProgramView, Protocol):
    """What these commands read and write: the points context and the program (one table)."""


def open_store(args: argparse.Namespace) -> CliStore:
    """The stack's table (`DynamoStore` implements the points ports through
    `loyalty.adapters.dynamo.points`)."""
    return stack.Target.from_args(args).store()


def open_events(args: argparse.Namespace) -> Notifier | None:
    """The stack's events topic (`reward_redeemed` goes there, as every partner notice does)."""
    target = stack.Target.from_args(args)
    arn = target.outputs.get("EventsTopicArn", "")
    return SnsNotifier(arn, target.session.region_name, target.endpoint) if arn else None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _service(store: CliStore, events: Notifier | None = None) -> Redemptions:
    return from_program(store, store, now, events)


def _known(store: CliStore, partner_id: str) -> bool:
    if store.get_partner(partner_id) is None:
        print(f"unknown partner {partner_id!r}", file=sys.stderr)
        return False
    return True


# -- balance and history ----------------------------------------------------------------------------
def cmd_balance(args: argparse.Namespace) -> int:
    store = open_store(args)
    if not _known(store, args.partner_id):
        return BAD_INPUT
    today = now().date()
    soon_days = _soon_days(store, args.partner_id, today)
    lots = store.lots(args.partner_id)
    bal = balance_of(store.points_head(args.partner_id), lots, today, soon_days)
    soon = expiring(lots, today, soon_days)
    if args.json:
        out = {
            "partner_id": args.partner_id,
            "as_of": today.isoformat(),
            **bal.to_json(),
            "expiring_lots": [
                {"lot_id": x.lot_id, "remaining": x.remaining, "expires_on": x.expires_on.isoformat()}
                for x in soon
            ],
        }
        print(json.dumps(out, indent=2))
        return OK
    print(f"points of {args.partner_id} as of {today}")
    print(
        f"  balance   {bal.balance:>10,}  (active {bal.active:,} + pending {bal.pending:,} - owed {bal.debt:,})"
    )
    when = f" (first on {bal.expiring_on})" if bal.expiring_on else ""
    print(f"  expiring  {bal.expiring_soon:>10,}  within {soon_days} days{when}")
    print(
        f"  lifetime  {bal.lifetime_earned:>10,}  earned; spent {bal.spent:,}, expired {bal.expired:,}, deducted {bal.deducted:,}"
    )
    return OK


def cmd_history(args: argparse.Namespace) -> int:
    store = open_store(args)
    if not _known(store, args.partner_id):
        return BAD_INPUT
    moves = store.moves(args.partner_id, args.period)
    if args.json:
        print(json.dumps([m.to_json() for m in moves], indent=2))
        return OK
    for m in moves:
        print(f"{m.at}  {m.period}  {m.kind:<9} {m.points:>+10,}  {m.move_id}  {m.memo}")
    if not moves:
        print(f"no points moves of {args.partner_id}" + (f" in {args.period}" if args.period else ""))
    return OK


def _soon_days(store: CliStore, partner_id: str, today: dt.date) -> int:
    """The partner's rules' `expiring_soon_days` (60 when no rules are loaded)."""
    book, partner = RuleBook(store.rule_versions()), store.get_partner(partner_id)
    if not book or partner is None:
        return 60
    return book.in_effect(today, partner.cohort, partner.segment).points.expiring_soon_days


# -- redemption ------------------------------------------------------------------------------------------
def _result(res: RedeemResult, as_json: bool, verb: str) -> int:
    if as_json:
        print(json.dumps(res.to_json(), indent=2))
    elif res.refusal is not None:
        print(f"refused ({res.refusal.code}): {res.refusal.message}")
    elif res.redemption is not None:
        r = res.redemption
        again = " (replayed: this request id was done before)" if res.replayed else ""
        print(
            f"{verb} {r.request_id}: {r.reward_id} ({r.reward_name}) for {r.points:,} points, {r.state}{again}"
        )
    return REFUSED if res.refusal is not None else OK


def _busy(exc: Exception) -> int:
    print(f"{exc}; nothing was done twice: retry with the same request id", file=sys.stderr)
    return BUSY


def _act(args: argparse.Namespace, act: Callable[[Redemptions], RedeemResult], done: str) -> int:
    """Run one redemption action for a known partner; exit codes: ok/replayed 0, refused 3,
    bad input 2, contention 4."""
    store = open_store(args)
    if not _known(store, args.partner_id):
        return BAD_INPUT
    try:
        res = act(_service(store, open_events(args)))
    except Contention as exc:
        return _busy(exc)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return BAD_INPUT
    return _result(res, args.json, done)


def cmd_redeem(args: argparse.Namespace) -> int:
    return _act(args, lambda svc: svc.redeem(args.partner_id, args.reward_id, args.request_id), "redeemed")


def cmd_cancel(args: argparse.Namespace) -> int:
    return _act(
        args, lambda svc: svc.cancel(args.partner_id, args.request_id, args.actor, args.reason), "cancelled"
    )


def cmd_fulfil(args: argparse.Namespace) -> int:
    return _act(args, lambda svc: svc.fulfil(args.partner_id, args.request_id, args.actor), "fulfilled")


def cmd_fulfilment(args: argparse.Namespace) -> int:
    store = open_store(args)
    body = fulfilment_csv(store.redemptions(args.period))
    if args.out:
        Path(args.out).write_bytes(body)
        print(f"{body.count(b'\n') - 1} redemptions of {args.period} -> {args.out}")
    else:
        sys.stdout.write(body.decode())
    return OK


def cmd_load_catalog(args: argparse.Namespace) -> int:
    """Upload a catalog file to `catalog/` and wait for the config loader's report."""
    target = stack.Target.from_args(args)
    path = Path(args.file)
    key = f"catalog/{path.name}"
    target.client("s3").upload_file(str(path), target.bucket, key)
    report = stack.wait_for_report(target, key, f"reports/config/{key}.report.json", args.timeout)
    print(json.dumps({k: v for k, v in report.items() if k != "errors"}, indent=2))
    for e in report.get("errors", [])[:20]:
        print(f"  line {e['line']} {e['column']}: {e['reason']}")
    return OK if report.get("status") == "processed" else BAD_INPUT


# -- the parser ------------------------------------------------------------------------------------------
def register(sub: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    stack.target_options(common, top=False)
    pts = sub.add_parser("points", help="a partner's points: balance, history, redeem, cancel, fulfil")
    psub = pts.add_subparsers(dest="points_command", required=True)

    def add(name: str, help_: str, partner: bool = True, as_json: bool = True) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = psub.add_parser(name, help=help_, parents=[common])
        if partner:
            p.add_argument("partner_id")
        if as_json:
            p.add_argument("--json", action="store_true")
        return p

    add("balance", "pending, active, expiring soon, lifetime").set_defaults(func=cmd_balance)
    h = add("history", "the partner's points moves")
    h.add_argument("--period", help="YYYY-MM (default: every period)")
    h.set_defaults(func=cmd_history)
    r = add("redeem", "redeem one unit of a reward (exit 3 if refused, with the reason)")
    r.add_argument("reward_id")
    r.add_argument("--request-id", required=True, help="your idempotency key: the same id again is a replay")
    r.set_defaults(func=cmd_redeem)
    c = add("cancel", "cancel a pending redemption (re-credits the very lots it drew from)")
    c.add_argument("request_id")
    c.add_argument("--reason", required=True)
    c.add_argument("--actor", default=_user())
    c.set_defaults(func=cmd_cancel)
    f = add("fulfil", "mark a pending redemption delivered")
    f.add_argument("request_id")
    f.add_argument("--actor", default=_user())
    f.set_defaults(func=cmd_fulfil)
    fl = add(
        "fulfilment", "the period's redemptions as CSV (finance and operations)", partner=False, as_json=False
    )
    fl.add_argument("--period", required=True, help="YYYY-MM")
    fl.add_argument("--out", help="write the CSV here (default: standard output)")
    fl.set_defaults(func=cmd_fulfilment)

    if "load-catalog" not in sub.choices:  # `stack` may register it with the other load-* kinds
        lc = sub.add_parser("load-catalog", help="upload a catalog file and wait for its report")
        lc.add_argument("file")
        lc.add_argument("--timeout", type=float, default=300)
        lc.set_defaults(func=cmd_load_catalog)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return "operator"
