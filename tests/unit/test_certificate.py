"""The partner-of-the-month certificate: escaping, locale formats, the PDF's text (Cyrillic), the
rendered page kept as a PNG test artifact (artifacts/certificates/) (render time is measured by `make bench`, not here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from loyalty.recognition import locales
from loyalty.recognition.certificate import (
    Certificate,
    certificate_html,
    certificate_key,
    certificate_number,
    certificate_pdf,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "certificates"
NAME = "ООО «Ёлка-Юг»"


def cert(name: str = NAME, metric: str = "net_sales", value: str = "1234567.891") -> Certificate:
    return Certificate(
        number=certificate_number("2026-03", "smb", "P00007"),
        period="2026-03",
        segment="smb",
        partner_id="P00007",
        partner_name=name,
        metric=metric,
        value=Decimal(value),
        program="Partner Loyalty Program",
        issued_on=dt.date(2026, 4, 3),
    )


def pdf_text(pdf: bytes) -> tuple[int, str]:
    doc = pdfium.PdfDocument(pdf)
    return len(doc), doc[0].get_textpage().get_text_range()


def test_html_escapes_markup_in_names() -> None:
    html = certificate_html(cert("<script>alert('x')</script> & Co"), "en")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in html


def test_html_says_it_per_language() -> None:
    ru, en = certificate_html(cert(), "ru"), certificate_html(cert(), "en")
    assert "Партнёр месяца" in ru and "по итогам марта 2026\u00a0года" in ru
    assert "1\u202f234\u202f567,89\u00a0€" in ru and "3\u00a0апреля 2026\u00a0г." in ru
    assert "Partner of the Month" in en and "for March 2026" in en
    assert "€1,234,567.89" in en and "3 April 2026" in en
    assert "«smb»" in ru and "\u201csmb\u201d" in en
    with pytest.raises(ValueError, match="ru, en"):
        certificate_html(cert(), "de")


def test_locale_figures() -> None:
    assert locales.figure("net_sales", Decimal("-1000.005"), "en") == "€-1,000.00"
    assert locales.figure("net_sales", Decimal("0.015"), "ru") == "0,02\u00a0€"
    assert locales.figure("units", Decimal("12345"), "ru") == "12\u202f345"
    assert locales.figure("new_customers", Decimal("7"), "en") == "7"
    assert locales.month_phrase("2026-12", "ru") == "по итогам декабря 2026\u00a0года"
    assert locales.long_date(dt.date(2027, 1, 31), "en") == "31 January 2027"


def test_numbers_and_keys_are_deterministic() -> None:
    n = certificate_number("2026-03", "smb", "P00007")
    assert n == certificate_number("2026-03", "smb", "P00007") and n.startswith("POTM-2026-03-")
    assert n != certificate_number("2026-03", "ent", "P00007")
    assert certificate_key("2026-03", "smb", "P00007", "ru") == "certificates/2026-03/smb/P00007.ru.pdf"
    assert (
        certificate_key("2026-03", "a/b c%", "P 1", "en") == "certificates/2026-03/a%2Fb%20c%25/P%201.en.pdf"
    )
    with pytest.raises(ValueError):
        certificate_key("2026-3", "smb", "P1", "ru")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_pdf_holds_the_cyrillic_name_and_the_page_is_kept_as_png(lang: str) -> None:
    pdf = certificate_pdf(cert(), lang)
    assert pdf.startswith(b"%PDF-")
    pages, text = pdf_text(pdf)
    assert pages == 1
    assert NAME in text  # exactly, with the Ё and the guillemets
    assert ("Партнёр месяца" if lang == "ru" else "Partner of the Month") in text
    assert ("1 234 567,89 €" if lang == "ru" else "€1,234,567.89") in text.replace("\u202f", " ").replace(
        "\u00a0", " "
    )
    doc = pdfium.PdfDocument(pdf)
    width, height = doc[0].get_size()
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    image = doc[0].render(scale=150 / 72).to_pil()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"potm-{lang}.png"
    image.save(out)
    assert out.stat().st_size > 20_000
    # the page is not blank: the frame's navy at the edge, the cream paper inside
    assert image.getpixel((int(image.width * 0.034), image.height // 2))[:3] == (31, 45, 77)
    assert image.getpixel((image.width // 2, int(image.height * 0.9)))[:3] == (251, 247, 238)


def test_long_names_stay_on_one_page() -> None:
    pages, text = pdf_text(certificate_pdf(cert("Ж" * 64), "ru"))
    assert pages == 1 and "Ж" * 20 in text


def test_this_host_can_render() -> None:
    """`make` installs what WeasyPrint needs (Pango, HarfBuzz, DejaVu): nothing to report here."""
    from loyalty.recognition.certificate import renderer_problem

    assert renderer_problem() == ""
