"""Who uploaded a sales file, and whether that principal may write into the file's folder
(issue 9, point 7): pure rules over the S3 event's `userIdentity.principalId`.

- A **partner principal** is a role session named `partner-<partner_id>`: the portal's presigned
  uploads are signed by a role session named after the partner (and the template's trust zones
  give such sessions only `incoming/<partner_id>/*`). It may upload only into its own folder.
- Every other principal is **internal** (operators, the program's own roles, an IAM user of the
  program team, a test harness): it may upload for any partner, as today.

The principal id of an assumed role is `AWS:<role id>:<session name>`; of an IAM user `AWS:<user id>`.
"""

from __future__ import annotations

PARTNER_SESSION_PREFIX = "partner-"


def partner_of_principal(principal: str) -> str | None:
    """The partner a principal acts for, or None for an internal principal."""
    session = principal.split(":", 2)[2] if principal.count(":") >= 2 else ""
    if session.startswith(PARTNER_SESSION_PREFIX):
        return session[len(PARTNER_SESSION_PREFIX) :]
    return None


def folder_refusal(principal: str, folder_partner: str) -> str | None:
    """Why `principal` may not upload into `incoming/<folder_partner>/`, or None if it may."""
    acting_for = partner_of_principal(principal)
    if acting_for is None or acting_for == folder_partner:
        return None
    return (
        f"the uploader ({principal}) acts for partner {acting_for} and partner {acting_for} may only"
        f" upload to incoming/{acting_for}/, not to incoming/{folder_partner}/: nothing of this file"
        " is accrued"
    )
