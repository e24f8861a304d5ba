"""Every hostile or malformed file in tests/data/bad/ gets its specific, clear error, and nothing
is lost or half-written: the good rows of a file are accrued, the bad ones listed, the counts
reconcile, and a file-level error writes nothing at all."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from loyalty_local.cloud import LocalCloud

from tests.conftest import balances

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
CASES = json.loads((BAD / "manifest.json").read_text())
LIMIT = "150000"  # MaxUploadBytes of this stack: over_size_limit.csv is larger


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, Any]:
    from loyalty.ingest.keys import report_base

    from tests.conftest import load_program

    cloud = LocalCloud(
        stack_name="bad-corpus", parameters={"MaxUploadBytes": LIMIT, "ChunkRows": "500"}, start_mock=False
    )
    cloud.start()
    try:
        load_program(cloud)
        for case in CASES:
            cloud.upload(case["key"], (BAD / case["file"]).read_bytes())
            cloud.settle()
        out: dict[str, Any] = {}
        for case in CASES:
            s = cloud.read_json(report_base(case["key"]) + ".summary.json")
            errors = cloud.read_bytes(s["errors_report"]).decode() if s.get("errors_report") else ""
            out[case["file"]] = {"summary": s, "errors": errors}
        out["_balances"] = balances(cloud, ["P00001", "P00002", "P00003"], ["2026-10"])
        return out
    finally:
        cloud.stop()


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_file_gets_its_specific_error(case: dict[str, Any], corpus_results: dict[str, Any]) -> None:
    got = corpus_results[case["file"]]
    s, expect = got["summary"], case["expect"]
    assert s["reconciled"], s
    if "file_error" in expect:
        assert s["status"] == "rejected"
        assert s["file_error"]["code"] == expect["file_error"], s["file_error"]
        assert len(s["file_error"]["message"]) > 20  # says what and why
        assert s["accepted"] == 0 and s["new"] == 0 and s["partners"] == {}  # nothing half-written
        return
    assert s["status"] == "processed"
    assert s["accepted"] == expect["accepted"]
    rows = list(csv.DictReader(io.StringIO(got["errors"])))
    assert s["rejected"] == len(expect["row_errors"]) == len(rows)
    assert s["rows"] == s["accepted"] + s["rejected"]
    for (line, column, reason), row in zip(expect["row_errors"], rows, strict=True):
        assert int(row["line"]) == line, row
        assert row["column"] == column, row
        assert reason in row["reason"], row
    if expect.get("errors_csv_safe"):
        for row in rows:
            assert not row["value"].startswith(("=", "+", "@", "-")), row


def test_only_good_rows_reached_the_balances(corpus_results: dict[str, Any]) -> None:
    accepted = sum(
        v["summary"]["accepted"]
        for k, v in corpus_results.items()
        if k != "_balances" and not v["summary"].get("file_error")
    )
    lines = corpus_results["_balances"]
    stored = {line[0] for p in ("P00001", "P00002", "P00003") for line in lines[f"{p}/lines"]}
    # the good rows of the corpus reuse sale ids S1..Sn across files: later files replace them
    assert 0 < len(stored) <= accepted
    assert not any(
        sid.startswith(("B", "N", "C", "L", "I", "M", "Z", "O", "U", "D", "W", "T", "Q")) for sid in stored
    )


def test_corpus_files_are_what_the_manifest_says() -> None:
    for case in CASES:
        assert (BAD / case["file"]).exists(), case["file"]
