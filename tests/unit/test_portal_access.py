"""Who reaches which partner (issue 12, point 2) and the portal's cursors, as pure rules."""

from __future__ import annotations

import pytest
from loyalty.kernel.identity import FINANCE, OPERATOR, PARTNER, PROGRAM_MANAGER, Principal
from loyalty.portal.access import authorize
from loyalty.portal.errors import PortalError
from loyalty.portal.paging import BadCursor, decode_cursor, encode_cursor

REGISTERED = {"D1": ("P1", "P2")}


def registered(pid: str) -> tuple[str, ...]:
    return REGISTERED.get(pid, ())


def status(who: Principal, pid: str, write: bool = False) -> int | str:
    try:
        return authorize(who, pid, write, registered)
    except PortalError as exc:
        return exc.status


def partner(pid: str) -> Principal:
    return Principal(f"u-{pid.lower()}", frozenset({PARTNER}), pid)


def test_a_partner_reaches_its_own_id_only() -> None:
    assert status(partner("P1"), "P1") == "own" and status(partner("P1"), "P1", write=True) == "own"
    assert status(partner("P1"), "P2") == 404 and status(partner("P1"), "P2", write=True) == 404
    assert status(partner("P1"), "D1") == 404  # not even its own distributor


def test_a_distributor_reads_its_downline_never_writes_for_it() -> None:
    assert status(partner("D1"), "P2") == "downline"
    assert status(partner("D1"), "P2", write=True) == 403
    assert status(partner("D1"), "P3") == 404


@pytest.mark.parametrize("group", [FINANCE, OPERATOR, PROGRAM_MANAGER])
def test_staff_and_users_without_a_partner_get_403(group: str) -> None:
    assert status(Principal("fiona", frozenset({group})), "P1") == 403
    assert status(Principal("nobody", frozenset()), "P1") == 403
    # a partner id claim without the partner group grants nothing
    assert status(Principal("eve", frozenset({group}), None), "P1") == 403


def test_cursors_are_bound_to_their_list() -> None:
    c = encode_cursor("lines:P1:2026-10", "S-9")
    assert decode_cursor("lines:P1:2026-10", c) == "S-9" and decode_cursor("x", None) is None
    for scope in ("lines:P2:2026-10", "lines:P1:", "uploads:P1"):
        with pytest.raises(BadCursor):
            decode_cursor(scope, c)
    for junk in ("%%%", "bm90IGpzb24", encode_cursor("s", "k")[:-3]):
        with pytest.raises(BadCursor):
            decode_cursor("s", junk)
