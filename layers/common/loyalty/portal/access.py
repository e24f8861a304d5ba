"""Who may see which partner (issue 12, point 2), as a pure decision.

- a partner user reaches its own partner id, reads and writes;
- a distributor (a partner whose registry row lists the partner in `distributor_for`: it is
  registered for it, uploads for it) may read that partner, never write for it;
- staff groups (finance, operator, program manager) get 403 on partner routes (they have the
  console);
- any other partner id is 404: whether it exists is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loyalty.kernel.identity import Principal
from loyalty.portal.errors import PortalError


def authorize(
    who: Principal, partner_id: str, write: bool, registered_for: Callable[[str], Sequence[str]]
) -> str:
    """How `who` reaches `partner_id` ("own" or "downline"), or the PortalError that refuses it.
    `registered_for(p)` is the partner ids partner `p` is registered for as a distributor."""
    if not who.is_partner:
        if who.is_staff:
            raise PortalError(403, "partner pages are for partner users; staff use the console")
        raise PortalError(403, "this user is not a partner user")
    if who.partner_id == partner_id:
        return "own"
    assert who.partner_id is not None
    if partner_id in registered_for(who.partner_id):
        if write:
            raise PortalError(403, f"a distributor may read partner {partner_id}'s pages, not act for it")
        return "downline"
    raise PortalError(404, f"no partner {partner_id}")
