"""Issue 11, point 2: completions feed the tiers' certification criteria; certificates stop
counting after their expiry; the registry's `certified` column is an initial import only."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from loyalty.training.certification import certified_counts, merge_certified, new_completions
from loyalty.training.records import Completion

D = dt.date


def done(person: str, course: str, on: D, cert: str = "C", exp: D | None = None) -> Completion:
    return Completion("P00001", person, course, on, cert, exp)


def test_distinct_people_with_a_valid_certificate_count() -> None:
    cs = [
        done("E-1", "CERT-SALES", D(2026, 1, 10), "C-1"),
        done("E-2", "CERT-SALES", D(2026, 2, 10), "C-2", exp=D(2026, 6, 30)),
        done("E-3", "CERT-SALES", D(2026, 7, 1), "C-3"),  # not yet
        done("E-4", "CERT-SALES", D(2026, 1, 1), ""),  # completed, no certificate
        done("E-1", "CERT-PRE", D(2026, 1, 1), "C-5"),
    ]
    assert certified_counts(cs, D(2026, 6, 30)) == {"CERT-PRE": 1, "CERT-SALES": 2}  # expiry day counts
    assert certified_counts(cs, D(2026, 7, 1)) == {"CERT-PRE": 1, "CERT-SALES": 2}  # E-2 gone, E-3 in
    assert certified_counts(cs, D(2025, 12, 31)) == {}


def test_the_same_person_counts_once_per_course() -> None:
    other_partner_row = Completion("P00001", "E-1", "CERT-SALES", D(2026, 2, 1), "C-9")
    cs = [done("E-1", "CERT-SALES", D(2026, 1, 1), "C-1"), other_partner_row]
    assert certified_counts(cs, D(2026, 3, 1)) == {"CERT-SALES": 1}


def test_merge_takes_the_larger_count_per_course() -> None:
    assert merge_certified({"CERT-SALES": 2, "CERT-PRE": 1}, {"CERT-SALES": 1, "CERT-OPS": 3}) == {
        "CERT-OPS": 3,
        "CERT-PRE": 1,
        "CERT-SALES": 2,
    }
    assert merge_certified({}, {}) == {}


def test_new_completions_are_those_done_up_to_the_cut_off() -> None:
    cs = [done("E-2", "X", D(2026, 3, 31)), done("E-1", "Y", D(2026, 4, 1)), done("E-1", "X", D(2026, 1, 1))]
    assert [(c.person_id, c.course) for c in new_completions(cs, D(2026, 3, 31))] == [
        ("E-1", "X"),
        ("E-2", "X"),
    ]


people = st.sampled_from(["E-1", "E-2", "E-3", "E-4"])
courses = st.sampled_from(["CERT-SALES", "CERT-PRE"])
days = st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31))


@given(
    st.lists(st.tuples(people, courses, days, st.booleans(), st.one_of(st.none(), days)), max_size=20),
    days,
)
def test_counts_never_exceed_the_people_and_never_count_an_expired_or_future_certificate(
    rows: list[tuple[str, str, D, bool, D | None]], at: D
) -> None:
    cs = [done(p, c, on, "C" if cert else "", exp) for p, c, on, cert, exp in rows]
    got = certified_counts(cs, at)
    for course, n in got.items():
        valid = {
            x.person_id
            for x in cs
            if x.course == course
            and x.certificate_id
            and x.completed_on <= at
            and (x.expires_on is None or x.expires_on >= at)
        }
        assert n == len(valid) > 0
    assert set(got) == {x.course for x in cs if x.certified_at(at)}
    merged = merge_certified({"CERT-SALES": 1}, got)
    assert merged["CERT-SALES"] == max(1, got.get("CERT-SALES", 0))
