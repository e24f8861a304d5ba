"""Issue 11, point 2: a training file is read like every partner CSV (`,`/`;`, UTF-8 / BOM /
Windows-1251, header aliases) and every row is accepted or rejected with line, column, reason."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from loyalty.kernel.csvio.model import FileError
from loyalty.training.files import parse_training
from loyalty.training.records import Completion

TODAY = dt.date(2026, 10, 15)
HEADER = "partner_id,person_id,course,completed_on,certificate_id,expires_on"


def parse(text: str | bytes, known: set[str] | None = None, today: dt.date = TODAY):  # type: ignore[no-untyped-def]
    raw = text.encode() if isinstance(text, str) else text
    return parse_training(
        io.BytesIO(raw), "training/t.csv", today, None if known is None else known.__contains__
    )


def test_good_rows_become_completions_with_their_source_and_line() -> None:
    got = parse(
        f"{HEADER}\nP00001,E-1,CERT-SALES,2026-03-01,C-100,2028-03-01\nP00001,E-2,ONBOARDING,2026-04-02,,\n"
    )
    assert got.issues == [] and got.rows == 2
    assert got.completions == [
        Completion(
            "P00001",
            "E-1",
            "CERT-SALES",
            dt.date(2026, 3, 1),
            "C-100",
            dt.date(2028, 3, 1),
            "training/t.csv",
            2,
        ),
        Completion("P00001", "E-2", "ONBOARDING", dt.date(2026, 4, 2), "", None, "training/t.csv", 3),
    ]


def test_semicolons_cp1251_and_header_aliases() -> None:
    body = "Partner;Employee;Course ID;Completion date;Certificate\nP00001;Иван-1;CERT-SALES;2026-03-01;Сертификат-1\n"
    got = parse(body.encode("cp1251"))
    (c,) = got.completions
    assert (c.person_id, c.certificate_id, c.expires_on) == ("Иван-1", "Сертификат-1", None)
    bom = ("\ufeff" + body).encode("utf-8")
    assert [x.person_id for x in parse(bom).completions] == ["Иван-1"]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",E-1,CERT-SALES,2026-03-01,C-1,", "partner_id", "partner_id is empty"),
        ("P00001,,CERT-SALES,2026-03-01,C-1,", "person_id", "person_id is empty"),
        ("P00001,E-1,,2026-03-01,C-1,", "course", "course is empty"),
        ("P00001,=cmd(),CERT-SALES,2026-03-01,C-1,", "person_id", "not a formula"),
        ("P00001,E-1,CERT-SALES,01.03.2026,C-1,", "completed_on", "not an ISO date"),
        ("P00001,E-1,CERT-SALES,2026-02-30,C-1,", "completed_on", "not an ISO date"),
        ("P00001,E-1,CERT-SALES,2026-10-16,C-1,", "completed_on", "in the future (today is 2026-10-15)"),
        ("P00001,E-1,CERT-SALES,2026-03-01,C-1,2026-02-28", "expires_on", "before completed_on (2026-03-01)"),
        ("P00001,E-1,CERT-SALES,2026-03-01,C-1,never", "expires_on", "not an ISO date"),
        ("P00001,E-1,CERT-SALES,2026-03-01,,2027-03-01", "expires_on", "an expiry needs a certificate_id"),
        ("P00001,E-1,CERT-SALES,2026-03-01,@C-1,", "certificate_id", "not a formula"),
        ("P00001,E-1,CERT-SALES,2026-03-01", "", "expected 6 fields, found 4"),
    ],
)
def test_each_bad_row_is_rejected_with_line_column_and_reason(row: str, column: str, reason: str) -> None:
    got = parse(f"{HEADER}\nP00002,E-9,CERT-PRE,2026-01-01,C-9,\n{row}\n")
    assert [c.person_id for c in got.completions] == ["E-9"]
    (issue,) = got.issues
    assert (issue.line, issue.column) == (3, column)
    assert reason in issue.reason
    assert got.rows == 2


def test_a_completion_on_today_and_an_expiry_on_the_completion_day_are_fine() -> None:
    got = parse(f"{HEADER}\nP00001,E-1,CERT-SALES,2026-10-15,C-1,2026-10-15\n")
    assert got.issues == [] and len(got.completions) == 1


def test_unknown_partners_are_rejected_when_the_registry_is_given() -> None:
    body = f"{HEADER}\nP00001,E-1,CERT-SALES,2026-03-01,C-1,\nP00077,E-2,CERT-SALES,2026-03-01,C-2,\n"
    got = parse(body, known={"P00001"})
    assert [c.partner_id for c in got.completions] == ["P00001"]
    (issue,) = got.issues
    assert (issue.line, issue.column, issue.value) == (3, "partner_id", "P00077")
    assert "unknown partner P00077" in issue.reason
    assert len(parse(body).completions) == 2  # no registry to check against


def test_a_key_repeated_in_the_file_with_other_values_is_rejected_an_exact_repeat_is_not() -> None:
    got = parse(
        f"{HEADER}\n"
        "P00001,E-1,CERT-SALES,2026-03-01,C-1,\n"
        "P00001,E-1,CERT-SALES,2026-03-01,C-1,\n"
        "P00001,E-1,CERT-SALES,2026-04-01,C-2,\n"
        "P00002,E-1,CERT-SALES,2026-04-01,C-3,\n"
    )
    assert [(c.partner_id, c.line) for c in got.completions] == [("P00001", 2), ("P00002", 5)]
    assert got.repeats == [3]
    (issue,) = got.issues
    assert issue.line == 4 and "already on line 2" in issue.reason and "C-1" in issue.reason
    assert got.rows == len(got.completions) + len(got.repeats) + len(got.issues)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_file"),
        (b"partner_id,person_id,course\nP1,E,C\n", "missing_columns"),
        (b"\xff\xfep\x00a\x00", "unsupported_encoding"),
    ],
)
def test_whole_file_problems_raise_file_errors(body: bytes, code: str) -> None:
    with pytest.raises(FileError) as exc:
        parse(body)
    assert exc.value.code == code
