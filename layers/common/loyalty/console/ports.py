"""Ports of the finance console: the close's stores it reads (runs, audit trail, registry), the
bucket (the run's review files, the console's own projection, statements, bank files) and a
presigner for downloads."""

from __future__ import annotations

from typing import Protocol

from loyalty.close.ports import AuditTrail, BankFileBlobs, CloseBook, CloseRuns
from loyalty.kernel.ports import BlobStore
from loyalty.program.ports import PartnerLookup


class ConsoleStore(CloseRuns, AuditTrail, CloseBook, PartnerLookup, Protocol):
    """What the console reads of the table: close headers, the audit trail, committed lines and
    the registry (it writes nothing there; decisions go through the approvals service)."""


class ConsoleBlobs(BlobStore, BankFileBlobs, Protocol):
    """The bucket: the run's files (read), the console's projection (`console/`, written once per
    run), statements and bank files (listed, then presigned)."""


class Presigner(Protocol):
    def presign_get(self, key: str, filename: str, expires: int = 300, inline: bool = False) -> str:
        """A GET URL for `key` valid `expires` seconds, answered as an attachment named
        `filename` (`inline`: shown by the browser, e.g. the analytics report page)."""
        ...
