"""A sale_id sent twice in one upload (issue 9, point 18), as a pure rule: the first line wins,
every later line of the same (partner, sale_id) is rejected naming the lines of both.

Constant memory whatever the file size: nothing is remembered across chunks in the splitter.
One partner's rows all travel in one FIFO message group, in file order, so when a later chunk
meets a sale_id the earlier line is already stored, and the writer reads the stored line of
every sale of its chunk anyway (`SalesStore.get_sales`). A stored line's version is
`<upload version>~<line>`: a stored line written by *this* upload from another line is the first
occurrence. Inside one chunk the first occurrence is found by a dict over the chunk (bounded by
the chunk size). No extra item, no extra read, no extra write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loyalty.earning.commission.model import Accrual
from loyalty.earning.records import StoredSale
from loyalty.kernel.csvio.model import RowIssue

Key = tuple[str, str]  # (partner_id, sale_id)


def line_of(version: str) -> int:
    """The file line that wrote a stored version (`<upload version>~<line>`)."""
    return int(version.rsplit("~", 1)[1])


def _reason(sale_id: str, first: int, again: int) -> str:
    if first < again:
        return f"duplicate sale_id {sale_id}: first on line {first}, again on line {again}"
    # only when the chunk of the earlier line was written after this one (a dead-lettered chunk
    # redriven late): the line already accepted stays, this one is the duplicate
    return f"duplicate sale_id {sale_id}: line {first} of this file was accepted first, again on line {again}"


def first_lines(
    accruals: Sequence[Accrual], stored: Mapping[Key, StoredSale], upload_version: str
) -> tuple[list[Accrual], list[RowIssue]]:
    """The accruals to write (each sale's first line in the upload) and a rejection for every
    later line of a sale, whether its first line is in this chunk or stored by an earlier one."""
    prefix = f"{upload_version}~"
    seen: dict[Key, int] = {}
    kept: list[Accrual] = []
    issues: list[RowIssue] = []
    for acc in accruals:
        r = acc.row
        k = (r.partner_id, r.sale_id)
        first = seen.get(k)
        if first is None:
            cur = stored.get(k)
            if cur is not None and cur.version.startswith(prefix) and line_of(cur.version) != r.line:
                first = line_of(cur.version)
        if first is not None:
            issues.append(RowIssue(r.line, "sale_id", r.sale_id, _reason(r.sale_id, first, r.line)))
            continue
        seen[k] = r.line
        kept.append(acc)
    return kept, issues
