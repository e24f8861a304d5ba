"""What `make demo` leaves to look at (issue 12, point 8): every artifact the demo mentions,
copied from the bucket to `demo-output/` (gitignored) under the same keys, and the paths
printed: statements (HTML and CSV of every partner and month; the PDF, rendered on first
download in the product, for a sample of the last month), bank files, ingest and config
reports, leaderboards, certificates, and the emails partners received (the local outbox)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from loyalty.close.statement_files import PdfUnavailable, StatementPdfs
from loyalty.kernel.ports import BlobStore
from loyalty_local.mail import Captured

EXPORT = Path("demo-output")
# bucket prefixes -> what the demo calls them
GROUPS: tuple[tuple[str, str], ...] = (
    ("statements/", "statements (HTML, CSV, PDF)"),
    ("payouts/", "bank files (CSV, pain.001 XML)"),
    ("reports/ingest/", "ingest reports"),
    ("reports/config/", "config load reports"),
    ("leaderboards/", "leaderboards"),
    ("certificates/", "partner-of-the-month certificates"),
    ("analytics/reports/", "program analytics reports (HTML, JSON)"),
)
PDF_SAMPLE = 5  # statement PDFs rendered for the export (about 0.3-1 s each)


class Files(BlobStore, Protocol):
    def keys(self, prefix: str = "") -> list[str]: ...


@dataclass
class Exported:
    root: Path
    groups: dict[str, list[Path]] = field(default_factory=dict)
    pdf_problem: str = ""

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.groups.values())


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80]


def _pdf_sample(files: Files, statements: Sequence[str], n: int) -> tuple[list[str], str]:
    """Render (as the partner API does on a download) the PDFs of the last month's first `n`
    statements; their keys, or why none could be made."""
    pages = sorted(k for k in statements if k.endswith(".html"))
    if not pages:
        return [], ""
    last = max(k.rsplit("/", 1)[1] for k in pages)
    pdfs = StatementPdfs(files)
    out = []
    for key in [k for k in pages if k.endswith("/" + last)][:n]:
        _, partner, _ = key.split("/", 2)
        try:
            out.append(pdfs.ensure(partner, last.removesuffix(".html")))
        except PdfUnavailable as exc:
            return out, str(exc)
    return out, ""


def export_artifacts(
    files: Files,
    root: Path = EXPORT,
    emails: Callable[[], Sequence[Captured]] | None = None,
    pdf_sample: int = PDF_SAMPLE,
) -> Exported:
    """Copy every artifact to `root` (same keys as in the bucket); emails as HTML pages."""
    done = Exported(root)
    for prefix, title in GROUPS:
        # the splitter's intermediate parts are no report anyone reads
        keys = [k for k in files.keys(prefix) if "/.parts/" not in k]
        if prefix == "statements/":
            pdfs, done.pdf_problem = _pdf_sample(files, keys, pdf_sample)
            keys = sorted({*keys, *pdfs})
        paths = []
        for key in keys:
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files.get(key))
            paths.append(path)
        done.groups[title] = paths
    if emails is not None:
        paths = []
        for i, e in enumerate(emails(), 1):
            path = root / "emails" / f"{i:04d}-{_safe(e.partner_id)}-{_safe(e.kind)}-{e.lang or 'xx'}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(e.html or f"<pre>{e.text}</pre>", encoding="utf-8")
            paths.append(path)
        done.groups["emails partners received"] = paths
    index = root / "index.txt"
    index.write_text(
        "".join(f"# {t}\n" + "".join(f"{p}\n" for p in ps) for t, ps in done.groups.items()), encoding="utf-8"
    )
    return done


def print_exported(done: Exported, examples: int = 3) -> None:
    print(
        f"\nartifacts exported to {done.root}/ ({done.count} files; every path in {done.root / 'index.txt'}):"
    )
    for title, paths in done.groups.items():
        print(f"  {title}: {len(paths)}")
        shown = sorted(paths, key=lambda p: (p.suffix != ".pdf", str(p)))[:examples]
        for p in shown:
            print(f"    {p}")
    if done.pdf_problem:
        print(f"  (statement PDFs: {done.pdf_problem})")
