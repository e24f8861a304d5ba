"""Partner loyalty & rewards platform: the shared library shipped as the `common` Lambda layer.

Bounded contexts, each importing only those before it (enforced by import-linter, `make lint`):

- `kernel`   money, currencies, periods, ids, IBAN, identity, clock, tabular I/O, shared ports
- `program`  rule versions, FX rates, the partner registry, configuration loads
- `ingest`   the sales-file contract, upload keys, the splitter, chunks, finaliser, dead letters
- `earning`  commission per line, the accrual writer, month totals, balances
- `close`    tier review, ledger, proposal, approvals, bank files, statements, the close steps

Contexts never import boto3 or pynamodb: AWS access lives in :mod:`loyalty.adapters`, and
:mod:`loyalty.wiring` builds the services of one Lambda container from :mod:`loyalty.settings`.
"""

__version__ = "0.1.0"
