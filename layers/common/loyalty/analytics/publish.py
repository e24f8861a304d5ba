"""The analytics step of the close (after Finish): the batches' fact rows become Parquet in the
bucket, parts a re-run no longer writes are removed, and the period's report is built with DuckDB
over the trailing 13 months (and each pilot's window), written as JSON and HTML and announced to the program managers.

Re-running it for a period gives the same files: part N of a period is batch N of the manifest
(the same partners in the same order while the registry is unchanged); a re-run with fewer
batches deletes the parts beyond them. The announcement is sent once per run (a marker object
written after it: a crash between the two sends it again, never not at all).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loyalty.analytics.engine import DuckDBEngine, QueryEngine
from loyalty.analytics.files import download_facts
from loyalty.analytics.parquet import write_parquet
from loyalty.analytics.ports import FactsFiles
from loyalty.analytics.report import report_periods
from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH, ROOT, TABLES, report_key
from loyalty.kernel.clock import iso_seconds
from loyalty.kernel.ports import MissingBlob, Notifier
from loyalty.program.rules import RuleVersion

PARQUET = "application/vnd.apache.parquet"

BuildReport = Callable[[QueryEngine, str, Sequence[RuleVersion], str], Mapping[str, Any]]
RenderReport = Callable[[Mapping[str, Any]], bytes]
KeyFigures = Callable[[Mapping[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class Published:
    period: str
    run: str
    partners: int
    line_groups: int
    parts: int
    removed: int
    facts_bytes: int
    report_html: str
    report_json: str
    notified: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def notified_key(period: str, run: str) -> str:
    return f"{ROOT}/reports/{period}/notified-{run}.json"


class AnalyticsPublisher:
    def __init__(
        self,
        files: FactsFiles,
        program_topic: Notifier,
        build: BuildReport,
        render: RenderReport,
        figures: KeyFigures,
        workdir: Path | None = None,
        memory_limit: str = "",
    ) -> None:
        self.files = files
        self.topic = program_topic
        self.build, self.render, self.figures = build, render, figures
        self.workdir = workdir
        self.memory_limit = memory_limit

    def write_facts(self, period: str, batches: Iterable[Mapping[str, Any]], tmp: Path) -> tuple[int, ...]:
        """Each batch's rows -> its part of each table; then the parts no batch wrote go."""
        written: set[str] = set()
        partners = groups = size = 0
        for part, facts in enumerate(batches):
            for table in TABLES.values():
                dest = tmp / "out" / table.part_key(period, part)
                count = write_parquet(table, facts.get(table.name, []), dest)
                body = dest.read_bytes()
                key = table.part_key(period, part)
                self.files.put(key, body, PARQUET)
                written.add(key)
                size += len(body)
                partners += count if table is PARTNER_MONTH else 0
                groups += count if table is LINE_MONTH else 0
        removed = 0
        for table in TABLES.values():
            for key in self.files.keys(table.partition(period)):
                if key not in written:
                    self.files.delete(key)
                    removed += 1
        parts = len(written) // len(TABLES)
        return partners, groups, parts, removed, size

    def publish(
        self,
        period: str,
        run: str,
        batches: Iterable[Mapping[str, Any]],
        versions: Sequence[RuleVersion],
        now: dt.datetime,
    ) -> Published:
        with tempfile.TemporaryDirectory(prefix="analytics-", dir=self.workdir) as tmpdir:
            tmp = Path(tmpdir)
            partners, groups, parts, removed, size = self.write_facts(period, batches, tmp)
            root = tmp / "facts"
            # the trailing 13 months and each pilot's panel window (before and since its start)
            download_facts(self.files, report_periods(period, versions), root)
            engine = DuckDBEngine(root, self.memory_limit)
            try:
                report = self.build(engine, period, versions, iso_seconds(now))
            finally:
                engine.close()
        html_key, json_key = report_key(period, "html"), report_key(period, "json")
        self.files.put(json_key, json.dumps(report, indent=1).encode(), "application/json")
        self.files.put(html_key, self.render(report), "text/html; charset=utf-8")
        notified = self._announce(period, run, report, html_key)
        return Published(period, run, partners, groups, parts, removed, size, html_key, json_key, notified)

    def _announce(self, period: str, run: str, report: Mapping[str, Any], html_key: str) -> bool:
        marker = notified_key(period, run)
        try:
            self.files.get(marker)
            return False  # announced by an earlier attempt of this run
        except MissingBlob:
            pass
        figures = self.figures(report)
        message = {
            "kind": "program_analytics",
            "period": period,
            "run": run,
            "report": html_key,
            "key_figures": [[k, v] for k, v in figures],
            "warnings": list(report.get("warnings", []))[:20],
            "pilots": len(report.get("pilots", [])),
        }
        self.topic.publish(
            f"Program analytics {period}", message, {"kind": "program_analytics", "period": period}
        )
        self.files.put(marker, json.dumps({"run": run}).encode(), "application/json")
        return True
