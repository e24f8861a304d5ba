"""What every JSON API handler refuses before its router sees the request: a body sent as
anything but JSON (415), so a multipart or form body never reaches a JSON parser (it made a 500)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def not_json(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The 415 answer (payload 2.0) for a request whose body is not JSON; None when it is, or
    when there is no body."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if not event.get("body") or kind in {"", "application/json"} or kind.endswith("+json"):
        return None
    return {
        "statusCode": 415,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": f"the body must be application/json, not {kind}"}),
        "isBase64Encoded": False,
    }
