"""The bytes under the text: every line longer than the limit is cut and marked, NUL bytes and
undecodable bytes become the marker (U+001A), and each is counted so the stream knows when a
marker is pending and which physical line it is on."""

from __future__ import annotations

import codecs
import io
import re
from typing import IO

from loyalty.kernel.csvio.model import MARK

_MARK_B = MARK.encode()


class ByteSource(io.RawIOBase):
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


class DecodeErrors:
    """Codec error handler (`errors="loyalty_mark"`): replaces undecodable bytes with the marker
    and counts them."""

    count = 0

    @classmethod
    def handler(cls, exc: UnicodeError) -> tuple[str, int]:
        if not isinstance(exc, UnicodeDecodeError):
            raise exc
        cls.count += 1
        return MARK, exc.end


codecs.register_error("loyalty_mark", DecodeErrors.handler)
