"""The statement people open: the Jinja2 page in the partner's language (Babel figures), the
calculation of every line, totals, tier progress, targets and the other sections; its PDF."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from loyalty.adapters.memory.kernel import MemoryBlobs
from loyalty.close.review import CloseLine
from loyalty.close.statement_files import PdfUnavailable, StatementPdfs, statement_key
from loyalty.close.statement_render import TierStep, line_trace, render_statement_html, statement_pdf
from loyalty.close.statements import StatementLine, statement_csv
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.kernel.ports import MissingBlob

D = Decimal
NAME = "ООО «Ёлка и Ко» <b>"
NBSP = "\xa0"
X = "\N{MULTIPLICATION SIGN}"


def a_line(**kw: object) -> CloseLine:
    target = TargetProgress(
        "T-Q3", "2026-Q3", "net_sales", D("6000"), D("30000"), D("24375"), D("0.8125"), D("5625"), 31,
        D("0"), "EUR 5 625.00 to go",
    )  # fmt: skip
    base: dict[str, object] = {
        "name": NAME,
        "net_sales": D("1234.56"),
        "trailing": D("3000"),
        "payout": D("61.83"),
        "tier_before": "Bronze",
        "tier_after": "Silver",
        "tier_change": "up",
        "tier_reason": "trailing sales",
        "rule_version": "2026.1",
        "targets": [target.to_json()],
    }
    base.update(kw)
    return CloseLine("P00007", "2026-08", "r1", **base)  # type: ignore[arg-type]


def sales() -> list[StatementLine]:
    return [
        StatementLine(
            "=1+1", "2026-08-03", "SKU-<1>", "hardware", 2, D("100.00"), "USD", D("1.10"), "2026-08-01",
            D("90.91"), "Bronze", D("0.02"), "2026.1", D("1.82"), "month",
        ),
        StatementLine(
            "S2", "2026-08-04", "SKU-2", "services", 1, D("2000.00"), "EUR", None, "", D("2000.00"),
            "Bronze", D("0.03"), "2026.1", D("60.00"), "month",
        ),
    ]  # fmt: skip


BONUS = ProgramAccrual(
    "target:T-Q3:2026-Q3", "bonus", "2026-08", dt.date(2026, 8, 31), D("1250.00"), "2026.1", "Q3 goal",
    {"attainment": "0.81"},
)  # fmt: skip
TIERS = [TierStep("Bronze", D(0)), TierStep("Silver", D("2000")), TierStep("Gold", D("7000"))]


def page(lang: str) -> str:
    extra = [("Points", ["item", "points"], [["spent this month", "40"]])]
    return render_statement_html(a_line(), sales(), [BONUS], extra, lang, TIERS).decode()


def test_english_statement_has_babel_figures_trace_totals_and_sections() -> None:
    html = page("en")
    assert '<html lang="en">' in html and "Commission statement 2026-08" in html and "August 2026" in html
    assert "Rule version 2026.1" in html
    # the trace of a foreign-currency line, in figures the partner can check
    assert (
        f"$100.00 ÷ 1.1 (Aug 1, 2026) = €90.91 {X} 2% (Bronze, 2026.1, rate of the month of sale) = €1.82"
        in html
    )
    assert "<td>=1+1</td>" in html and "SKU-&lt;1&gt;" in html  # escaped, never a formula
    assert "<td>€2,090.91</td>" in html.replace(' class="num"', "")  # total in EUR
    assert "€61.82" in html  # total commission
    assert "<th>payout</th><td>€61.83</td>" in html and "<th>net sales</th><td>€1,234.56</td>" in html
    assert "<h2>Bonuses and overrides</h2>" in html and "€1,250.00" in html and "attainment=0.81" in html
    assert "<h2>Targets</h2>" in html and "81.25%" in html and "to go: €5,625.00" in html
    assert "<h2>Points</h2>" in html and "spent this month" in html
    # tier progress: Silver (2 000) -> Gold (7 000) with 3 000 trailing: 20 %
    assert 'aria-valuenow="20"' in html and "€4,000.00 to go to Gold" in html


def test_russian_statement_speaks_russian_with_russian_figures() -> None:
    html = page("ru")
    assert '<html lang="ru">' in html and "Отчёт о комиссии 2026-08" in html and "август 2026" in html
    assert "ООО «Ёлка и Ко» &lt;b&gt;" in html and "<b>" not in html.replace("<body>", "")
    assert f"100,00{NBSP}$ ÷ 1,1 (1 авг. 2026" in html
    assert f"= 90,91{NBSP}€ {X} 2% (Bronze, 2026.1, ставка месяца продажи) = 1,82{NBSP}€" in html
    assert f"<th>выплата</th><td>61,83{NBSP}€</td>" in html
    assert f"2{NBSP}090,91{NBSP}€" in html and "Итого (2)" in html
    assert "<h2>Бонусы и овверайды</h2>" in html and "<h2>Цели</h2>" in html and "<h2>Баллы</h2>" in html
    assert "потрачено за месяц" in html and f"4{NBSP}000,00{NBSP}€ осталось до уровня Gold" in html


def test_the_trace_of_a_return_names_the_rate_of_the_sale_it_returns() -> None:
    ret = StatementLine(
        "R1", "2026-08-09", "SKU", "hardware", -1, D("-50.00"), "EUR", None, "", D("-50.00"), "Gold",
        D("0.045"), "2026.1", D("-2.25"), "original",
    )  # fmt: skip
    assert line_trace(ret, "en") == f"-€50.00 {X} 4.5% (Gold, 2026.1, rate of the returned sale) = -€2.25"


def test_the_top_tier_has_a_full_bar_and_the_csv_stays_formula_safe() -> None:
    html = render_statement_html(a_line(tier_after="Gold"), sales(), lang="en", tiers=TIERS).decode()
    assert 'aria-valuenow="100"' in html and "top tier" in html
    csv_text = statement_csv(a_line(), sales()).decode()
    assert "'=1+1" in csv_text and "\n=1+1" not in csv_text


def pdf_text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def test_the_pdf_holds_the_cyrillic_name_exactly_and_is_made_once_on_first_download() -> None:
    blobs = MemoryBlobs()
    html = page("ru").encode()
    blobs.put(statement_key("P00007", "2026-08", "html"), html, "text/html")
    renders: list[float] = []

    def timed(page: bytes) -> bytes:
        t = time.perf_counter()
        pdf = statement_pdf(page)
        renders.append(time.perf_counter() - t)
        return pdf

    pdfs = StatementPdfs(blobs, timed)
    key = pdfs.ensure("P00007", "2026-08")
    assert key == "statements/P00007/2026-08.pdf" and pdfs.ensure("P00007", "2026-08") == key
    assert len(renders) == 1  # the second download reuses the stored file
    pdf = blobs.get(key)
    assert pdf.startswith(b"%PDF-") and blobs.objects[key][1] == "application/pdf"
    text = pdf_text(pdf)
    assert NAME in text and "Отчёт о комиссии" in text
    assert f"61,83{NBSP}€" in text or "61,83 €" in text.replace("\u202f", " ").replace(NBSP, " ")


def test_no_statement_no_pdf_and_a_host_without_pango_says_why() -> None:
    blobs = MemoryBlobs()
    with pytest.raises(MissingBlob):
        StatementPdfs(blobs).ensure("P00007", "2026-08")
    blobs.put(statement_key("P00007", "2026-08", "html"), b"<p>x</p>", "text/html")

    def no_pango(page: bytes) -> bytes:
        raise OSError("cannot load library 'libpango-1.0-0'")

    with pytest.raises(PdfUnavailable, match="libpango"):
        StatementPdfs(blobs, no_pango).ensure("P00007", "2026-08")
    assert blobs.keys("statements/") == ["statements/P00007/2026-08.html"]


RU_REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,iban,bic\n"
    b"P00001,\xd0\x9e\xd0\x9e\xd0\x9e \xd0\xa0\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x88\xd0\xba\xd0\xb0,a@ru.example,smb,RU,,"
    b"2026-01-01,,,,DE89370400440532013000,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,smb,DE,,2026-01-01,,,,DE02120300000000202051,BYLADEM1001\n"
)


def test_the_close_writes_each_partner_s_statement_in_its_country_s_language() -> None:
    from tests.unit.close_world import close, program, sale, upload

    c = program()
    c.load("registry/partners.csv", RU_REGISTRY)
    upload(c, [sale("S1", "2026-08-03", qty=3)])
    upload(c, [sale("S2", "2026-08-04", partner="P00002")], partner="P00002")
    close(c, "2026-08")
    ru = c.blobs.get("statements/P00001/2026-08.html").decode()
    en = c.blobs.get("statements/P00002/2026-08.html").decode()
    assert '<html lang="ru">' in ru and "ООО Ромашка" in ru and "Отчёт о комиссии" in ru
    assert '<html lang="en">' in en and "Commission statement 2026-08" in en
    assert f"300,00{NBSP}€" in ru and "€100.00" in en  # the line amounts, per locale
    # the CSV is the machine-readable file: the same in every language
    assert "payout EUR," in c.blobs.get("statements/P00001/2026-08.csv").decode()
