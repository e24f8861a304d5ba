"""`loyalty analytics-publish --period YYYY-MM`: run a finished close's Analytics step again
(docs/analytics.md). The close runs it after Finish; when it failed there (the execution fails,
the close stays finished and paid), or the report should be rebuilt, this writes the period's
facts, report and announcement exactly as the step does - the same files, and the announcement
only if this run of the close has not made it yet."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from loyalty.close.runs import FINISHED
from loyalty.kernel.periods import check_period

from loyalty_cli.stack import Target


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analytics-publish", help="re-run a finished close's analytics step (facts, report, announcement)"
    )
    p.add_argument("--period", required=True, help="YYYY-MM, a finished close")
    p.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    try:
        period = check_period(args.period)
    except ValueError as exc:
        print(f"loyalty analytics-publish: {exc}", file=sys.stderr)
        return 2
    services = Target.from_args(args).container()
    meta = services.store.close_meta(period)
    if meta is None or meta.status != FINISHED or not meta.manifest:
        status = meta.status if meta else "not started"
        print(f"loyalty analytics-publish: the close of {period} is {status}, not finished", file=sys.stderr)
        return 1
    done = services.publish_analytics(period, meta.run, meta.manifest, dt.datetime.now(dt.UTC))
    print(json.dumps(done.to_json(), indent=1))
    return 0
