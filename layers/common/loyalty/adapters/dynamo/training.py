"""Course completions (issue 11) on the single table: one item per (partner, person, course),
`TRAINING#<partner>` / `DONE#<person>#<course>` (`#` and `%` percent-encoded), its completion as
JSON in `data`, and a marker `TRAINING#<partner>` / `HAS` written before a partner's first
completion: the close reads the markers of a batch of partners with BatchGets (100 keys each) and
queries only the partners that have one (most partners never train). A new completion is written only if the key is free, a renewal only if the item
still holds what was judged (a concurrent load of the same key re-reads and judges again); an
unchanged or conflicting row writes nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pynamodb.exceptions import PutError

from loyalty.adapters.dynamo.models import DocItem, Tables
from loyalty.training.records import NEW, RENEWED, Completion, judge

PREFIX = "TRAINING#"
MARKER = "HAS"  # sort key of the partner's "has completions" marker
ATTEMPTS = 5  # re-judging a key a concurrent load changed meanwhile


def enc(value: str) -> str:
    return value.replace("%", "%25").replace("#", "%23")


def pk_of(partner_id: str) -> str:
    return f"{PREFIX}{partner_id}"


def sk_of(person_id: str, course: str) -> str:
    return f"DONE#{enc(person_id)}#{enc(course)}"


def _decode(it: DocItem) -> Completion:
    return Completion.from_json(json.loads(it.data or "{}"))


class TrainingTables(Tables):
    def completions(self, partner_id: str) -> list[Completion]:
        D = self.m.Doc
        got = [
            _decode(it) for it in D.query(pk_of(partner_id), D.sk.startswith("DONE#"), consistent_read=True)
        ]
        return sorted(got, key=lambda c: (c.person_id, c.course))

    def completions_of(self, partner_ids: Sequence[str]) -> dict[str, list[Completion]]:
        D = self.m.Doc
        keys = [(pk_of(p), MARKER) for p in dict.fromkeys(partner_ids)]
        trained = {it.pk[len(PREFIX) :] for it in D.batch_get(keys, consistent_read=True)}
        out = {p: self.completions(p) for p in dict.fromkeys(partner_ids) if p in trained}
        return {p: cs for p, cs in out.items() if cs}

    def put_completions(self, completions: Sequence[Completion]) -> list[str]:
        raw = self._stored([c.key for c in completions])  # key -> the stored item's data
        out = []
        for c in completions:
            for _ in range(ATTEMPTS):
                before = raw.get(c.key)
                outcome = judge(_completion(before), c)
                if outcome not in (NEW, RENEWED):
                    break
                data = json.dumps(c.to_json())
                if before is None:  # the marker first: a crash after it leaves no completion unseen
                    self._mark(c.partner_id)
                if self._write(c, data, before):
                    raw[c.key] = data
                    break
                raw[c.key] = self._read(c.key)  # changed meanwhile: judge what is stored now
            else:
                raise RuntimeError(f"completion {c.key} kept changing over {ATTEMPTS} attempts")
            out.append(outcome)
        return out

    def _stored(self, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], str | None]:
        """The stored items' data of those keys (batched reads)."""
        D = self.m.Doc
        wanted = list(dict.fromkeys((pk_of(p), sk_of(person, course)) for p, person, course in keys))
        out: dict[tuple[str, str, str], str | None] = {}
        for it in D.batch_get(wanted, consistent_read=True):
            out[_decode(it).key] = it.data
        return out

    def _mark(self, partner_id: str) -> None:
        self.m.Doc(pk_of(partner_id), MARKER).save()

    def _read(self, key: tuple[str, str, str]) -> str | None:
        D = self.m.Doc
        try:
            return D.get(pk_of(key[0]), sk_of(key[1], key[2]), consistent_read=True).data
        except D.DoesNotExist:
            return None

    def _write(self, c: Completion, data: str, before: str | None) -> bool:
        """Store `data` as `c`'s item if the item still holds `before` (None: no item)."""
        D = self.m.Doc
        item = D(pk_of(c.partner_id), sk_of(c.person_id, c.course), data=data)
        try:
            item.save(D.pk.does_not_exist() if before is None else D.data == before)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _completion(data: str | None) -> Completion | None:
    return Completion.from_json(json.loads(data)) if data else None
