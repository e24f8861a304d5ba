from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from loyalty.kernel.csvio.model import RowIssue
from loyalty.program.fx import FxTable, parse_rates
from loyalty.program.registry import parse_registry

TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
HEAD = "partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier\n"


def test_registry_loads_partners_with_rights_and_rejects_bad_rows() -> None:
    data = (
        HEAD
        + "P1,Acme,a@acme.example,smb,de,,2026-01-01,pilot,P2|P3,gold\n"
        + "P2,Beta,b@beta.example,smb,DE,P1,2026-02-01,,,\n"
        + "P3,Gamma,not-an-email,smb,DE,P1,2026-02-01,,,\n"
        + "P4,Delta,d@x.example,smb,DE,P9,2026-02-01,,,\n"
        + "P5,Eps,e@x.example,smb,DE,P6,2026-02-01,,,\n"
        + "P6,Zeta,z@x.example,smb,DE,P5,2026-02-01,,,\n"
        + "P2,Dup,x@x.example,smb,DE,,2026-02-01,,,\n"
        + "P7,=HYPERLINK(1),x@x.example,smb,DE,,2026-02-01,,,\n"
        + "P8,Eta,h@x.example,smb,DE,,2026-02-01,vip,,\n"
        + "P9,Theta,t@x.example,smb,DE,,2026-02-01,,,Diamond\n"
    ).encode()
    partners, issues, rows = parse_registry(io.BytesIO(data), TIERS)
    by_id = {p.partner_id: p for p in partners}
    assert rows == 10 and set(by_id) == {"P1", "P2"}
    assert by_id["P1"].distributor_for == ("P2", "P3") and by_id["P1"].starting_tier == "Gold"
    assert by_id["P1"].country == "DE" and by_id["P1"].cohort == "pilot" and by_id["P2"].sponsor_id == "P1"
    reasons = {(i.line, i.column): i.reason for i in issues}
    assert "e-mail" in reasons[(4, "email")]
    assert "sponsor is not a valid partner" in reasons[(5, "sponsor_id")]
    assert "cycle" in reasons[(6, "sponsor_id")] and "cycle" in reasons[(7, "sponsor_id")]
    assert "duplicate partner_id (first on line 3)" in reasons[(8, "partner_id")]
    assert "formula" in reasons[(9, "name")]
    assert "cohort" in reasons[(10, "cohort")]
    assert "unknown tier" in reasons[(11, "starting_tier")]
    assert len(partners) + len(issues) == rows


def test_registry_reports_the_first_problem_of_each_row_and_orphans_in_cascade() -> None:
    head = HEAD.rstrip("\n") + ",certified,iban,bic\n"
    rows = [
        "P1,Acme,a@acme.example,smb,de,,2026-01-01,Control,,silver,CERT-SALES:2|CERT-PRE CERT-PRE,"
        "de89 3704 0044 0532 0130 00,deut deff",
        "P2,Beta,b@x.example,,DE,,2026-01-01,,,,,,",
        "P3,Gamma,c@x.example,smb,DEU,,2026-01-01,,,,,,",
        "P4,Delta,d@x.example,smb,DE,P4,2026-01-01,,,,,,",
        "P5,Eps,e@x.example,smb,DE,,2026-01-01,,,,,DE00370400440532013000,",
        "P6,Zeta,z@x.example,smb,DE,,2026-01-01,,,,,,BAD",
        "P7,Eta,h@x.example,smb,DE,,2026-01-01,,,,C:x,,",
        "P8,Theta,t@x.example,smb,DE,,2026-13-01,,,,,,",
        "P9,Iota,i@x.example,smb,DE,,2026-01-01,,P1|P*,,,,",
        "P*,Kappa,k@x.example,,DEU,,bad,,,,,,",
        "P10,Lambda,l@x.example,smb,DE,P11,2026-01-01,,,,,,",
        "P11,Mu,m@x.example,smb,DE,P12,2026-01-01,,,,,,",
        "P12,Nu,n@x.example,smb,DE,P99,2026-01-01,,,,,,",
    ]
    data = (head + "\n".join(rows) + "\n").encode()
    partners, issues, count = parse_registry(io.BytesIO(data), TIERS)
    assert count == 13
    [p1] = partners
    assert (p1.partner_id, p1.country, p1.cohort, p1.starting_tier) == ("P1", "DE", "control", "Silver")
    assert p1.certified == (("CERT-PRE", 2), ("CERT-SALES", 2))
    assert (p1.iban, p1.bic, p1.joined_on) == ("DE89370400440532013000", "DEUTDEFF", dt.date(2026, 1, 1))
    assert [(i.line, i.column) for i in issues] == [
        (3, "segment"),
        (4, "country"),
        (5, "sponsor_id"),
        (6, "iban"),
        (7, "bic"),
        (8, "certified"),
        (9, "joined_on"),
        (10, "distributor_for"),
        (11, "partner_id"),
        (12, "sponsor_id"),
        (13, "sponsor_id"),
        (14, "sponsor_id"),
    ]
    reasons = {i.line: i.reason for i in issues}
    assert "sponsor itself" in reasons[5] and "IBAN" in reasons[6] and "'C:x'" in reasons[8]
    assert reasons[10] == "not partner ids: P*"
    assert all(reasons[line] == "sponsor is not a valid partner in this file" for line in (12, 13, 14))


def test_fx_rates_use_the_latest_earlier_date() -> None:
    data = b'date,currency,units_per_eur\n2026-10-02,USD,1.09\n2026-10-05,usd,"1,10"\n2026-10-06,EUR,1\nbad,USD,1\n2026-10-07,USD,-1\n'
    items = list(parse_rates(io.BytesIO(data)))
    good = [i for i in items if not isinstance(i, RowIssue)]
    bad = [i for i in items if isinstance(i, RowIssue)]
    assert [b.column for b in bad] == ["currency", "date", "units_per_eur"]
    fx = FxTable(good)  # type: ignore[arg-type]
    assert fx.rate("USD", dt.date(2026, 10, 4)) == (Decimal("1.09"), dt.date(2026, 10, 2))
    assert fx.rate("USD", dt.date(2026, 10, 5)) == (Decimal("1.10"), dt.date(2026, 10, 5))
    assert fx.rate("USD", dt.date(2026, 10, 1)) is None and fx.rate("GBP", dt.date(2026, 10, 9)) is None
