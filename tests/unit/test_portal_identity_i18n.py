"""Who a portal request is (the JWT authorizer's claims) and how figures read in each language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from loyalty.kernel.i18n import (
    accept_language,
    as_lang,
    choose_lang,
    date_text,
    lang_for_country,
    money_text,
    number_text,
    percent_text,
    period_text,
)
from loyalty.kernel.identity import FINANCE, OPERATOR, PARTNER, NotAPerson, claim_list, jwt_principal


def test_claims_as_api_gateway_hands_them_become_a_principal() -> None:
    p = jwt_principal(
        {
            "cognito:username": "p00042",
            "cognito:groups": "[partner]",
            "custom:partner_id": "P00042",
            "email": "a@b.c",
        }
    )
    assert (p.user, p.groups, p.partner_id, p.email) == ("p00042", frozenset({PARTNER}), "P00042", "a@b.c")
    assert p.is_partner and not p.is_staff
    staff = jwt_principal({"cognito:username": "Frank", "cognito:groups": "[finance operator admins]"})
    assert staff.groups == {FINANCE, OPERATOR}  # a group the pool's program does not know grants nothing
    assert staff.caller().user == "frank" and staff.caller().roles == {FINANCE, OPERATOR}
    assert not staff.is_partner and staff.partner_id is None


def test_a_partner_id_counts_only_for_partner_users_and_a_partner_user_needs_one() -> None:
    staff = jwt_principal(
        {"cognito:username": "eve", "cognito:groups": ["finance"], "custom:partner_id": "P1"}
    )
    assert staff.partner_id is None
    with pytest.raises(NotAPerson, match="carries no partner id"):
        jwt_principal({"cognito:username": "p1", "cognito:groups": "[partner]"})
    with pytest.raises(NotAPerson, match="names no user"):
        jwt_principal({"cognito:groups": "[finance]"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("[a b]", ["a", "b"]), (["a", "b"], ["a", "b"]), ("[]", []), ("", []), (None, []), ("a,b", ["a", "b"])],
)
def test_list_claims_in_every_shape(value: object, expected: list[str]) -> None:
    assert claim_list(value) == expected


def test_amounts_dates_and_periods_as_each_language_writes_them() -> None:
    amount = Decimal("1234567.80")
    assert money_text(amount, "EUR", "ru") == "1\u00a0234\u00a0567,80\u00a0€"
    assert money_text(amount, "EUR", "en") == "€1,234,567.80"
    assert money_text(Decimal("-5.00"), "EUR", "en") == "-€5.00"
    assert number_text(1234567, "ru") == "1\u00a0234\u00a0567"
    assert percent_text(Decimal("0.125"), "en") == "12.5%"
    assert date_text(dt.date(2026, 10, 31), "ru") == "31 окт. 2026\u202fг."
    assert date_text(dt.date(2026, 10, 31), "en") == "Oct 31, 2026"
    assert period_text("2026-10", "en") == "October 2026"
    assert period_text("2026-10", "ru").startswith("октябрь 2026")


def test_the_language_of_a_request() -> None:
    assert as_lang("RU-ru") == "ru" and as_lang("de") == "en"
    assert accept_language("de-DE,ru;q=0.8,en;q=0.9") == "en"
    assert accept_language("de, ru;q=0.5") == "ru"
    assert accept_language("de") is None
    assert choose_lang(None, "", "xx", "ru", "en") == "ru"
    assert choose_lang() == "en"
    assert lang_for_country("ru") == "ru" and lang_for_country("DE") == "en"
