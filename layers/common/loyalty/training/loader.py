"""The `training/` prefix of the configuration loads (a `loyalty.program.config.FileLoader`): a
training file's good rows are stored (new, unchanged, renewed), its bad rows and the rows that
conflict with what is stored are listed with line, column and reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from loyalty.kernel.csvio.model import FileError, RowIssue
from loyalty.kernel.ports import BlobStore
from loyalty.program.config import LoadReport
from loyalty.program.ports import PartnerLookup
from loyalty.training.files import parse_training
from loyalty.training.ports import TrainingStore
from loyalty.training.records import CONFLICT, NEW, RENEWED, UNCHANGED, Completion, differing

KIND = "training"
PREFIX = "training/"


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class TrainingLoader:
    """Loads `training/*.csv`. `partners` is the registry (a completion of a partner it does not
    know is rejected; None = no check); `today` bounds completed_on (no completion in the future)."""

    def __init__(
        self,
        store: TrainingStore,
        partners: PartnerLookup | None,
        blobs: BlobStore,
        today: Callable[[], dt.date] = utc_today,
    ) -> None:
        self.store = store
        self.partners = partners
        self.blobs = blobs
        self.today = today

    def load(self, key: str) -> LoadReport:
        rep = LoadReport(KIND, key)
        if not key.lower().endswith(".csv"):
            rep.file_error = "a training file is a CSV (training/<name>.csv)"
            return rep
        try:
            parsed = parse_training(self.blobs.open(key), key, self.today(), self._known())
        except FileError as exc:
            rep.file_error = exc.message
            return rep
        outcomes = self.store.put_completions(parsed.completions)
        counts = {NEW: 0, UNCHANGED: len(parsed.repeats), RENEWED: 0}
        conflicts = []
        for c, outcome in zip(parsed.completions, outcomes, strict=True):
            if outcome.startswith(CONFLICT):
                conflicts.append((c, outcome))
            else:
                counts[outcome] += 1
        issues = parsed.issues + self._conflicts(conflicts)
        issues.sort(key=lambda i: i.line)
        rep.rows, rep.issues, rep.rejected = parsed.rows, issues, len(issues)
        rep.accepted = sum(counts.values())
        rep.detail = {**counts, "partners": len({c.partner_id for c in parsed.completions})}
        return rep

    def _conflicts(self, conflicts: list[tuple[Completion, str]]) -> list[RowIssue]:
        """The rows that conflict with a stored completion, under the column that differs."""
        if not conflicts:
            return []
        pids = sorted({c.partner_id for c, _ in conflicts})
        stored = {s.key: s for cs in self.store.completions_of(pids).values() for s in cs}
        out = []
        for c, outcome in conflicts:
            old = stored.get(c.key)
            column, value = differing(old, c) if old is not None else ("course", c.course)
            out.append(RowIssue(c.line, column, value, outcome))
        return out

    def _known(self) -> Callable[[str], bool] | None:
        lookup = self.partners
        if lookup is None:
            return None
        seen: dict[str, bool] = {}

        def known(pid: str) -> bool:
            if pid not in seen:
                seen[pid] = lookup.get_partner(pid) is not None
            return seen[pid]

        return known
