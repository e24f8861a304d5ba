"""Bank details: IBAN normalisation, validation and masking; BIC validation.

Validation is schwifty's (pinned): the IBAN's length and BBAN structure for its country and its
ISO 7064 check digits; a BIC's length (8 or 11), ISO 9362 structure and country code.
"""

from __future__ import annotations

import hashlib
import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

_SPACES = re.compile(r"\s+")


def normalize_iban(text: str) -> str:
    return _SPACES.sub("", text or "").upper()


def valid_iban(iban: str) -> bool:
    """A normalised IBAN (see `normalize_iban`) that schwifty accepts."""
    if iban != normalize_iban(iban):
        return False
    try:
        IBAN(iban)
    except SchwiftyException:
        return False
    return True


def valid_bic(bic: str) -> bool:
    """A normalised BIC (upper case, no spaces) that schwifty accepts."""
    if bic != _SPACES.sub("", bic).upper():
        return False
    try:
        BIC(bic)
    except SchwiftyException:
        return False
    return True


def mask_iban(iban: str) -> str:
    """`DE89370400440532013000` -> `DE89 **** 3000`: country, check digits, last 4."""
    if not iban:
        return ""
    return f"{iban[:4]} **** {iban[-4:]}"


def bank_fingerprint(owner: str, iban: str, bic: str) -> str:
    """A short fingerprint of an owner's bank details (IBAN and BIC), to tell whether they changed
    without decrypting them: stored beside the ciphertext when the registry is loaded, compared by
    the close. Not secret-keyed: it is never shown to partners, only compared."""
    if not iban:
        return ""
    return hashlib.sha256(f"bank|{owner}|{iban}|{bic}".encode()).hexdigest()[:20]
