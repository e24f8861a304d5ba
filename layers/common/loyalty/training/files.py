"""`training/*.csv`: one course completion per row (partner_id, person_id, course, completed_on,
certificate_id, optional expires_on). Read like every partner CSV (`loyalty.kernel.csvio`: UTF-8
with or without BOM or Windows-1251, `,` or `;`, header aliases, per-row problems with their
line); every row is accepted or rejected with its line, column and reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from loyalty.kernel.csvio.model import ColumnSpec, FileError, RowIssue
from loyalty.kernel.csvio.stream import CsvStream
from loyalty.kernel.ids import ID_RE, PARTNER_ID_RE, is_formula
from loyalty.training.records import Completion

TRAINING_SPEC = ColumnSpec(
    columns=("partner_id", "person_id", "course", "completed_on", "certificate_id", "expires_on"),
    required=frozenset({"partner_id", "person_id", "course", "completed_on", "certificate_id"}),
    aliases={
        "partner": "partner_id",
        "person": "person_id",
        "employee": "person_id",
        "employee_id": "person_id",
        "course_id": "course",
        "completed": "completed_on",
        "completion_date": "completed_on",
        "certificate": "certificate_id",
        "cert_id": "certificate_id",
        "expires": "expires_on",
        "valid_until": "expires_on",
    },
)
MAX_ROWS = 50_000  # one ConfigLoader invocation stores them (conditional writes, 5 minutes)


class _Fields(NamedTuple):
    partner_id: str
    person_id: str
    course: str
    completed_on: str
    certificate_id: str
    expires_on: str


@dataclass
class TrainingFile:
    """What a training file holds: the good rows (first of each key), the rejected rows, the data
    rows read, and the lines that repeat an earlier row exactly (accepted, nothing to store)."""

    completions: list[Completion] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    rows: int = 0
    repeats: list[int] = field(default_factory=list)


def parse_training(
    raw: IO[bytes],
    source: str,
    today: dt.date,
    partner_known: Callable[[str], bool] | None = None,
) -> TrainingFile:
    """The completions of a training file. `partner_known` (the registry) rejects unknown
    partners; None = no registry to check against. A completion dated after `today` is rejected.
    Raises `FileError` for what no row can fix (empty, binary, missing columns, too many rows)."""
    stream = CsvStream(raw, TRAINING_SPEC)
    out = TrainingFile()
    first: dict[tuple[str, str, str], Completion] = {}
    for line, values in stream.rows_iter():
        out.rows += 1
        if out.rows > MAX_ROWS:
            raise FileError("too_many_rows", f"at most {MAX_ROWS} rows per training file; split it")
        if isinstance(values, RowIssue):
            out.issues.append(values)
            continue
        got = check_row(line, _Fields._make(v.strip() for v in values), source, today, partner_known)
        if isinstance(got, RowIssue):
            out.issues.append(got)
            continue
        seen = first.get(got.key)
        if seen is None:
            first[got.key] = got
            out.completions.append(got)
        elif seen.content() == got.content():
            out.repeats.append(line)
        else:
            out.issues.append(
                RowIssue(
                    line,
                    "course",
                    got.course,
                    f"{got.person_id} / {got.course} is already on line {seen.line} with other "
                    f"values ({seen.describe()}): one row per partner, person and course",
                )
            )
    out.issues.sort(key=lambda i: i.line)
    return out


def check_row(
    line: int,
    f: _Fields,
    source: str,
    today: dt.date,
    partner_known: Callable[[str], bool] | None,
) -> Completion | RowIssue:
    """One row -> its completion, or its first problem."""
    problem = _partner_problem(line, f.partner_id, partner_known) or _id_problem(line, f)
    if problem is not None:
        return problem
    dates = _dates(line, f, today)
    if isinstance(dates, RowIssue):
        return dates
    completed, expires = dates
    return Completion(f.partner_id, f.person_id, f.course, completed, f.certificate_id, expires, source, line)


def _partner_problem(line: int, pid: str, partner_known: Callable[[str], bool] | None) -> RowIssue | None:
    if not pid:
        return RowIssue(line, "partner_id", "", "partner_id is empty")
    if not PARTNER_ID_RE.match(pid):
        return RowIssue(
            line, "partner_id", pid, "partner_id must be 1-64 letters, digits, space, '_', '.', '-'"
        )
    if partner_known is not None and not partner_known(pid):
        return RowIssue(line, "partner_id", pid, f"unknown partner {pid} (not in the registry)")
    return None


def _id_problem(line: int, f: _Fields) -> RowIssue | None:
    for col, value in (("person_id", f.person_id), ("course", f.course)):
        if not value:
            return RowIssue(line, col, "", f"{col} is empty")
        if not ID_RE.match(value) or is_formula(value):
            return RowIssue(line, col, value, f"{col} must be up to 64 printable characters, not a formula")
    cert = f.certificate_id
    if cert and (not ID_RE.match(cert) or is_formula(cert)):
        return RowIssue(
            line,
            "certificate_id",
            cert,
            "certificate_id must be up to 64 printable characters, not a formula",
        )
    return None


def _dates(line: int, f: _Fields, today: dt.date) -> tuple[dt.date, dt.date | None] | RowIssue:
    """(completed_on, expires_on) of a row, or the problem with them."""
    completed = _date(f.completed_on)
    if completed is None:
        return RowIssue(line, "completed_on", f.completed_on, "not an ISO date (YYYY-MM-DD)")
    if completed > today:
        return RowIssue(line, "completed_on", f.completed_on, f"in the future (today is {today.isoformat()})")
    expires = _date(f.expires_on) if f.expires_on else None
    reason = ""
    if f.expires_on and expires is None:
        reason = "not an ISO date (YYYY-MM-DD)"
    elif expires is not None and not f.certificate_id:
        reason = "an expiry needs a certificate_id"
    elif expires is not None and expires < completed:
        reason = f"before completed_on ({completed.isoformat()})"
    return RowIssue(line, "expires_on", f.expires_on, reason) if reason else (completed, expires)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
