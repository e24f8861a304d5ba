"""`loyalty leaderboard --period P --segment S [--top N] [--partner P] [--json]`: a segment's
published leaderboard (written by the close, `leaderboards/<period>/<segment>.json` in the
stack's bucket): the top N with ranks and, with `--partner`, that partner's own rank and the
partners just above and below (docs/recognition.md)."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any, TextIO

from loyalty.adapters.s3sqs import S3Blobs
from loyalty.kernel.money import fmt_eur
from loyalty.kernel.periods import check_period
from loyalty.kernel.ports import BlobStore
from loyalty.recognition.leaderboard import Place
from loyalty.recognition.publish import PublishedBoard, leaderboard_key, read_board
from rich.console import Console

from loyalty_cli.console import table
from loyalty_cli.stack import Target

METRIC_NAMES = {"net_sales": "net sales EUR", "units": "units", "new_customers": "new customers"}
HEADERS = {"net_sales": "Net sales EUR", "units": "Units", "new_customers": "New customers"}


def register(sub: Any) -> None:
    p = sub.add_parser("leaderboard", help="a segment's published leaderboard of a period (top N, ranks)")
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.add_argument("--segment", required=True, help="the segment, as in the registry")
    p.add_argument("--top", type=int, default=None, help="places shown (default: the N the close published)")
    p.add_argument("--partner", default="", help="also show this partner's rank and its neighbours")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    blobs = S3Blobs(target.bucket, target.session.region_name, target.endpoint)
    return run(blobs, args, sys.stdout)


def _value(metric: str, value: Decimal) -> str:
    return fmt_eur(value) if metric == "net_sales" else f"{value:,f}".replace(",", " ")


def _place(p: Place | None) -> dict[str, Any] | None:
    return None if p is None else p.to_json()


def run(blobs: BlobStore, args: argparse.Namespace, out: TextIO) -> int:
    """The command over any bucket (S3 of the stack; in-memory blobs in tests)."""
    try:
        period = check_period(args.period)
    except ValueError as exc:
        print(f"loyalty leaderboard: {exc}", file=sys.stderr)
        return 2
    pub = read_board(blobs, period, args.segment)
    if pub is None:
        print(
            f"no leaderboard published for {period}, segment {args.segment!r} "
            f"({leaderboard_key(period, args.segment)}): is the close of {period} done?",
            file=sys.stderr,
        )
        return 1
    n = args.top if args.top is not None else pub.top_n
    if n < 1:
        print("loyalty leaderboard: --top must be at least 1", file=sys.stderr)
        return 2
    if args.json:
        json.dump(_as_json(pub, n, args.partner), out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        _print(pub, n, args.partner, out)
    return 0


def _as_json(pub: PublishedBoard, n: int, partner: str) -> dict[str, Any]:
    board = pub.board
    doc: dict[str, Any] = {
        "period": board.period,
        "segment": board.segment,
        "metric": board.metric,
        "top_n": n,
        "ranked": len(board.places),
        "excluded": board.excluded,
        "places": [p.to_json() for p in board.top(n)],
        "certificate": pub.certificate,
    }
    if partner:
        above, me, below = board.around(partner)
        doc["partner"] = {
            "partner_id": partner,
            "place": _place(me),
            "above": _place(above),
            "below": _place(below),
        }
    return doc


def _print(pub: PublishedBoard, n: int, partner: str, out: TextIO) -> None:
    board = pub.board
    console = Console(file=out, highlight=False, width=140)
    metric = METRIC_NAMES.get(board.metric, board.metric)
    title = (
        f"Leaderboard {board.period}, segment {board.segment}: top {min(n, len(board.places))} of "
        f"{len(board.places)} ranked by {metric} ({board.excluded} excluded from recognition)"
    )
    console.print(title, soft_wrap=True)
    t = table("Rank", "Partner", "Name", HEADERS.get(board.metric, board.metric))
    t.columns[1].justify = t.columns[2].justify = "left"
    for p in board.top(n):
        t.add_row(str(p.rank), p.partner_id, p.name, _value(board.metric, p.value))
    console.print(t)
    if pub.certificate:
        c = pub.certificate
        console.print(
            f"Partner of the month: {c['partner_id']} {c['partner_name']} (certificate {c['number']}: "
            + ", ".join(c["keys"].values())
            + ")",
            soft_wrap=True,
        )
    else:
        console.print("No partner of the month: no partner had a positive result.")
    if partner:
        above, me, below = board.around(partner)
        if me is None:
            console.print(
                f"{partner} is not ranked in {board.segment} (opted out, on hold, or another segment)"
            )
            return
        console.print(f"{partner}: rank {me.rank} of {len(board.places)}, {_value(board.metric, me.value)}")
        for label, near in (("above", above), ("below", below)):
            if near is not None:
                console.print(
                    f"  {label}: rank {near.rank} {near.partner_id} {near.name}, "
                    f"{_value(board.metric, near.value)}"
                )
