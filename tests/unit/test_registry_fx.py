from __future__ import annotations

import datetime as dt
import io
import time
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
        + "P8,Eta,h@x.example,smb,DE,,2026-02-01,=vip,,\n"
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
    assert reasons[(6, "sponsor_id")] == "sponsor chain forms a cycle: P5 -> P6 -> P5"
    assert reasons[(7, "sponsor_id")] == "sponsor chain forms a cycle: P6 -> P5 -> P6"
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
    assert reasons[5] == "a partner cannot sponsor itself: sponsor chain forms a cycle: P4 -> P4"
    assert "IBAN" in reasons[6] and "'C:x'" in reasons[8]
    assert reasons[10] == "not partner ids: P*"
    assert all(reasons[line] == "sponsor is not a valid partner in this file" for line in (12, 13, 14))


def test_cohorts_are_free_text_compared_case_insensitively() -> None:
    long = "x" * 65
    data = (
        HEAD
        + "P1,A,a@x.example,smb,DE,,2026-01-01,  Pilot-A Wave 2 ,,\n"
        + "P2,B,b@x.example,smb,DE,,2026-01-01,PILOT-a wave 2,,\n"
        + "P3,C,c@x.example,smb,DE,,2026-01-01,,,\n"
        + "P4,D,d@x.example,smb,DE,,2026-01-01,Frühjahr 2027 / Nord,,\n"
        + f"P5,E,e@x.example,smb,DE,,2026-01-01,{long},,\n"
        + "P6,F,f@x.example,smb,DE,,2026-01-01,+cmd,,\n"
        + "P7,G,g@x.example,smb,DE,,2026-01-01,@SUM(1),,\n"
    ).encode()
    partners, issues, rows = parse_registry(io.BytesIO(data), TIERS)
    cohorts = {p.partner_id: p.cohort for p in partners}
    assert cohorts == {"P1": "pilot-a wave 2", "P2": "pilot-a wave 2", "P3": "", "P4": "frühjahr 2027 / nord"}
    assert [(i.line, i.column) for i in issues] == [(6, "cohort"), (7, "cohort"), (8, "cohort")]
    assert all("printable" in i.reason and "64" in i.reason and "formula" in i.reason for i in issues)
    assert rows == 7


def test_every_partner_of_a_sponsor_cycle_is_refused_with_its_path_and_its_recruits_follow() -> None:
    data = (
        HEAD
        + "P00001,A,a@x.example,smb,DE,,2026-01-01,,,\n"
        + "P00003,B,b@x.example,smb,DE,P00007,2026-01-01,,,\n"
        + "P00007,C,c@x.example,smb,DE,P00003,2026-01-01,,,\n"
        + "P00010,D,d@x.example,smb,DE,P00011,2026-01-01,,,\n"
        + "P00011,E,e@x.example,smb,DE,P00012,2026-01-01,,,\n"
        + "P00012,F,f@x.example,smb,DE,P00010,2026-01-01,,,\n"
        + "P00020,G,g@x.example,smb,DE,P00003,2026-01-01,,,\n"  # leads into a cycle
        + "P00021,H,h@x.example,smb,DE,P00001,2026-01-01,,,\n"
    ).encode()
    partners, issues, _ = parse_registry(io.BytesIO(data), TIERS)
    assert sorted(p.partner_id for p in partners) == ["P00001", "P00021"]
    assert [(i.line, i.value, i.reason) for i in issues] == [
        (3, "P00007", "sponsor chain forms a cycle: P00003 -> P00007 -> P00003"),
        (4, "P00003", "sponsor chain forms a cycle: P00007 -> P00003 -> P00007"),
        (5, "P00011", "sponsor chain forms a cycle: P00010 -> P00011 -> P00012 -> P00010"),
        (6, "P00012", "sponsor chain forms a cycle: P00011 -> P00012 -> P00010 -> P00011"),
        (7, "P00010", "sponsor chain forms a cycle: P00012 -> P00010 -> P00011 -> P00012"),
        (8, "P00003", "sponsor is not a valid partner in this file"),
    ]


def test_a_long_sponsor_chain_loads_in_linear_time() -> None:
    n = 20_000  # one chain: checking each partner's whole chain would be 200 million steps
    rows = [f"Q{i},N,q{i}@x.example,smb,DE,{f'Q{i - 1}' if i else ''},2026-01-01,,,\n" for i in range(n)]
    rows.append(f"Q{n},N,z@x.example,smb,DE,Q{n + 1},2026-01-01,,,\n")
    rows.append(f"Q{n + 1},N,y@x.example,smb,DE,Q{n},2026-01-01,,,\n")
    # and 2 000 recruits of a missing sponsor, listed deepest first (each orphans the row above)
    rows += [
        f"O{i},N,o{i}@x.example,smb,DE,{f'O{i - 1}' if i else 'GONE'},2026-01-01,,,\n" for i in range(2_000)
    ][::-1]
    t0 = time.perf_counter()
    partners, issues, _ = parse_registry(io.BytesIO((HEAD + "".join(rows)).encode()), TIERS)
    assert time.perf_counter() - t0 < 10
    assert len(partners) == n
    assert [i.line for i in issues] == list(range(n + 2, n + 4 + 2_000))
    assert {i.reason for i in issues[2:]} == {"sponsor is not a valid partner in this file"}


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
