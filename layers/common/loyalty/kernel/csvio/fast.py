"""The quote-free fast path: a whole chunk of lines split into columns by `str` methods in C
(no per-row Python objects), and `ids_ok`, the C-level check of an id column."""

from __future__ import annotations

import re
from collections.abc import Sequence

from loyalty.kernel.ids import FORMULA_PRINTABLE

_NOT_STRUCTURE = {
    (d, eol): bytes(c for c in range(256) if chr(c) not in d + eol) for d in ",;" for eol in ("\n", "\r\n")
}


def uniform_rows(text: str, delim: str, width: int, eol: str = "\n") -> int:
    """How many lines `text` (ending in `eol`) has, if every one has exactly `width - 1`
    delimiters and ends in `eol`, else -1. Deletes every other byte in C and compares what is
    left (the text's skeleton) with the expected one: no per-line Python objects."""
    shape = (delim * (width - 1) + eol).encode()
    skeleton = text.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE[delim, eol])
    rows, rest = divmod(len(skeleton), len(shape))
    return rows if not rest and skeleton == shape * rows else -1


def split_columns(text: str, delim: str, width: int, eol: str = "\n") -> list[list[str]] | None:
    """The `width` columns of `text` (whole lines ending in `eol`, no quotes), or None when some
    line does not have `width` fields or another line end."""
    if uniform_rows(text, delim, width, eol) < 0:
        return None
    flat = text[: -len(eol)].replace(eol, delim).split(delim)
    return [flat[i::width] for i in range(width)]


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
