"""Who is calling: an authenticated person and the roles their identity provider gave them.

On AWS a person assumes the finance or the operator role; the roles' trust policies require
`sts:SourceIdentity` (set to the person's IAM user name, immutable for the session and any role
chained from it) and tie `sts:RoleSessionName` to it. An HTTP API's IAM authorizer hands the
function only `userArn` (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`), `userId` and
`callerId` (`<role id>:<session>`), never the source identity: so the person is read from the
session name, which the trust policy made equal to the source identity, and it must be a
canonical user name. IAM user names are unique without regard to case, so `Alice` is alice;
anything that is not a plain user name (`alice.2`, `alice `, `alice@x`) is refused rather than
guessed at, as are the names the system acts under."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

FINANCE = "finance"
OPERATOR = "operator"
# a person's user name: a letter, then letters, digits, `_` or `-` (STS: 2 to 64 characters)
PERSON_RE = re.compile(r"[a-z][a-z0-9_-]{1,63}")
# names the platform itself acts under (the schedule starts closes, the sweep times them out)
SYSTEM_ACTORS = frozenset({"schedule", "system"})


@dataclass(frozen=True)
class Caller:
    """An authenticated person and the roles the identity provider (IAM role) gave them."""

    user: str
    roles: frozenset[str]


class NotAPerson(ValueError):
    """The request's identity does not name one person the way the roles' trust policies bind it."""


def person(name: str) -> str:
    """The canonical name of the person a role session names (see the module's docstring)."""
    canonical = name.lower() if name.isascii() else ""
    if not PERSON_RE.fullmatch(canonical) or canonical in SYSTEM_ACTORS:
        raise NotAPerson(
            f"role session {name!r} is not a person's user name: assume the role with your user"
            " name as source identity and session name"
        )
    return canonical


def same_person(a: str, b: str) -> bool:
    """Whether two recorded actors are the same person (user names are case-insensitive)."""
    return a.strip().lower() == b.strip().lower()


def session_caller(user_arn: str, user_id: str, roles: Mapping[str, str]) -> Caller:
    """The person and roles of an IAM-authorized request: `user_arn` must be an assumed-role
    session whose name `user_id` (`<role id>:<session>`) repeats; `roles` maps the stack's role
    names to the roles they grant (any other role grants none)."""
    parts = user_arn.split(":", 5)[-1].split("/") if user_arn.startswith("arn:") else []
    if len(parts) != 3 or parts[0] != "assumed-role":
        raise NotAPerson("sign the request with the finance or operator role's credentials")
    role, session = parts[1], parts[2]
    if user_id.rpartition(":")[2] != session:
        raise NotAPerson("the request's user id does not name the role session of its ARN")
    granted = roles.get(role)
    return Caller(person(session), frozenset({granted} if granted else ()))


# -- people signed in through the user pool (the portal's HTTP API, JWT authorizer) ---------------
PARTNER = "partner"
PROGRAM_MANAGER = "program_manager"
# the user pool's groups: partner users, and the staff groups (a person may hold several)
STAFF_GROUPS = frozenset({FINANCE, OPERATOR, PROGRAM_MANAGER})
POOL_GROUPS = STAFF_GROUPS | {PARTNER}
PARTNER_CLAIM = "custom:partner_id"


@dataclass(frozen=True)
class Principal:
    """A person the user pool signed in: user name, groups, and for a partner user the partner it
    acts for (the `custom:partner_id` attribute, which only an administrator can write)."""

    user: str
    groups: frozenset[str]
    partner_id: str | None = None
    email: str = ""

    @property
    def is_partner(self) -> bool:
        return self.partner_id is not None and PARTNER in self.groups

    @property
    def is_staff(self) -> bool:
        return bool(self.groups & STAFF_GROUPS)

    def caller(self) -> Caller:
        """The same person as the close's approvals know people (roles = staff groups held)."""
        return Caller(person(self.user), frozenset(self.groups & {FINANCE, OPERATOR}))


def claim_list(value: object) -> list[str]:
    """A list claim as API Gateway hands it: a JSON list (in tests), or the HTTP API JWT
    authorizer's flattened string `[finance operator]`."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    text = str(value or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [v for v in re.split(r"[\s,]+", text) if v]


def jwt_principal(claims: Mapping[str, object]) -> Principal:
    """The person of a JWT the HTTP API's authorizer verified (signature, issuer, audience,
    expiry). Only the user pool's groups count; a partner user must carry its partner id."""
    user = str(claims.get("cognito:username") or claims.get("username") or "")
    if not user:
        raise NotAPerson("the token names no user")
    groups = frozenset(g for g in claim_list(claims.get("cognito:groups")) if g in POOL_GROUPS)
    partner = str(claims.get(PARTNER_CLAIM) or "").strip() or None
    if PARTNER in groups and partner is None:
        raise NotAPerson(f"partner user {user!r} carries no partner id")
    return Principal(user, groups, partner if PARTNER in groups else None, str(claims.get("email") or ""))
