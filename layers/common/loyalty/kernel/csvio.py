"""Streaming CSV reading for partner files: encoding and delimiter detection, header aliases,
bounded line length, per-row errors with line numbers, constant memory whatever the file size.

Whole-file problems raise :class:`FileError`. Rows come out in columnar blocks
(:class:`RawBlock`): well-formed rows as columns in the order of the :class:`ColumnSpec`, and
problem rows as :class:`RowIssue` so that every row ends in exactly one place.

Speed: the csv module does the parsing in C; over-long lines are found with a regex over raw
chunks, undecodable bytes by a codec error handler, so the per-row Python work is a few list
appends. Both problems leave a marker character (U+001A) in the row, and only while a marker is
pending are rows searched for it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from typing import IO

from loyalty.kernel.ids import FORMULA_PRINTABLE

SAMPLE_BYTES = 64 * 1024
DEFAULT_MAX_LINE_BYTES = 8 * 1024
MARK = "\x1a"
_MARK_B = b"\x1a"
csv.field_size_limit(4 * DEFAULT_MAX_LINE_BYTES)


class FileError(Exception):
    """A problem with the whole file; `code` is stable, `message` says what and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class RowIssue:
    line: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class ColumnSpec:
    """Canonical columns, which are required, and accepted header aliases."""

    columns: Sequence[str]
    required: frozenset[str]
    aliases: dict[str, str] = field(default_factory=dict)  # normalized alias -> canonical

    def canonical(self, header: str) -> str | None:
        norm = normalize_header(header)
        if norm in self.columns:
            return norm
        return self.aliases.get(norm)


@dataclass(slots=True)
class RawBlock:
    """Up to `size` rows: `cols[k]` is the k-th spec column of the good rows (strings, as read)."""

    lines: list[int]
    cols: list[Sequence[str]]
    issues: list[RowIssue]

    def __len__(self) -> int:
        return len(self.lines)


_HDR_RE = re.compile(r"[\s\-./]+")


def normalize_header(name: str) -> str:
    return _HDR_RE.sub("_", name.strip().strip('"').strip().lower()).strip("_")


class _Source(io.RawIOBase):
    """Raw bytes: `prefix` then `rest`; every line longer than `limit` bytes is cut and marked.

    Counts the newlines it passes on, so it knows the physical number of each over-long line.
    """

    def __init__(self, prefix: bytes, rest: IO[bytes], limit: int) -> None:
        self._pending: bytes | None = prefix
        self._rest = rest
        self.limit = limit
        self._long = re.compile(rb"[^\n]{%d}" % (limit + 1))
        self._out = b""
        self._cur = 0  # bytes of the current (unterminated) line already passed on
        self._skipping = False
        self.newlines = 0
        self.long_lines: set[int] = set()
        self.nul_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out:
            if self._pending is not None:
                data, self._pending = self._pending, None
            else:
                data = bytes(self._rest.read(max(len(b), 64 * 1024)))
                if not data:
                    return 0
            self._out = self._filter(data)
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _filter(self, data: bytes) -> bytes:
        if b"\x00" in data:  # NUL bytes would stop the csv module: mark them like bad bytes
            self.nul_bytes += data.count(b"\x00")
            data = data.replace(b"\x00", _MARK_B)
        limit = self.limit
        if not self._skipping and self._cur + data.find(b"\n") <= limit and not self._has_long(data):
            nl = data.rfind(b"\n")
            self._cur = self._cur + len(data) if nl < 0 else len(data) - nl - 1
            self.newlines += data.count(b"\n")
            if nl < 0 and self._cur > limit:  # one chunk without newline made the line too long
                return self._filter_slow(data, already=True)
            return data
        return self._filter_slow(data)

    def _has_long(self, data: bytes) -> bool:
        """Is there a run of more than `limit` bytes without a newline? Hops from the last
        newline of each window: a long line must start right after such a newline."""
        limit = self.limit
        p, size = 0, len(data)
        while size - p > limit:
            nl = data.rfind(b"\n", p, p + limit + 1)
            if nl < 0:
                return True
            p = nl + 1
        return False

    def _filter_slow(self, data: bytes, already: bool = False) -> bytes:
        limit = self.limit
        if already:  # _filter counted this chunk; undo and redo it here
            self._cur -= len(data)
        out = bytearray()
        pos, size = 0, len(data)
        while pos < size:
            if self._skipping:
                nl = data.find(b"\n", pos)
                if nl < 0:
                    break
                self._skipping = False
                self._cur = 0
                pos = nl
            nl = data.find(b"\n", pos)
            seg_end = nl if nl >= 0 else size
            if self._cur + (seg_end - pos) > limit:
                self.long_lines.add(self.newlines + 1)
                out += _MARK_B
                self._skipping = True
                continue
            m = self._long.search(data, seg_end)
            stop = m.start() if m else size
            chunk = data[pos:stop]
            out += chunk
            k = chunk.rfind(b"\n")
            self._cur = self._cur + len(chunk) if k < 0 else len(chunk) - k - 1
            self.newlines += chunk.count(b"\n")
            pos = stop
        return bytes(out)


_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")


def detect_encoding(sample: bytes, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError(
            "unsupported_encoding", "UTF-16 files are not supported; save as UTF-8 or Windows-1251"
        )
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        dec.decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8. Windows-1251 text almost never holds UTF-8 Cyrillic byte pairs ("Рђ".."СЏ"):
    # when both are present the file was glued together from two encodings.
    if len(_UTF8_CYRILLIC.findall(sample)) >= 2:
        raise FileError(
            "mixed_encoding",
            "the file mixes UTF-8 and Windows-1251 text; save it again in one encoding (UTF-8 preferred)",
        )
    return "cp1251"


def looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample[:8192]:
        return True
    head = sample[:4096]
    ctrl = sum(1 for c in head if c < 32 and c not in (9, 10, 13))
    return bool(head) and ctrl / len(head) > 0.05


def detect_delimiter(header_line: str) -> str:
    commas, semis = header_line.count(","), header_line.count(";")
    if commas == 0 and semis == 0:
        if "\t" in header_line:
            raise FileError(
                "bad_delimiter", "tab-separated files are not supported; use ',' or ';' as delimiter"
            )
        return ","
    return ";" if semis > commas else ","


class _DecodeErrors:
    """Codec error handler: replaces undecodable bytes with the marker and counts them."""

    count = 0

    @classmethod
    def handler(cls, exc: UnicodeError) -> tuple[str, int]:
        if not isinstance(exc, UnicodeDecodeError):
            raise exc
        cls.count += 1
        return MARK, exc.end


codecs.register_error("loyalty_mark", _DecodeErrors.handler)


_NOT_STRUCTURE = {
    (d, eol): bytes(c for c in range(256) if chr(c) not in d + eol) for d in ",;" for eol in ("\n", "\r\n")
}


def _uniform_rows(text: str, delim: str, width: int, eol: str = "\n") -> int:
    """How many lines `text` (ending in `eol`) has, if every one has exactly `width - 1`
    delimiters and ends in `eol`, else -1. Deletes every other byte in C and compares what is
    left (the text's skeleton) with the expected one: no per-line Python objects."""
    shape = (delim * (width - 1) + eol).encode()
    skeleton = text.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE[delim, eol])
    rows, rest = divmod(len(skeleton), len(shape))
    return rows if not rest and skeleton == shape * rows else -1


_LONG_ID = re.compile(r"\n[^\n]{65}")
_PRINTABLE_ASCII_NL = bytes([10, *range(32, 127)])


def ids_ok(col: Sequence[str], required: bool) -> bool:
    """True when every value is a clean id: 1-64 printable characters (empty allowed when
    optional), no surrounding spaces, no formula trigger in front. All in C-level string
    scans; a False only sends the block down the row-by-row path, which says what is wrong.
    """
    if not col:
        return True
    joined = "\n" + "\n".join(col) + "\n"
    if (required and "\n\n" in joined) or _LONG_ID.search(joined):
        return False
    if joined.isascii():
        if joined.encode("ascii").translate(None, _PRINTABLE_ASCII_NL):
            return False
    elif not joined.replace("\n", "").isprintable():
        return False
    if " " in joined and ("\n " in joined or " \n" in joined):
        return False
    return not any(c in joined and "\n" + c in joined for c in FORMULA_PRINTABLE)


def _span(row: list[str]) -> int:
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
        if not sample or not sample.strip(b" \t\r\n\xef\xbb\xbf"):
            raise FileError(
                "empty_file", "the file is empty: no header line and no rows (was the export interrupted?)"
            )
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileError(
                "unsupported_encoding", "UTF-16 files are not supported; save as UTF-8 or Windows-1251"
            )
        if looks_binary(sample):
            raise FileError("not_csv", "the file is binary (not a CSV text file)")
        self.encoding = detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES)
        self._line_chars = len(sample) / max(1, sample.count(b"\n"))  # about, for the read size
        self._src = _Source(sample, raw, max_line_bytes)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._src, buffer_size=256 * 1024),
            encoding=self.encoding,
            errors="loyalty_mark",
            newline="",
        )
        self._marks_seen = 0
        self._decode_base = _DecodeErrors.count
        self.blank_lines = 0
        self.rows = 0
        self._offset = 0  # physical lines before the first data line (blank lines + header)
        header_line = ""
        while not header_line.strip():
            header_line = self._text.readline()
            if not header_line:
                raise FileError("empty_file", "the file has no header line")
            self._offset += 1
        if MARK in header_line:
            raise FileError("bad_header", "the header line is unreadable (too long or not valid text)")
        self.delimiter = detect_delimiter(header_line)
        try:
            header = next(csv.reader([header_line], delimiter=self.delimiter))
        except (csv.Error, StopIteration) as exc:
            raise FileError("bad_header", f"the header line is not valid CSV: {exc}") from exc
        self.header = [h.strip() for h in header]
        self._index, self.ignored_columns = self._map_header(self.header)
        self._reader = csv.reader(self._text, delimiter=self.delimiter, strict=False)
        self._csv_from: int | None = 0

    # -- header ----------------------------------------------------------------------------
    def _map_header(self, header: list[str]) -> tuple[list[int], list[str]]:
        seen: dict[str, int] = {}
        ignored: list[str] = []
        for i, name in enumerate(header):
            canon = self.spec.canonical(name)
            if canon is None:
                if name:
                    ignored.append(name)
                continue
            if canon in seen:
                raise FileError(
                    "bad_header",
                    f"columns {header[seen[canon]]!r} and {name!r} both mean {canon!r}; keep only one",
                )
            seen[canon] = i
        missing = [c for c in self.spec.columns if c in self.spec.required and c not in seen]
        if missing:
            shown = ", ".join(repr(h[:40]) for h in header[:12])
            raise FileError(
                "missing_columns",
                f"missing required column(s): {', '.join(missing)}; the header has: {shown}"
                f" (delimiter {self.delimiter!r})",
            )
        return [seen.get(c, -1) for c in self.spec.columns], ignored

    # -- rows ------------------------------------------------------------------------------
    def _pending_marks(self) -> int:
        return (
            len(self._src.long_lines)
            + self._src.nul_bytes
            + (_DecodeErrors.count - self._decode_base)
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
        index = self._index
        delim = self.delimiter
        offset = self._offset + 1
        carry = ""
        consumed = 0
        while True:
            chunk = self._text.read(chunk_chars)
            text = carry + chunk
            if not chunk:
                if not text:
                    self._csv_from = None
                    return
                carry = ""
                if not text.endswith("\n"):
                    text += "\n"
            else:
                cut = text.rfind("\n")
                if cut < 0:
                    carry = text
                    continue
                text, carry = text[: cut + 1], text[cut + 1 :]
            first = consumed
            cols = None
            clean = '"' not in text and MARK not in text
            if clean and text.endswith("\r\n"):  # Windows line ends throughout: split on them
                cols = self._columns(text, "\r\n")
            if cols is None:
                if "\r" in text and text.count("\r") == text.count("\r\n"):
                    text = text.replace("\r\n", "\n")
                if '"' in text or "\r" in text:  # quotes or old-Mac line ends: the csv module takes over
                    self._reader = csv.reader(
                        chain(io.StringIO(text + carry), self._text), delimiter=delim, strict=False
                    )
                    self._csv_from = consumed
                    return
                if clean:
                    cols = self._columns(text, "\n")
            if cols is not None:
                n = len(cols[0])
                consumed += n
                for a in range(0, n, size):
                    b = min(n, a + size)
                    self.rows += b - a
                    out: list[Sequence[str]] = [
                        (cols[i] if b - a == n else cols[i][a:b]) if i >= 0 else tuple(repeat("", b - a))
                        for i in index
                    ]
                    yield RawBlock(list(range(first + a + offset, first + b + offset)), out, [])
            else:
                lines = text.split("\n")
                lines.pop()
                n = len(lines)
                consumed += n
                rows = [line.split(delim) for line in lines]
                for a in range(0, n, size):
                    b = min(n, a + size)
                    yield self._classify(list(range(first + a, first + b)), rows[a:b], [], offset)

    def _columns(self, text: str, eol: str = "\n") -> list[list[str]] | None:
        """The columns of `text` (whole lines ending in `eol`, no quotes), or None when some
        line does not have the header's number of fields or another line end."""
        width, delim = len(self.header), self.delimiter
        if _uniform_rows(text, delim, width, eol) < 0:
            return None
        flat = text[: -len(eol)].replace(eol, delim).split(delim)
        return [flat[i::width] for i in range(width)]

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
                at = starts[-1] + _span(rows[-1]) if rows else prev
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
            good_lines, good = [], []
            for start, row in zip(starts, rows, strict=True):
                line = start + offset
                if not row or (len(row) == 1 and not row[0].strip()):
                    self.blank_lines += 1
                elif self._pending_marks() and MARK in "".join(row):
                    issues.append(self._mark_issue(line, row))
                elif len(row) != width and any("\n" in v or "\r" in v for v in row):
                    n = _span(row) - 1
                    issues.append(
                        RowIssue(
                            line,
                            "",
                            "",
                            f"unterminated quote: a '\"' opened on line {line} is never closed and swallowed {n} more line(s)",
                        )
                    )
                elif len(row) != width:
                    hint = ""
                    if len(row) > width and self.delimiter == ",":
                        hint = " (an unquoted ',' inside a value, e.g. a decimal comma? quote it or use ';')"
                    issues.append(RowIssue(line, "", "", f"expected {width} fields, found {len(row)}{hint}"))
                else:
                    good_lines.append(line)
                    good.append(row)
        self.rows += len(good) + len(issues)
        n = len(good)
        if n:
            cols = list(zip(*good, strict=True))
            out: list[Sequence[str]] = [cols[i] if i >= 0 else tuple(repeat("", n)) for i in self._index]
        else:
            out = [() for _ in self._index]
        issues.sort(key=lambda i: i.line)
        return RawBlock(good_lines, out, issues)

    def _starts(self, rows: list[list[str]], prev: int, exact: bool) -> list[int]:
        """0-based physical start line (relative to the data) of each row."""
        n = len(rows)
        if exact and self._reader.line_num - prev == n:
            return list(range(prev, prev + n))
        starts = []
        for row in rows:  # some row spans several lines (quoted newlines)
            starts.append(prev)
            prev += _span(row)
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
