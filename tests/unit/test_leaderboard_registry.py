"""The registry's optional `recognition` column: `opt-out` keeps a partner off the leaderboards."""

from __future__ import annotations

import io

from loyalty.program.registry import REGISTRY_SPEC, parse_registry
from loyalty.recognition.leaderboard import OPT_OUT, exclusion
from loyalty_factories.scale import scale_registry

TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
HEAD = "partner_id,name,email,segment,joined_on,recognition\n"


def test_recognition_column_opt_out_or_empty() -> None:
    data = (
        HEAD
        + "P1,Acme,a@acme.example,smb,2026-01-01,opt-out\n"
        + "P2,Beta,b@beta.example,smb,2026-01-01,\n"
        + "P3,Gamma,c@gamma.example,smb,2026-01-01,OPT-OUT\n"
        + "P4,Delta,d@delta.example,smb,2026-01-01,yes\n"
    ).encode()
    partners, issues, rows = parse_registry(io.BytesIO(data), TIERS)
    by_id = {p.partner_id: p for p in partners}
    assert rows == 4 and set(by_id) == {"P1", "P2", "P3"}
    assert by_id["P1"].recognition_opt_out and by_id["P3"].recognition_opt_out
    assert not by_id["P2"].recognition_opt_out
    (issue,) = issues
    assert (issue.line, issue.column, issue.value) == (5, "recognition", "yes")
    assert issue.reason == "must be 'opt-out' or empty"
    assert exclusion(by_id["P1"].recognition_opt_out, False) == OPT_OUT


def test_the_column_is_optional_and_has_an_alias() -> None:
    old = b"partner_id,name,email,segment,joined_on\nP1,Acme,a@acme.example,smb,2026-01-01\n"
    (p,), issues, _ = parse_registry(io.BytesIO(old), TIERS)
    assert not issues and not p.recognition_opt_out
    aliased = b"partner_id,name,email,segment,joined_on,Recognition opt-out\nP1,A,a@a.example,s,2026-01-01,opt-out\n"
    (q,), issues, _ = parse_registry(io.BytesIO(aliased), TIERS)
    assert not issues and q.recognition_opt_out


def test_factories_write_the_full_header() -> None:
    body = scale_registry(8, 4)
    assert body.decode().splitlines()[0] == ",".join(REGISTRY_SPEC.columns)
    partners, issues, rows = parse_registry(io.BytesIO(body), TIERS)
    assert not issues and len(partners) == rows == 9
