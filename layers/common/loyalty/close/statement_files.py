"""Where a partner's statement files are, and its PDF made on first download.

The close writes each statement's HTML and CSV (`statements/<partner>/<period>.html|.csv`). The
PDF is rendered from that stored page the first time someone asks for it and kept next to it
(`.pdf`): one WeasyPrint render costs about 0.3 s for a 10-line statement and 0.9 s for 50 lines,
which at close time would add an hour or more of CPU to a 10 000-partner close for files most
partners never open (docs/statements.md). The PDF is the stored page, so it says exactly what
the HTML says (same template, same language)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from loyalty.close.statement_render import statement_pdf
from loyalty.kernel.periods import check_period
from loyalty.kernel.ports import BlobStore, MissingBlob

Kind = Literal["html", "csv", "pdf"]
CONTENT_TYPES: dict[str, str] = {"html": "text/html", "csv": "text/csv", "pdf": "application/pdf"}


class PdfUnavailable(Exception):
    """This host cannot render PDFs (WeasyPrint's native libraries are missing)."""


def statement_key(partner_id: str, period: str, kind: Kind) -> str:
    return f"statements/{partner_id}/{check_period(period)}.{kind}"


class StatementPdfs:
    """`ensure(partner, period)`: the key of the statement's PDF, rendered once from its page."""

    def __init__(self, blobs: BlobStore, render: Callable[[bytes], bytes] = statement_pdf) -> None:
        self.blobs, self.render = blobs, render

    def ensure(self, partner_id: str, period: str) -> str:
        """The PDF's key. `MissingBlob` if the partner has no statement for `period`;
        `PdfUnavailable` if this host cannot render one."""
        key = statement_key(partner_id, period, "pdf")
        try:
            self.blobs.get(key)
            return key
        except MissingBlob:
            pass
        page = self.blobs.get(statement_key(partner_id, period, "html"))
        try:
            pdf = self.render(page)
        # no Pango on this host, or no PdfLayer: say so, never a 5xx without a reason
        except (OSError, ImportError) as exc:
            raise PdfUnavailable(f"PDF statements cannot be rendered here: {exc}") from exc
        self.blobs.put(key, pdf, CONTENT_TYPES["pdf"])
        return key
