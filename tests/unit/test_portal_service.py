"""The partner portal's use cases (issue 12, point 2) on the in-memory container: every view a
partner gets, in its language, with the numbers the other contexts compute."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from loyalty.adapters.memory.container import MemoryContainer
from loyalty.close.position import PositionService
from loyalty.ingest.keys import report_base
from loyalty.kernel.identity import FINANCE, PARTNER, Principal
from loyalty.portal.errors import PortalError
from loyalty.portal.paging import BadCursor

from tests.conftest import RULES, sales_csv
from tests.unit.close_world import close_run
from tests.unit.rewards_world import grant, lot, reward

REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,iban,bic\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,,,,DE89370400440532013000,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,smb,RU,,2026-01-01,,,Gold,DE02120300000000202051,BYLADEM1001\n"
    b"D00001,Delta Distribution,ops@delta.example,distribution,NL,,2026-01-01,,P00001,,,\n"
)
ACME = Principal("anna", frozenset({PARTNER}), "P00001", "anna@acme.example")
BETA = Principal("boris", frozenset({PARTNER}), "P00002")
DELTA = Principal("dora", frozenset({PARTNER}), "D00001")
FIONA = Principal("fiona", frozenset({FINANCE}))


def sale(sid: str, day: str, price: str = "1000.00", partner: str = "P00001", qty: int = 1) -> list[Any]:
    return [sid, partner, day, "SKU-1", qty, price, "EUR", "hardware", "C1", ""]


@pytest.fixture()
def c() -> MemoryContainer:
    c = MemoryContainer(today=dt.date(2026, 11, 23))
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    return c


def upload(c: MemoryContainer, rows: list[list[Any]], name: str = "f.csv", partner: str = "P00001") -> None:
    c.upload(f"incoming/{partner}/{name}", sales_csv(rows))
    c.deliver()


def closed_world(c: MemoryContainer) -> None:
    """October sold and closed (paid where due), November sold since."""
    upload(c, [sale("S1", "2026-09-10", "5000.00"), sale("S2", "2026-10-05", "3000.00")], "sep-oct.csv")
    close_run(c, "2026-09")
    close_run(c, "2026-10")
    upload(c, [sale("S3", "2026-11-02", "2000.00")], "nov.csv")


def test_balance_states_match_the_position_and_state_the_rules(c: MemoryContainer) -> None:
    closed_world(c)
    got = c.portal().balance(ACME, "P00001", "ru")
    pos = PositionService(c.store).position("P00001", dt.date(2026, 11, 23))
    for state in ("provisional", "held", "payable", "paid", "carried"):
        assert Decimal(got[state]["amount"]) == getattr(pos, state), state
        assert got[state]["currency"] == "EUR"
    assert got["provisional"]["amount"] == "40.00"  # 2 % of 2 000.00 sold in November
    assert got["paid"]["amount"] == "100.00"  # September's 2 % of 5 000.00, paid at October's close
    assert got["minimum_payout"] == {"amount": "50.00", "currency": "EUR", "text": "50,00\xa0€"}
    assert got["holding_days"] == 30 and got["rule_version"] == "2026.1"
    assert "30" in got["explain"]["holding"] and "50,00" in got["explain"]["minimum"]
    assert got["last_close"]["period"] == "2026-10"


def test_earnings_come_from_month_totals_and_closes(c: MemoryContainer) -> None:
    closed_world(c)
    got = c.portal().earnings(ACME, "P00001", 3, "en")
    months = got["months"]
    assert [m["period"] for m in months] == ["2026-09", "2026-10", "2026-11"]
    assert [m["commission"]["amount"] for m in months] == ["100.00", "60.00", "40.00"]
    assert [m["closed"] for m in months] == [True, True, False]
    assert months[0]["points"] == 500  # floor(5 000 / 10 x 1)
    assert months[1]["payout"]["amount"] == "100.00"
    assert months[2]["text"] == "November 2026"


def test_tier_progress_to_the_next_tier(c: MemoryContainer) -> None:
    gold = c.portal().tier(BETA, "P00002", "en")  # its starting tier, before any review
    assert (gold["tier"], gold["next_tier"]) == ("Gold", "Platinum")
    assert gold["certifications"] == [{"course": "CERT-SALES", "need": 1, "have": 0}]
    assert "CERT-SALES" in gold["text"]
    closed_world(c)
    got = c.portal().tier(ACME, "P00001", "en")
    assert (got["tier"], got["next_tier"]) == ("Bronze", "Silver")
    assert got["trailing_net_sales"]["amount"] == "10000.00"  # Sep + Oct + Nov
    assert got["to_go"]["amount"] == "15000.00"
    assert got["progress"]["ratio"] == "0.4000" and got["progress"]["text"] == "40.0%"


def test_lines_carry_their_trace_and_are_filtered_by_month(c: MemoryContainer) -> None:
    closed_world(c)
    got = c.portal().lines(ACME, "P00001", "2026-10", None, 50, "en")
    assert [x["sale_id"] for x in got["lines"]] == ["S2"] and got["cursor"] is None
    s2 = got["lines"][0]
    assert s2["commission"]["amount"] == "60.00" and s2["rate_pct"] == "2"
    assert s2["tier"] == "Bronze" and s2["rule_version"] == "2026.1" and s2["basis"] == "month"
    assert "x 2 % (Bronze rate of 2026-10" in s2["trace"]
    every = c.portal().lines(ACME, "P00001", None, None, 50, "en")
    assert [x["sale_id"] for x in every["lines"]] == ["S1", "S2", "S3"]


def test_lines_page_through_a_partition_without_reading_it_whole(c: MemoryContainer) -> None:
    rows = [sale(f"S{i:04d}", f"2026-{9 + i % 3:02d}-{1 + i % 20:02d}", "10.00") for i in range(600)]
    upload(c, rows, "many.csv")
    portal, records = c.portal(), c.portal_records()
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = portal.lines(ACME, "P00001", "2026-11", cursor, 40, "en")
        assert records.last_read <= 1000  # one page's reads are bounded, whatever the filter drops
        seen += [x["sale_id"] for x in page["lines"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 200 and pages == 5
    first = portal.lines(ACME, "P00001", None, None, 100, "en")
    assert len(first["lines"]) == 100 and records.last_read == 100
    with pytest.raises(BadCursor):  # a cursor of another list (another filter) is refused
        portal.lines(ACME, "P00001", "2026-10", first["cursor"], 100, "en")
    with pytest.raises(BadCursor):
        portal.lines(ACME, "P00001", None, "not-a-cursor", 100, "en")


def test_statements_list_and_links_and_a_format_not_written(c: MemoryContainer) -> None:
    closed_world(c)
    portal = c.portal()
    listed = portal.statements(ACME, "P00001", "ru")["statements"]
    assert [(s["period"], s["formats"]) for s in listed] == [
        ("2026-10", ["html", "csv", "pdf"]),  # the PDF is rendered from the page when asked
        ("2026-09", ["html", "csv", "pdf"]),
    ]
    assert listed[0]["text"].startswith("октябрь")
    link = portal.statement(ACME, "P00001", "2026-10", "csv")
    assert "statements/P00001/2026-10.csv" in link["url"] and link["expires_in"] == 300
    # the PDF is rendered from the statement's page on its first download, then kept
    assert portal.statement(ACME, "P00001", "2026-10", "pdf")["format"] == "pdf"
    pdf = c.blobs.get("statements/P00001/2026-10.pdf")
    assert pdf.startswith(b"%PDF")
    assert portal.statement(ACME, "P00001", "2026-10", "pdf")["format"] == "pdf"
    assert c.blobs.get("statements/P00001/2026-10.pdf") == pdf  # not rendered twice
    with pytest.raises(PortalError) as no_page:  # no statement that month: nothing to render
        portal.statement(ACME, "P00001", "2026-08", "pdf")
    assert no_page.value.status == 404 and "PDF" in no_page.value.error
    with pytest.raises(PortalError) as bad:
        portal.statement(ACME, "P00001", "2026-13", "csv")
    assert bad.value.status == 400


def test_points_catalog_and_redemption(c: MemoryContainer) -> None:
    grant(c.store, "P00001", [lot("L1", 800, "2026-12-31"), lot("L2", 300, "2027-06-30")])
    c.store.put_reward(reward("MUG", 500))
    c.store.put_reward(reward("BIKE", 5000))
    c.store.put_reward(reward("LOUNGE", 100, min_tier="Gold"))
    portal = c.portal()
    pts = portal.points(ACME, "P00001", "en")
    assert (pts["balance"], pts["expiring_soon"], pts["lifetime"]) == (1100, 800, 1100)
    assert pts["expiring_on"]["date"] == "2026-12-31"
    cat = {r["reward_id"]: r for r in portal.catalog(ACME, "P00001", "en")["rewards"]}
    assert cat["MUG"]["available"] and cat["MUG"]["refusal"] is None
    assert cat["BIKE"]["refusal"]["code"] == "insufficient_points"
    assert cat["LOUNGE"]["refusal"]["code"] == "tier_too_low"
    status, done = portal.redeem(ACME, "P00001", "MUG", "key-1")
    assert status == 201 and done["redemption"]["points"] == 500 and not done["replayed"]
    again, replay = portal.redeem(ACME, "P00001", "MUG", "key-1")
    assert again == 200 and replay["replayed"]
    assert portal.points(ACME, "P00001", "en")["balance"] == 600
    with pytest.raises(PortalError) as conflict:
        portal.redeem(ACME, "P00001", "LOUNGE", "key-1")
    assert conflict.value.status == 409
    with pytest.raises(PortalError) as short:
        portal.redeem(ACME, "P00001", "BIKE", "key-2")
    assert short.value.status == 422 and short.value.details == [{"code": "insufficient_points"}]
    assert "5 000 needed" in short.value.error
    with pytest.raises(PortalError) as no_key:
        portal.redeem(ACME, "P00001", "MUG", None)
    assert no_key.value.status == 400
    listed = portal.redemptions(ACME, "P00001", None, 10)["redemptions"]
    assert [(r["request_id"], r["state"]) for r in listed] == [("key-1", "pending")]
    history = portal.points_history(ACME, "P00001", None, "en")
    assert [m["kind"] for m in history["moves"]] == ["spend"] and history["cursor"] == "2026-10"


def test_uploads_are_signed_for_the_own_folder_and_report_back(c: MemoryContainer) -> None:
    portal = c.portal()
    form = portal.start_upload(ACME, "P00001", "Октябрь sales (final).CSV", "text/csv", 2048)
    key = form["key"]
    assert key.startswith("incoming/P00001/" + form["upload_id"] + "_") and key.endswith(".csv")
    assert "/" not in key[len("incoming/P00001/") :]  # ingest accepts incoming/<partner>/<name>.csv only
    assert c.portal_links().forms[-1] == ("P00001", key, "text/csv", c.settings.max_upload_bytes)
    pending = portal.upload(ACME, "P00001", form["upload_id"])
    assert pending["status"] == "pending" and pending["report"] is None
    c.upload(
        key,
        sales_csv(
            [sale("U1", "2026-11-03"), ["U2", "P00001", "not a date", "SKU", 1, "1", "EUR", "", "", ""]]
        ),
    )
    c.deliver()
    got = portal.upload(ACME, "P00001", form["upload_id"])
    assert got["status"] == "processed" and (got["report"]["accepted"], got["report"]["rejected"]) == (1, 1)
    assert got["errors_url"] and report_base(key) + ".errors.csv" in unquote(got["errors_url"])
    assert [u["upload_id"] for u in portal.uploads(ACME, "P00001", None, 20)["uploads"]] == [
        form["upload_id"]
    ]
    for bad in (
        ("sales.xlsx", "text/csv", 10),
        ("sales.csv", "application/pdf", 10),
        ("sales.csv", "text/csv", c.settings.max_upload_bytes + 1),
        ("sales.csv", "text/csv", 0),
        ("../.csv", "text/csv", 10),
    ):
        with pytest.raises(PortalError) as refused:
            portal.start_upload(ACME, "P00001", *bad)
        assert refused.value.status == 400, bad
    spaced = Principal("sam", frozenset({PARTNER}), "P 01")  # no STS session can carry its name
    c.load("registry/partners.csv", REGISTRY + b"P 01,Spaced,s@x.example,smb,DE,,2026-01-01,,,,,\n")
    with pytest.raises(PortalError) as no_session:
        portal.start_upload(spaced, "P 01", "s.csv", "text/csv", 10)
    assert no_session.value.status == 400 and "S3 folder" in no_session.value.error
    with pytest.raises(PortalError) as nope:
        portal.upload(ACME, "P00001", "20261101000000-00000000")
    assert nope.value.status == 404


def test_rank_on_the_latest_board_with_neighbours(c: MemoryContainer) -> None:
    upload(c, [sale("S1", "2026-10-05", "3000.00")], "a.csv")
    upload(c, [sale("B1", "2026-10-05", "9000.00", partner="P00002")], "b.csv", partner="P00002")
    close_run(c, "2026-10")
    got = c.portal().rank(ACME, "P00001", "en")
    assert got["ranked"] and got["period"] == "2026-10" and got["segment"] == "smb"
    assert got["place"]["rank"] == 2 and got["above"]["partner_id"] == "P00002" and got["below"] is None
    assert got["of"] == 2 and got["place"]["text"] == "€3,000.00"
    assert c.portal().rank(DELTA, "D00001", "en")["ranked"] is False  # no sales, no board


def test_targets_progress_month_to_date(c: MemoryContainer) -> None:
    head = "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,bands,method,version,effective_from\n"
    row = "T-Q4,partner,P00001,net_sales,,quarter,2026-Q4,12000,,300,,flat,T1,2026-01-01\n"
    c.load("targets/T1.csv", (head + row).encode())
    upload(c, [sale("S1", "2026-10-05", "3000.00"), sale("S2", "2026-11-05", "3000.00")])
    got = c.portal().targets(ACME, "P00001", "en")["targets"]
    assert [t["target_id"] for t in got] == ["T-Q4"]
    assert got[0]["actual"]["amount"] == "6000.00" and got[0]["goal"]["amount"] == "12000.00"
    assert got[0]["attainment"]["ratio"] == "0.50"
    assert c.portal().targets(BETA, "P00002", "en")["targets"] == []


def test_profile_language_and_its_resolution(c: MemoryContainer) -> None:
    portal = c.portal()
    me = portal.me(ACME, "en")
    assert me["partner"]["name"] == "Acme Systems" and me["partner"]["tier"] == "Bronze"
    assert me["saved_lang"] is None
    assert portal.lang(ACME, None, None) == "en"  # Germany: English
    assert portal.lang(BETA, None, None) == "ru"  # Russia: Russian
    assert portal.lang(BETA, None, "en-GB,en;q=0.8") == "en"  # the browser's choice wins
    saved = portal.set_lang(ACME, "ru")
    assert saved["saved_lang"] == "ru" and saved["lang"] == "ru"
    assert portal.lang(ACME, None, "en") == "ru"  # the saved choice beats the header
    assert portal.lang(ACME, "en", "ru") == "en"  # ?lang= beats everything
    with pytest.raises(PortalError) as bad:
        portal.set_lang(ACME, "de")
    assert bad.value.status == 400
    staff = portal.me(FIONA, "en")
    assert staff["partner"] is None and staff["groups"] == ["finance"]
    ghost = Principal("gus", frozenset({PARTNER}), "P09999")  # a user whose partner is not registered
    assert portal.me(ghost, "en")["partner"] is None


def test_views_are_authorised_first(c: MemoryContainer) -> None:
    portal = c.portal()
    with pytest.raises(PortalError) as other:
        portal.balance(BETA, "P00001", "en")
    assert other.value.status == 404
    with pytest.raises(PortalError) as staff:
        portal.balance(FIONA, "P00001", "en")
    assert staff.value.status == 403
    assert portal.balance(DELTA, "P00001", "en")["partner_id"] == "P00001"  # its downline, read
    with pytest.raises(PortalError) as write:
        portal.start_upload(DELTA, "P00001", "s.csv", "text/csv", 10)
    assert write.value.status == 403
