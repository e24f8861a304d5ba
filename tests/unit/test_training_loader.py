"""Issue 11, point 2: a `training/` upload through the configuration loads (in memory): the report
accounts for every row (new, unchanged, renewed, rejected with line, column and reason) and a
re-import changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from loyalty.adapters.memory import MemoryBlobs, MemoryStore
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.training.loader import TrainingLoader
from loyalty.training.records import Completion

from tests.conftest import REGISTRY, RULES

HEAD = b"partner_id,person_id,course,completed_on,certificate_id,expires_on\n"


def program() -> MemoryContainer:
    c = MemoryContainer(today=dt.date(2026, 10, 15))
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    return c


def load(c: MemoryContainer, key: str, body: bytes) -> dict[str, Any]:
    c.blobs.put(key, body, "text/csv")
    report = c.config().handle(key).to_json()
    assert json.loads(c.blobs.get(f"reports/config/{key}.report.json"))["rows"] == report["rows"]
    return report


def test_a_training_upload_is_stored_row_by_row_and_announced() -> None:
    c = program()
    body = HEAD + (
        b"P00001,E-1,CERT-SALES,2026-03-01,C-1,2028-03-01\n"
        b"P00077,E-1,CERT-SALES,2026-03-01,C-2,\n"
        b"P00002,E-2,CERT-SALES,2026-11-01,C-3,\n"
        b"P00002,E-3,ONBOARDING,2026-04-01,,\n"
    )
    r = load(c, "training/2026-q1.csv", body)
    assert (r["kind"], r["status"], r["rows"], r["accepted"], r["rejected"]) == (
        "training",
        "processed",
        4,
        2,
        2,
    )
    assert (r["new"], r["unchanged"], r["renewed"], r["reconciled"]) == (2, 0, 0, True)
    assert [(e["line"], e["column"]) for e in r["errors"]] == [(3, "partner_id"), (4, "completed_on")]
    assert "unknown partner P00077" in r["errors"][0]["reason"]
    (cert,) = c.store.completions("P00001")
    assert (cert.certificate_id, cert.source, cert.line) == ("C-1", "training/2026-q1.csv", 2)
    (note,) = [p for p in c.notifier.published if p.attributes["type"] == "training_loaded"]
    assert note.message["new"] == 2


def test_reimport_renewal_and_conflict_are_reported() -> None:
    c = program()
    load(
        c,
        "training/a.csv",
        HEAD + b"P00001,E-1,CERT-SALES,2026-03-01,C-1,2027-03-01\nP00001,E-2,CERT-PRE,2026-03-01,C-5,\n",
    )
    again = load(c, "training/a-copy.csv", HEAD + b"P00001,E-1,CERT-SALES,2026-03-01,C-1,2027-03-01\n")
    assert (again["accepted"], again["unchanged"], again["new"]) == (1, 1, 0)
    body = HEAD + (
        b"P00001,E-1,CERT-SALES,2026-09-01,C-2,2028-09-01\n"  # renewal
        b"P00001,E-2,CERT-PRE,2026-03-01,C-6,\n"  # same day, another certificate: conflict
        b"P00001,E-2,CERT-PRE,2026-03-01,C-6,\n"  # an exact repeat of the row above
    )
    r = load(c, "training/b.csv", body)
    assert (r["renewed"], r["unchanged"], r["accepted"], r["rejected"], r["reconciled"]) == (1, 1, 2, 1, True)
    (e,) = r["errors"]
    assert (e["line"], e["column"], e["value"]) == (3, "certificate_id", "C-6")
    assert e["reason"].startswith("conflict: stored completed 2026-03-01, C-5 (training/a.csv line 3)")
    got = {x.person_id: x.certificate_id for x in c.store.completions("P00001")}
    assert got == {"E-1": "C-2", "E-2": "C-5"}


def test_file_errors_and_other_names_load_nothing() -> None:
    c = program()
    r = load(c, "training/empty.csv", b"")
    assert (r["status"], r["file_error"]) == (
        "rejected",
        "the file is empty: no header line and no rows (was the export interrupted?)",
    )
    r = load(c, "training/t.xlsx", HEAD)
    assert r["status"] == "rejected" and "CSV" in r["file_error"]
    assert c.store.completions_of(["P00001", "P00002"]) == {}


def test_without_a_registry_lookup_every_partner_is_taken() -> None:
    store, blobs = MemoryStore(), MemoryBlobs()
    blobs.put("training/t.csv", HEAD + b"P00077,E-1,CERT-SALES,2026-03-01,C-1,\n", "text/csv")
    rep = TrainingLoader(store, None, blobs, lambda: dt.date(2026, 10, 15)).load("training/t.csv")
    assert (rep.accepted, rep.rejected, rep.detail["new"]) == (1, 0, 1)
    assert store.completions("P00077") == [
        Completion("P00077", "E-1", "CERT-SALES", dt.date(2026, 3, 1), "C-1", None, "training/t.csv", 2)
    ]
