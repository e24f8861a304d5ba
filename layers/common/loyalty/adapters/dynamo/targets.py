"""Target sets (issue 10) on the single table: one version of the target book is a header item
`TARGETS` / `SET#<from>#<version>` (its part count) and its targets in parts
`TARGETS` / `SET#<from>#<version>#P<nnnn>` of at most PART_BYTES of JSON each (an item holds at
most 400 KB; a book may have thousands of targets). Parts are written first and the header last,
conditionally: a set is visible only once whole, and written once."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from loyalty.adapters.dynamo.models import Tables
from loyalty.program.targets import TargetSet, check_new

PK = "TARGETS"
PART_BYTES = 300_000


def parts_of(ts: TargetSet) -> list[str]:
    """The set's targets as JSON arrays of at most PART_BYTES each (at least one)."""
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for t in ts.targets:
        d = t.to_json()
        n = len(json.dumps(d)) + 2
        if parts[-1] and size + n > PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(d)
        size += n
    return [json.dumps(p) for p in parts]


class TargetTables(Tables):
    def target_sets(self) -> list[TargetSet]:
        D = self.m.Doc
        heads: dict[str, dict[str, Any]] = {}
        parts: dict[str, dict[int, list[Any]]] = defaultdict(dict)
        for it in D.query(PK, D.sk.startswith("SET#"), consistent_read=True):
            key, _, part = it.sk[len("SET#") :].partition("#P")
            if part:
                parts[key][int(part)] = json.loads(it.data or "[]")
            else:
                heads[key] = {**json.loads(it.data or "{}"), "n": int(it.n or 0)}
        out = []
        for key in sorted(heads):
            head = heads[key]
            got = parts.get(key, {})
            if any(i not in got for i in range(head["n"])):
                continue  # not whole (cannot happen once the header is written)
            targets = [t for i in range(head["n"]) for t in got[i]]
            out.append(TargetSet.from_json({**head, "targets": targets}))
        return out

    def put_target_set(self, ts: TargetSet, source: str) -> bool:
        if not check_new(ts, self.target_sets()):
            return False
        D = self.m.Doc
        chunks = parts_of(ts)
        with D.batch_write() as batch:
            for i, data in enumerate(chunks):
                batch.save(D(PK, f"SET#{ts.key}#P{i:04d}", data=data))
        head = {"version": ts.version, "effective_from": ts.effective_from.isoformat(), "source": source}
        D(PK, f"SET#{ts.key}", data=json.dumps(head), n=len(chunks)).save(D.pk.does_not_exist())
        return True
