"""DynamoDB applies each request atomically; moto does not when requests come from several
threads: a cancelled transaction restores a copy of the whole table taken when it began, undoing
what a concurrent request wrote meanwhile. The local cloud (and every test on moto) therefore
has moto handle one DynamoDB request at a time, as the service would apply them. Threads still
overlap between their requests (read, plan, commit), which is where real races happen."""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_lock = threading.RLock()
_installed: list[bool] = []


def atomic_dynamodb() -> None:
    """Install once per process (idempotent)."""
    if _installed:
        return
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with _lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _installed.append(True)
