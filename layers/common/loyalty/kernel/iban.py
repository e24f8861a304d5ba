"""Bank details: IBAN normalisation, validation and masking; BIC shape."""

from __future__ import annotations

import re

IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def normalize_iban(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def valid_iban(iban: str) -> bool:
    if not IBAN_RE.match(iban):
        return False
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def mask_iban(iban: str) -> str:
    """`DE89370400440532013000` -> `DE89 **** **** **** **30 00`-style: country, check digits, last 4."""
    if not iban:
        return ""
    return f"{iban[:4]} **** {iban[-4:]}"
