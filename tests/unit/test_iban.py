"""IBAN and BIC checks of the kernel (schwifty underneath) and how the registry reports them."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyalty.kernel.iban import mask_iban, normalize_iban, valid_bic, valid_iban
from loyalty.program.registry import parse_registry
from loyalty_factories.program import demo_iban


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "GB29NWBK60161331926819",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "CH9300762011623852957",
        "NO9386011117947",  # the shortest (15)
        "MT84MALT011000012345MTLCAST001S",  # letters inside the BBAN (31)
    ],
)
def test_real_ibans_are_valid(iban: str) -> None:
    assert valid_iban(iban)


@pytest.mark.parametrize(
    ("iban", "why"),
    [
        ("DE89370400440532013001", "check digits"),
        ("DE8937040044", "too short"),
        ("DE893704004405320130001", "one digit too long for Germany"),
        ("GB29NWBK6016133192681X", "letter where the UK BBAN has a digit"),
        ("XX89370400440532013000", "no such country"),
        ("de89370400440532013000", "not normalised (lower case)"),
        ("DE89 3704 0044 0532 0130 00", "not normalised (spaces)"),
        ("", "empty"),
    ],
)
def test_invalid_ibans_are_refused(iban: str, why: str) -> None:
    assert not valid_iban(iban), why


def test_normalize_then_validate_accepts_the_printed_form() -> None:
    printed = " de89 3704 0044\t0532 0130 00 "
    assert normalize_iban(printed) == "DE89370400440532013000"
    assert valid_iban(normalize_iban(printed))
    assert normalize_iban("") == ""


@given(st.integers(min_value=0, max_value=10**10 - 1), st.sampled_from(["DE", "NL", "FR"]))
def test_every_demo_iban_is_valid_and_one_changed_digit_is_not(n: int, country: str) -> None:
    iban = demo_iban(country, n)
    assert valid_iban(iban)
    last = int(iban[-1])
    assert not valid_iban(iban[:-1] + str((last + 1) % 10))


def test_mask_keeps_country_check_digits_and_last_four() -> None:
    assert mask_iban("DE89370400440532013000") == "DE89 **** 3000"
    assert mask_iban("") == ""


@pytest.mark.parametrize("bic", ["COBADEFFXXX", "COBADEFF", "DEUTDEDB101", "NWBKGB2L", "BNPAFRPPXXX"])
def test_real_bics_are_valid(bic: str) -> None:
    assert valid_bic(bic)


@pytest.mark.parametrize(
    ("bic", "why"),
    [
        ("COBADEFFXX", "10 characters"),
        ("COBADEF", "7 characters"),
        ("COBAXXFF", "no such country"),
        ("COBA-DEFF", "punctuation"),
        ("cobadeff", "not normalised (lower case)"),
        ("", "empty"),
    ],
)
def test_invalid_bics_are_refused(bic: str, why: str) -> None:
    assert not valid_bic(bic), why


def test_registry_reports_a_bad_iban_masked_and_a_bad_bic_as_given() -> None:
    header = "partner_id,name,email,segment,joined_on,iban,bic\n"
    rows = (
        "P1,Good,p1@x.example,smb,2026-01-01,de89 3704 0044 0532 0130 00,coba deff xxx\n"
        "P2,Bad IBAN,p2@x.example,smb,2026-01-01,DE89370400440532013001,\n"
        "P3,Bad BIC,p3@x.example,smb,2026-01-01,FR1420041010050500013M02606,COBAXXFF\n"
    )
    partners, found, rows_read = parse_registry(io.BytesIO((header + rows).encode()), ["Bronze"])
    assert rows_read == 3 and [p.partner_id for p in partners] == ["P1"]
    assert (partners[0].iban, partners[0].bic) == ("DE89370400440532013000", "COBADEFFXXX")
    issues = {(i.line, i.column): i for i in found}
    assert issues[(3, "iban")].value == "DE89 **** 3001"
    assert issues[(4, "bic")].value == "COBAXXFF"
