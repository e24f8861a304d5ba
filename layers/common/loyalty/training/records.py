"""The training context's record: one person's completion of one course, and the rule that
decides what a re-import of a (partner, person, course) does to the stored one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# outcomes of storing a completion (`TrainingStore.put_completions`)
NEW, UNCHANGED, RENEWED, CONFLICT = "new", "unchanged", "renewed", "conflict"


@dataclass(frozen=True)
class Completion:
    """`person_id` of `partner_id` completed `course` on `completed_on`; `certificate_id` is the
    certificate it earned ("" = none), valid until `expires_on` inclusive (None = no expiry).
    `source` and `line` say where it was imported from (the upload key and its line)."""

    partner_id: str
    person_id: str
    course: str
    completed_on: dt.date
    certificate_id: str = ""
    expires_on: dt.date | None = None
    source: str = ""
    line: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        """The identity a re-import is judged by."""
        return (self.partner_id, self.person_id, self.course)

    def content(self) -> tuple[dt.date, str, dt.date | None]:
        """What the completion says (its identity and where it came from aside)."""
        return (self.completed_on, self.certificate_id, self.expires_on)

    def certified_at(self, at: dt.date) -> bool:
        """A certificate that counts on `at`: held, earned on or before `at`, not yet expired."""
        return (
            bool(self.certificate_id)
            and self.completed_on <= at
            and (self.expires_on is None or self.expires_on >= at)
        )

    def describe(self) -> str:
        cert = self.certificate_id or "no certificate"
        until = f", expires {self.expires_on.isoformat()}" if self.expires_on else ""
        return f"completed {self.completed_on.isoformat()}, {cert}{until}"

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "person_id": self.person_id,
            "course": self.course,
            "completed_on": self.completed_on.isoformat(),
            "certificate_id": self.certificate_id,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "source": self.source,
            "line": self.line,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Completion:
        exp = d.get("expires_on")
        return cls(
            partner_id=str(d["partner_id"]),
            person_id=str(d["person_id"]),
            course=str(d["course"]),
            completed_on=dt.date.fromisoformat(str(d["completed_on"])),
            certificate_id=str(d.get("certificate_id") or ""),
            expires_on=dt.date.fromisoformat(str(exp)) if exp else None,
            source=str(d.get("source", "")),
            line=int(d.get("line", 0)),
        )


def judge(stored: Completion | None, new: Completion) -> str:
    """What storing `new` over `stored` (same key) is: "new", "unchanged" (same content), "renewed"
    (a later completion with another certificate: the certificate and its expiry are replaced) or
    "conflict: ..." naming the stored values (anything else: nothing is written)."""
    if stored is None:
        return NEW
    if stored.content() == new.content():
        return UNCHANGED
    if (
        new.completed_on > stored.completed_on
        and new.certificate_id
        and new.certificate_id != stored.certificate_id
    ):
        return RENEWED
    if new.completed_on > stored.completed_on:
        why = "a later completion renews only with a new certificate_id"
    elif new.completed_on < stored.completed_on:
        why = "this row is older than the stored completion"
    else:
        why = "the same completion with other values"
    where = f" ({stored.source} line {stored.line})" if stored.source else ""
    return f"{CONFLICT}: stored {stored.describe()}{where}; {why}"


def differing(stored: Completion, new: Completion) -> tuple[str, str]:
    """(column, the new row's value) of the first value in which `new` differs from `stored`."""
    if new.completed_on != stored.completed_on:
        return "completed_on", new.completed_on.isoformat()
    if new.certificate_id != stored.certificate_id:
        return "certificate_id", new.certificate_id
    return "expires_on", new.expires_on.isoformat() if new.expires_on else ""
