"""Certification as the tiers see it (pure): how many distinct people of a partner hold a valid
certificate of each course on a day, merged with the registry's `certified` column (the initial
import: per course the larger of the two counts, so people certified before training files were
imported keep counting until the files cover them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from loyalty.training.records import Completion


def certified_counts(completions: Iterable[Completion], at: dt.date) -> dict[str, int]:
    """course -> distinct persons holding a certificate of it on `at` (a certificate_id,
    completed on or before `at`, `expires_on` None or on/after `at`)."""
    people: dict[str, set[str]] = {}
    for c in completions:
        if c.certified_at(at):
            people.setdefault(c.course, set()).add(c.person_id)
    return {course: len(who) for course, who in sorted(people.items())}


def merge_certified(registry: Mapping[str, int], training: Mapping[str, int]) -> dict[str, int]:
    """Per course the larger of the registry's count and the training imports' count (the
    registry column is an initial import only: it never adds to what the imports show)."""
    return {c: max(registry.get(c, 0), training.get(c, 0)) for c in sorted({*registry, *training})}


def new_completions(completions: Iterable[Completion], up_to: dt.date) -> list[Completion]:
    """The completions done on or before `up_to` (what a close with that cut-off may award course
    points for; the points context awards each (person, course) once), by (person, course)."""
    return sorted((c for c in completions if c.completed_on <= up_to), key=lambda c: (c.person_id, c.course))
