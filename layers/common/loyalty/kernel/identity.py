"""Who is calling: an authenticated person and the roles their identity provider gave them."""

from __future__ import annotations

from dataclasses import dataclass

FINANCE = "finance"
OPERATOR = "operator"


@dataclass(frozen=True)
class Caller:
    """An authenticated person and the roles the identity provider (IAM role) gave them."""

    user: str
    roles: frozenset[str]
