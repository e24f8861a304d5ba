"""`loyalty` - the operator and partner CLI.

By default it talks to the local cloud served by `loyalty up` on http://127.0.0.1:4566; with
`--aws` (and optionally `--profile`) it talks to the stack deployed on AWS.
"""

from __future__ import annotations

import argparse
from typing import Any

from loyalty_cli import (
    analytics,
    close,
    demo,
    outbox,
    points,
    recognition,
    report,
    simulate,
    stack,
    up,
    users,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="loyalty", description=__doc__)
    stack.target_options(p, top=True)
    common = argparse.ArgumentParser(add_help=False)
    stack.target_options(common, top=False)
    sub = p.add_subparsers(dest="command", required=True)
    _add = sub.add_parser

    def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        return _add(name, parents=[common], **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]
    up.register(sub)
    stack.register(sub)
    demo.register(sub)
    close.register(sub)
    simulate.register(sub)
    recognition.register(sub)
    points.register(sub)
    users.register(sub)
    outbox.register(sub)  # issue 12: emails the local cloud captured
    report.register(sub)  # issue 13: the program report (DuckDB locally, Athena with --aws)
    analytics.register(sub)  # issue 13: re-run a close's analytics step
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
