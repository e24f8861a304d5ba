"""A partner CSV as columnar blocks of rows (:class:`CsvStream`): the quote-free fast path
while the text has no quote, the csv module from the first quote on, both giving the same rows
and line numbers; problem rows become :class:`RowIssue` with their physical line number."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from itertools import chain, islice, repeat
from typing import IO

from loyalty.kernel.csvio.fast import split_columns
from loyalty.kernel.csvio.header import map_header, read_header_line, split_header
from loyalty.kernel.csvio.model import (
    DEFAULT_MAX_LINE_BYTES,
    MARK,
    SAMPLE_BYTES,
    ColumnSpec,
    RawBlock,
    RowIssue,
)
from loyalty.kernel.csvio.sniff import check_sample
from loyalty.kernel.csvio.source import ByteSource, DecodeErrors

csv.field_size_limit(4 * DEFAULT_MAX_LINE_BYTES)


def span(row: list[str]) -> int:
    """How many physical lines a row parsed by the csv module spans (quoted line ends)."""
    text = "".join(row)
    return 1 + text.count("\n") + text.count("\r") - text.count("\r\n")


class CsvStream:
    """A partner CSV as blocks of rows. Attributes once the header is read: encoding, delimiter,
    header, ignored_columns; after iteration: rows (data rows seen), blank_lines.
    """

    def __init__(
        self, raw: IO[bytes], spec: ColumnSpec, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> None:
        self.spec = spec
        sample = bytes(raw.read(SAMPLE_BYTES))
        self.encoding = check_sample(sample)
        self._line_chars = len(sample) / max(1, sample.count(b"\n"))  # about, for the read size
        self._src = ByteSource(sample, raw, max_line_bytes)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._src, buffer_size=256 * 1024),
            encoding=self.encoding,
            errors="loyalty_mark",
            newline="",
        )
        self._marks_seen = 0
        self._decode_base = DecodeErrors.count
        self.blank_lines = 0
        self.rows = 0
        # physical lines before the first data line (blank lines + header)
        header_line, self._offset = read_header_line(self._text)
        self.header, self.delimiter = split_header(header_line)
        self._index, self.ignored_columns = map_header(spec, self.header, self.delimiter)
        self._reader = csv.reader(self._text, delimiter=self.delimiter, strict=False)
        self._csv_from: int | None = 0

    # -- rows ------------------------------------------------------------------------------
    def _pending_marks(self) -> int:
        return (
            len(self._src.long_lines)
            + self._src.nul_bytes
            + (DecodeErrors.count - self._decode_base)
            - self._marks_seen
        )

    def blocks(self, size: int = 512, chunk_chars: int | None = None) -> Iterator[RawBlock]:
        """Blocks of at most `size` rows (512: in the benchmark, blocks of 256 to 512 rows ran 5 to
        10 % faster than blocks of 1 024, as more of a block stays in the CPU cache between its
        passes). Text without any quote character is split with
        `str.split` (columns come out by slicing, no per-row objects); from the first quote on,
        the csv module parses the rest. Both give the same rows and line numbers.

        The text is read `chunk_chars` at a time, by default a little under `size` lines' worth
        (from the sample's line length): a chunk then makes one block, whose strings are still
        in the CPU cache while it is validated and computed."""
        if chunk_chars is None:
            chunk_chars = max(4096, int(size * self._line_chars * 0.9))
        yield from self._quote_free_blocks(size, chunk_chars)
        yield from self._csv_blocks(size)

    def _quote_free_blocks(self, size: int, chunk_chars: int) -> Iterator[RawBlock]:
        offset = self._offset + 1
        carry = ""
        consumed = 0
        while True:
            got = self._whole_lines(carry, chunk_chars)
            if got is None:
                self._csv_from = None
                return
            text, carry = got
            cols, text = self._chunk_columns(text)
            if cols is None and ('"' in text or "\r" in text):
                # quotes or old-Mac line ends: the csv module takes over
                self._reader = csv.reader(
                    chain(io.StringIO(text + carry), self._text), delimiter=self.delimiter, strict=False
                )
                self._csv_from = consumed
                return
            first = consumed
            if cols is not None:
                consumed += len(cols[0])
                yield from self._column_blocks(cols, first + offset, size)
            else:
                lines = text.split("\n")
                lines.pop()
                consumed += len(lines)
                yield from self._line_blocks(lines, first, offset, size)

    def _whole_lines(self, carry: str, chunk_chars: int) -> tuple[str, str] | None:
        """The next text read, `carry` in front, cut after its last line end: (whole lines, the
        rest); at the end of the file the rest gets a line end. None when nothing is left."""
        while True:
            chunk = self._text.read(chunk_chars)
            text = carry + chunk
            if not chunk:
                if not text:
                    return None
                return (text if text.endswith("\n") else text + "\n"), ""
            cut = text.rfind("\n")
            if cut >= 0:
                return text[: cut + 1], text[cut + 1 :]
            carry = text

    def _chunk_columns(self, text: str) -> tuple[list[list[str]] | None, str]:
        """The columns of a chunk of whole lines when it has no quote or marker and every line
        the header's width; else None. And the text, with Windows line ends made "\\n" when it
        has no other carriage return."""
        clean = '"' not in text and MARK not in text
        if clean and text.endswith("\r\n"):  # Windows line ends throughout: split on them
            cols = self._columns(text, "\r\n")
            if cols is not None:
                return cols, text
        if "\r" in text and text.count("\r") == text.count("\r\n"):
            text = text.replace("\r\n", "\n")
        if clean and "\r" not in text:
            return self._columns(text, "\n"), text
        return None, text

    def _column_blocks(self, cols: list[list[str]], first_line: int, size: int) -> Iterator[RawBlock]:
        """Blocks of `size` rows of a chunk's columns (slices, no per-row objects)."""
        n = len(cols[0])
        for a in range(0, n, size):
            b = min(n, a + size)
            self.rows += b - a
            out: list[Sequence[str]] = [
                (cols[i] if b - a == n else cols[i][a:b]) if i >= 0 else tuple(repeat("", b - a))
                for i in self._index
            ]
            yield RawBlock(list(range(first_line + a, first_line + b)), out, [])

    def _line_blocks(self, lines: list[str], first: int, offset: int, size: int) -> Iterator[RawBlock]:
        """Blocks of lines that are not all the header's width (or hold a marker): split one by
        one and sorted into good rows and issues."""
        rows = [line.split(self.delimiter) for line in lines]
        n = len(rows)
        for a in range(0, n, size):
            b = min(n, a + size)
            yield self._classify(list(range(first + a, first + b)), rows[a:b], [], offset)

    def _columns(self, text: str, eol: str = "\n") -> list[list[str]] | None:
        """The columns of `text` (whole lines ending in `eol`, no quotes), or None when some
        line does not have the header's number of fields or another line end."""
        return split_columns(text, self.delimiter, len(self.header), eol)

    def _csv_blocks(self, size: int) -> Iterator[RawBlock]:
        if self._csv_from is None:
            return
        reader = self._reader
        offset = self._offset + 1
        base = self._csv_from  # lines already consumed by the quote-free path
        prev = 0
        while True:
            issues: list[RowIssue] = []
            rows: list[list[str]] = []
            error: csv.Error | None = None
            try:
                rows.extend(islice(reader, size))
            except csv.Error as exc:  # the rows read before the error stay in `rows`
                error = exc
            starts = self._starts(rows, prev, exact=error is None)
            if error is not None:
                at = starts[-1] + span(rows[-1]) if rows else prev
                why = "; probably an unterminated quote" if "field larger" in str(error) else ""
                issues.append(RowIssue(at + base + offset, "", "", f"malformed CSV: {error}{why}"))
            elif not rows:
                return
            prev = reader.line_num
            yield self._classify([st + base for st in starts], rows, issues, offset)

    def _classify(
        self, starts: list[int], rows: list[list[str]], issues: list[RowIssue], offset: int
    ) -> RawBlock:
        width = len(self.header)
        if rows and not self._pending_marks() and len(rows[0]) == width and len(set(map(len, rows))) == 1:
            good_lines = [s + offset for s in starts]
            good = rows
        else:
            good_lines, good = self._sort_rows(starts, rows, issues, offset)
        self.rows += len(good) + len(issues)
        n = len(good)
        if n:
            cols = list(zip(*good, strict=True))
            out: list[Sequence[str]] = [cols[i] if i >= 0 else tuple(repeat("", n)) for i in self._index]
        else:
            out = [() for _ in self._index]
        issues.sort(key=lambda i: i.line)
        return RawBlock(good_lines, out, issues)

    def _sort_rows(
        self, starts: list[int], rows: list[list[str]], issues: list[RowIssue], offset: int
    ) -> tuple[list[int], list[list[str]]]:
        """Row by row: blank lines are counted, problem rows go to `issues`; the good rows and
        their line numbers are returned."""
        good_lines: list[int] = []
        good: list[list[str]] = []
        for start, row in zip(starts, rows, strict=True):
            line = start + offset
            if not row or (len(row) == 1 and not row[0].strip()):
                self.blank_lines += 1
                continue
            issue = self._row_issue(line, row)
            if issue is None:
                good_lines.append(line)
                good.append(row)
            else:
                issues.append(issue)
        return good_lines, good

    def _row_issue(self, line: int, row: list[str]) -> RowIssue | None:
        """What is wrong with a non-blank row: a marker, a swallowed line end, a wrong width."""
        width = len(self.header)
        if self._pending_marks() and MARK in "".join(row):
            return self._mark_issue(line, row)
        if len(row) == width:
            return None
        if any("\n" in v or "\r" in v for v in row):
            n = span(row) - 1
            return RowIssue(
                line,
                "",
                "",
                f"unterminated quote: a '\"' opened on line {line} is never closed and swallowed {n} more line(s)",
            )
        hint = ""
        if len(row) > width and self.delimiter == ",":
            hint = " (an unquoted ',' inside a value, e.g. a decimal comma? quote it or use ';')"
        return RowIssue(line, "", "", f"expected {width} fields, found {len(row)}{hint}")

    def _starts(self, rows: list[list[str]], prev: int, exact: bool) -> list[int]:
        """0-based physical start line (relative to the data) of each row."""
        n = len(rows)
        if exact and self._reader.line_num - prev == n:
            return list(range(prev, prev + n))
        starts = []
        for row in rows:  # some row spans several lines (quoted newlines)
            starts.append(prev)
            prev += span(row)
        return starts

    def _mark_issue(self, line: int, row: list[str]) -> RowIssue:
        self._marks_seen += 1
        if line in self._src.long_lines:
            return RowIssue(line, "", "", f"line longer than {self._src.limit} bytes")
        enc = "UTF-8" if self.encoding.startswith("utf") else self.encoding
        if self._src.nul_bytes:
            return RowIssue(
                line,
                "",
                "",
                f"NUL or invalid {enc} bytes: the row is not text (binary data or mixed encodings)",
            )
        col = next((self.header[i] for i, v in enumerate(row) if MARK in v and i < len(self.header)), "")
        return RowIssue(line, col, "", f"invalid {enc} byte sequence: the file mixes encodings")

    def rows_iter(self) -> Iterator[tuple[int, list[str] | RowIssue]]:
        """Row by row, in file order (for small files: registry, rates)."""
        for block in self.blocks():
            merged: list[tuple[int, list[str] | RowIssue]] = []
            if block.lines:
                merged = [
                    (ln, list(v)) for ln, v in zip(block.lines, zip(*block.cols, strict=True), strict=True)
                ]
            merged += [(i.line, i) for i in block.issues]
            merged.sort(key=lambda t: t[0])
            yield from merged
