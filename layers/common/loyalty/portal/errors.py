"""The one error the portal's use cases raise: an HTTP status, a message, optional details."""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    def __init__(self, status: int, error: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.details = details or []

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error}
        if self.details:
            out["details"] = self.details
        return out
