"""`loyalty outbox [--partner P] [--json]`: the emails the local cloud's SES captured (the
notifier's statement ready, payout sent, tier changed, upload processed, target reached and
points expiring emails), oldest first, with their recipient, subject, language and kind.

On AWS there is no outbox: SES delivers (its sending statistics and the notifier's logs say
what went out)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from loyalty_local.mail import Captured, served_emails


def rows(emails: Sequence[Captured], partner: str | None) -> list[Captured]:
    return [e for e in emails if partner is None or e.partner_id == partner]


def table(emails: Sequence[Captured]) -> str:
    head = ("partner", "kind", "lang", "to", "subject")
    lines = [(e.partner_id, e.kind, e.lang, e.to, e.subject) for e in emails]
    widths = [max([len(h), *(len(r[i]) for r in lines)]) for i, h in enumerate(head[:-1])]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, [*widths, 0], strict=True)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, [*widths, 0], strict=True)).rstrip() for r in lines]
    out.append(f"{len(emails)} email{'' if len(emails) == 1 else 's'}")
    return "\n".join(out)


def run(args: argparse.Namespace, source: Callable[[], Sequence[Captured]] | None = None) -> int:
    if args.aws or args.profile:
        print("the outbox is the local cloud's (SES on AWS delivers the emails)", file=sys.stderr)
        return 2
    try:
        emails = rows(source() if source else served_emails(args.endpoint_url), args.partner)
    except OSError as exc:
        print(
            f"cannot read the local cloud at {args.endpoint_url}: {exc} - is `loyalty up` running?",
            file=sys.stderr,
        )
        return 1
    if args.json:
        out: list[dict[str, Any]] = [asdict(e) for e in emails]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(table(emails))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("outbox", help="emails the local cloud captured (to, subject, language, kind)")
    p.add_argument("--partner", default=None, help="only this partner's emails")
    p.add_argument("--json", action="store_true", help="as JSON, with the text and HTML bodies")
    p.set_defaults(func=run)
