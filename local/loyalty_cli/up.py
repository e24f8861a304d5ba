"""`loyalty up`: serve the local cloud on 127.0.0.1:4566 (the AWS CLI and this CLI talk to it)."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_up(args: argparse.Namespace) -> int:
    from loyalty_local.server import serve

    serve(args.stack_name, args.host, args.port)
    return 0


def register(sub: Any) -> None:
    up = sub.add_parser("up", help="serve the local cloud on 127.0.0.1:4566")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=4566)
    up.set_defaults(func=cmd_up)
