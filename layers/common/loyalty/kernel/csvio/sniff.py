"""What a file is, from its first bytes: empty, binary, UTF-16, UTF-8 or Windows-1251, and
which delimiter its header line uses."""

from __future__ import annotations

import codecs
import re

from loyalty.kernel.csvio.model import SAMPLE_BYTES, FileError

_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")
_UTF16 = "UTF-16 files are not supported; save as UTF-8 or Windows-1251"


def check_sample(sample: bytes) -> str:
    """The encoding of a file that starts with `sample` (its first `SAMPLE_BYTES` bytes, or all
    of it); raises :class:`FileError` for an empty, UTF-16 or binary file."""
    if not sample or not sample.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileError(
            "empty_file", "the file is empty: no header line and no rows (was the export interrupted?)"
        )
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError("unsupported_encoding", _UTF16)
    if looks_binary(sample):
        raise FileError("not_csv", "the file is binary (not a CSV text file)")
    return detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES)


def detect_encoding(sample: bytes, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError("unsupported_encoding", _UTF16)
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
