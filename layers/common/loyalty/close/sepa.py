"""Text for SEPA credit transfers: the EPC's basic Latin character set
(`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space), which every SEPA bank accepts.

Names arrive in any script (the registry takes UTF-8 and Windows-1251 files). They are
transliterated here by a documented table, not a library: Unicode decomposition drops the accents
of Latin letters (é -> e, Ł -> L through the table), letters that do not decompose and the Russian
alphabet map by the table below (ISO 9-style, as Russian bank transfers spell names: Ж -> Zh,
Щ -> Shch), `&` becomes `+`, typographic quotes and dashes their ASCII forms; anything else (control
characters, U+FFFF, emoji, other scripts) is dropped. Runs of spaces are collapsed. A name that
ends up empty is replaced by the caller's fallback (the partner id), so an element is never empty."""

from __future__ import annotations

import re
import unicodedata

_ALLOWED = re.compile(r"[^a-zA-Z0-9/\-?:().,'+ ]")
_SPACES = re.compile(r"\s+")

_LATIN = {
    "ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "Ł": "L", "ł": "l",
    "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "Ð": "D", "ð": "d", "\u0131": "i", "&": "+",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "“": "'", "”": "'", "„": "'", "«": "'", "»": "'",
    "`": "'", "\u2013": "-", "—": "-", "\u2010": "-", "_": "-", ";": ",", "!": ".", "\"": "'", "#": "",
    "№": "No",
}  # fmt: skip
_RUSSIAN = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
_ROMAN = ("A", "B", "V", "G", "D", "E", "E", "Zh", "Z", "I", "Y", "K", "L", "M", "N", "O", "P", "R", "S", "T", "U", "F", "Kh", "Ts", "Ch", "Sh", "Shch", "", "Y", "", "E", "Yu", "Ya")  # fmt: skip
_CYRILLIC = dict(zip(_RUSSIAN, _ROMAN, strict=True))
_TABLE = {
    **{ord(k): v for k, v in _LATIN.items()},
    **{ord(k): v for k, v in _CYRILLIC.items()},
    **{ord(k.lower()): v.lower() for k, v in _CYRILLIC.items()},
    # the Ukrainian letters outside the Russian alphabet (U+0456, U+0406, U+0457, U+0407, U+0454, U+0404)
    **{0x456: "i", 0x406: "I", 0x457: "i", 0x407: "I", 0x454: "ie", 0x404: "Ie"},
}


def sepa_text(value: str, limit: int, fallback: str = "") -> str:
    """`value` in the SEPA character set, at most `limit` characters, never empty if a fallback
    is given (the fallback is transliterated the same way)."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_TABLE))
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = _SPACES.sub(" ", _ALLOWED.sub(" ", ascii_only.translate(_TABLE))).strip()[:limit].strip()
    if not text and fallback:
        return sepa_text(fallback, limit)
    return text
