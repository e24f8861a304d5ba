"""Issue 11, point 2: re-importing a (partner, person, course) is idempotent; a later completion
with a new certificate renews it; anything else is a conflict naming the stored values."""

from __future__ import annotations

import dataclasses
import datetime as dt

from loyalty.training.records import Completion, differing, judge

BASE = Completion(
    "P00001", "E-1", "CERT-SALES", dt.date(2026, 3, 1), "C-1", dt.date(2027, 3, 1), "training/a.csv", 2
)


def test_new_unchanged_and_renewed() -> None:
    assert judge(None, BASE) == "new"
    moved = dataclasses.replace(BASE, source="training/b.csv", line=9)
    assert judge(BASE, moved) == "unchanged"  # where it came from is not content
    renewal = dataclasses.replace(
        BASE, completed_on=dt.date(2027, 2, 1), certificate_id="C-2", expires_on=None
    )
    assert judge(BASE, renewal) == "renewed"


def test_conflicts_name_the_stored_values_and_why() -> None:
    same_cert_later = dataclasses.replace(BASE, completed_on=dt.date(2026, 5, 1))
    out = judge(BASE, same_cert_later)
    assert out.startswith(
        "conflict: stored completed 2026-03-01, C-1, expires 2027-03-01 (training/a.csv line 2)"
    )
    assert "renews only with a new certificate_id" in out
    assert "older than the stored" in judge(BASE, dataclasses.replace(BASE, completed_on=dt.date(2026, 1, 1)))
    other_expiry = dataclasses.replace(BASE, expires_on=dt.date(2028, 3, 1))
    assert "the same completion with other values" in judge(BASE, other_expiry)
    no_cert_later = dataclasses.replace(BASE, completed_on=dt.date(2026, 6, 1), certificate_id="")
    assert judge(BASE, no_cert_later).startswith("conflict")


def test_differing_names_the_first_column_that_differs() -> None:
    assert differing(BASE, dataclasses.replace(BASE, completed_on=dt.date(2026, 1, 1))) == (
        "completed_on",
        "2026-01-01",
    )
    assert differing(BASE, dataclasses.replace(BASE, certificate_id="C-9")) == ("certificate_id", "C-9")
    assert differing(BASE, dataclasses.replace(BASE, expires_on=None)) == ("expires_on", "")


def test_json_round_trip() -> None:
    for c in (BASE, dataclasses.replace(BASE, certificate_id="", expires_on=None)):
        assert Completion.from_json(c.to_json()) == c
