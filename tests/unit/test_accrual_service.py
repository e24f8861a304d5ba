"""The accrual writer on in-memory adapters: exactly once under redelivery, corrections replace,
returns reverse at their original's rate, late rows of a closed month move to the open period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from loyalty.adapters.memory.container import MemoryContainer
from loyalty.earning.writer import ConfigCache
from loyalty.ingest.chunks import Chunk

from tests.conftest import RATES, REGISTRY, RULES, sales_csv
from tests.unit.test_ingest_service import KEY, row, summary


def world(**kw: Any) -> MemoryContainer:
    c = MemoryContainer(**kw)
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    c.load("rates/fx.csv", RATES)
    return c


def lines(c: MemoryContainer, partner: str = "P00001") -> dict[str, Any]:
    return {s.sale_id: s for s in c.store.partner_sales(partner)}


def month(c: MemoryContainer, m: str = "2026-10", partner: str = "P00001") -> Any:
    return {t.month: t for t in c.store.month_totals(partner)}[m]


def test_a_redelivered_chunk_changes_nothing() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", qty=2, price="10.50"), row("S2", price="5.00", customer="C9")]))
    (msg,) = c.queue.drain()
    writer = c.accruals()
    first = writer.handle(Chunk.parse(msg.body))
    before = (lines(c), month(c))
    again = writer.handle(Chunk.parse(msg.body))
    assert (lines(c), month(c)) == before
    assert (first.new, again.new, again.replaced) == (2, 2, 0)
    t = month(c)
    assert (t.net_eur, t.commission, t.lines, t.new_customers) == (Decimal("26.00"), Decimal("0.52"), 2, 1)


def test_a_correction_replaces_the_earlier_line_and_its_totals() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", qty=2, price="10.00")]))
    c.deliver()
    c.upload("incoming/P00001/fix.csv", sales_csv([row("S1", qty=3, price="10.00")]))
    (res,) = c.deliver()
    assert (res.new, res.replaced) == (0, 1)
    s = lines(c)["S1"]
    assert (s.quantity, s.net_eur, s.commission) == (3, Decimal("30.00"), Decimal("0.60"))
    assert s.prev_version != "" and s.version > s.prev_version
    t = month(c)
    assert (t.net_eur, t.commission, t.lines) == (Decimal("30.00"), Decimal("0.60"), 1)


def test_an_older_version_arriving_late_is_superseded() -> None:
    c = world()
    c.blobs.put(KEY, sales_csv([row("S1", qty=1)]), "text/csv")
    old = c.s3_object(KEY)
    c.blobs.put("incoming/P00001/new.csv", sales_csv([row("S1", qty=4)]), "text/csv")
    new = c.s3_object("incoming/P00001/new.csv")
    c.ingest().handle(new)
    c.deliver()
    c.ingest().handle(old)  # its S3 event arrives after the newer file's
    (res,) = c.deliver()
    assert (res.superseded, res.new, res.replaced) == (1, 0, 0)
    assert lines(c)["S1"].quantity == 4 and month(c).lines == 1


def test_a_return_in_the_same_chunk_reverses_at_its_originals_rate() -> None:
    c = world()
    rows = [
        row("S1", qty=2, price="100.00", category="services"),
        row("R1", qty=-1, price="100.00", original="S1"),
    ]
    c.upload(KEY, sales_csv(rows))
    c.deliver()
    r = lines(c)["R1"]
    assert (r.rate, r.commission, r.net_eur) == (Decimal("0.03"), Decimal("-3.00"), Decimal("-100.00"))
    assert month(c).returns == 1


def test_a_return_in_a_later_file_finds_its_original_in_the_store() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", qty=2, price="100.00", category="services")]))
    c.deliver()
    c.upload("incoming/P00001/ret.csv", sales_csv([row("R1", qty=-1, price="100.00", original="S1")]))
    c.deliver()
    assert lines(c)["R1"].commission == Decimal("-3.00")
    assert month(c).commission == Decimal("3.00")


def test_rows_of_a_frozen_month_accrue_to_the_next_open_period() -> None:
    c = world()
    c.store.freeze_period("2026-09")
    c.upload(KEY, sales_csv([row("S1", sold_at="2026-09-20", price="20.00"), row("S2", price="5.00")]))
    (res,) = c.deliver()
    assert res.late == {"2026-09": 1}
    assert lines(c)["S1"].period == "2026-10" and lines(c)["S2"].period == ""
    t = month(c)
    assert t.lines == 2 and t.by_day[1] == Decimal("0.40")  # counted from the period's first day
    assert summary(c)["late"]["rows"] == 1


def test_correcting_a_late_line_takes_it_out_of_the_open_period() -> None:
    c = world()
    c.store.freeze_period("2026-09")
    c.upload(KEY, sales_csv([row("S1", sold_at="2026-09-20", price="20.00")]))
    c.deliver()
    c.upload("incoming/P00001/fix.csv", sales_csv([row("S1", sold_at="2026-09-20", price="30.00")]))
    c.deliver()
    t = month(c)
    assert (t.lines, t.net_eur, t.by_day) == (1, Decimal("30.00"), {1: Decimal("0.60")})
    assert "2026-09" not in {m.month for m in c.store.month_totals("P00001")}


def test_foreign_currency_converts_at_the_rate_of_the_day() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", price="112.00", currency="USD", sold_at="2026-10-20")]))
    c.deliver()
    s = lines(c)["S1"]
    assert (s.fx_rate, s.fx_date, s.net_eur) == (Decimal("1.12"), "2026-10-15", Decimal("100.00"))


def test_a_row_without_an_fx_rate_is_rejected_with_its_reason() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", currency="USD", sold_at="2026-08-01"), row("S2")]))
    (res,) = c.deliver()
    assert (res.accepted, res.rejected) == (1, 1) and res.issues_key
    assert "S1" not in lines(c)
    assert b"rate" in c.blobs.get(res.issues_key)


def test_the_tier_of_the_month_sets_the_rate() -> None:
    c = world()
    c.store.put_tier("P00001", "2026-10", "Gold", "test")
    c.upload(KEY, sales_csv([row("S1", price="100.00"), row("S2", price="100.00", sold_at="2026-09-30")]))
    c.deliver()
    assert (lines(c)["S1"].tier, lines(c)["S1"].rate) == ("Gold", Decimal("0.04"))
    assert (lines(c)["S2"].tier, lines(c)["S2"].rate) == ("Bronze", Decimal("0.02"))


def test_chunk_result_totals_per_partner() -> None:
    c = world()
    key = "incoming/D00001/x.csv"
    c.upload(key, sales_csv([row("S1", "P00003", price="10.00"), row("S2", "P00003", price="15.00")]))
    (res,) = c.deliver()
    assert res.partners == {"P00003": ["25.00", "0.50", "2"]}
    assert (res.net_eur, res.commission) == (Decimal("25.00"), Decimal("0.50"))


def test_config_cache_refreshes_after_its_ttl_only() -> None:
    c = world()
    now = [100.0]
    cache = ConfigCache(c.store, 60, "EUR")
    import loyalty.earning.writer as writer_module

    real = writer_module.time.monotonic
    writer_module.time.monotonic = lambda: now[0]  # type: ignore[assignment]
    try:
        first = cache.calculator()
        assert cache.calculator() is first
        assert cache.partner("P00002").cohort == "pilot"
        assert cache.partner("P404").cohort is None
        now[0] += 61
        assert cache.calculator() is not first
    finally:
        writer_module.time.monotonic = real  # type: ignore[assignment]


def test_balances_after_ingest_match_the_month_totals() -> None:
    c = world()
    c.upload(
        KEY,
        sales_csv(
            [row("S1", price="100.00", sold_at="2026-10-01"), row("S2", price="50.00", sold_at="2026-10-30")]
        ),
    )
    c.deliver()
    b = c.balances().balance("P00001", "2026-10")
    assert (b.commission, b.lines, b.net_sales_eur) == (Decimal("3.00"), 2, Decimal("150.00"))
