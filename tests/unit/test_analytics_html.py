"""Issue 13, point 5: the program analytics report as an HTML page (docs/analytics-html.md):
every section of the report JSON, figures as each language writes them, inline SVG charts that
parse as XML, no script and no external fetch, ids and segments from files escaped, empty lists
as "no data", and the same bytes for the same report."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from loyalty.analytics.charts import axis, nice_step
from loyalty.analytics.engine import DuckDBEngine
from loyalty.analytics.html import render_report_html
from loyalty.analytics.report import build_report

from tests.unit.analytics_fixture import empty_report, sample_report
from tests.unit.analytics_world import default_rules, write_world

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
SECTIONS = ("kpis", "cost", "tiers", "activity", "sales", "payouts", "movers", "risk", "pilots")


def _page(report: dict[str, object] | None = None, lang: str = "en") -> str:
    return render_report_html(report if report is not None else sample_report(), lang).decode("utf-8")


def test_every_section_and_chart_is_on_the_page() -> None:
    page = _page()
    for s in SECTIONS:
        assert f'<section id="{s}">' in page, s
    for title in (
        "Net sales and program cost, EUR thousand",
        "Program cost by component, EUR thousand",
        "Cost per EUR of sales",
        "Tier distribution",
        "Active partners of all partners",
        "Retention against the month before",
        "Uplift with its confidence interval",
    ):
        assert f"<title>{title}</title>" in page, title
    assert len(SVG.findall(page)) == 8  # 6 of the report + one interval per pilot with one
    assert "Tier movement: from (rows) to (columns)" in page
    assert "P00412" in page and "P00931" in page and "P00310" in page  # movers, at risk
    assert "2026.2-pilot" in page and "2026.3-smb-boost" in page


def test_the_svg_charts_are_well_formed_and_carry_their_figures() -> None:
    page = _page()
    charts = SVG.findall(page)
    ns = "{http://www.w3.org/2000/svg}"
    for svg in charts:
        root = ET.fromstring(svg)
        assert root.tag == f"{ns}svg" and root.get("viewBox")
        assert root.find(f"{ns}title") is not None
    sales = ET.fromstring(charts[0])
    # 12 months x (net sales, program cost), a label per month, the year under the first and January
    assert len(sales.findall(f"{ns}rect")) == 24
    labels = [t.text for t in sales.findall(f"{ns}text")]
    assert labels.count("2025") == 1 and labels.count("2026") == 1 and "Nov" in labels and "Oct" in labels
    ratio = ET.fromstring(charts[2])
    assert len(ratio.findall(f"{ns}circle")) == 12 and ratio.find(f"{ns}polyline") is not None
    tiers = ET.fromstring(charts[3])
    assert [t.text for t in tiers.findall(f"{ns}text")][:2] == ["Bronze", "742 · 57%"]


def test_bars_are_drawn_to_scale() -> None:
    page = _page()
    sales = ET.fromstring(SVG.findall(page)[0])
    ns = "{http://www.w3.org/2000/svg}"
    heights = [float(r.get("height", "0")) for r in sales.findall(f"{ns}rect")]
    report = sample_report()
    first_sales, first_cost = (Decimal(report["cost"][0][k]) for k in ("net_sales", "program_cost"))
    assert abs(heights[1] / heights[0] - float(first_cost / first_sales)) < 0.01


def test_numbers_are_formatted_per_language() -> None:
    en, ru = _page(lang="en"), _page(lang="ru")
    net = sample_report()["kpis"]["month"]["net_sales"]
    assert net == "4385000.00"
    assert "€4,385,000.00" in en and "4\xa0385\xa0000,00\xa0€" in ru
    assert "October 2026" in en and "октябрь 2026" in ru
    assert "Program analytics" in en and "Аналитика программы" in ru
    assert "Key figures" in en and "Ключевые показатели" in ru
    assert "+7.9%" in en and "+7,9%" in ru  # the pilot's uplift
    assert "+138%" in en and "+138%" in ru  # its ROI (1.3757)
    assert '<html lang="ru">' in ru and "нояб" in ru


def test_ids_and_segments_from_files_are_escaped_everywhere() -> None:
    report = sample_report()
    evil = "<script>alert(1)</script>"
    report["top_movers"]["up"][0]["partner_id"] = evil
    report["at_risk"][0]["segment"] = evil
    report["sales"]["by_segment"][0]["segment"] = evil
    report["tiers"]["distribution"][0]["tier"] = evil  # in an SVG label and the matrix's heads
    report["pilots"][0]["cohort"] = evil
    report["warnings"].append(evil)
    page = _page(report)
    assert "<script" not in page.lower()
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6
    for svg in SVG.findall(page):
        ET.fromstring(svg)  # still well-formed


def test_no_script_no_external_fetch_and_a_csp_that_forbids_both() -> None:
    page = _page()
    assert "<script" not in page and "javascript:" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # links stay on the page (#anchors)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp
    policy = html.unescape(csp.group(1))
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    # the one style block is allowed by its hash
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_warnings_are_shown_prominently() -> None:
    page = _page()
    top = page.index('id="warnings"')
    assert top < page.index('<section id="kpis">')  # before every figure
    banner = page[top : page.index("</section>", top)]
    assert "no facts for 4 partners" in banner
    assert "2026.3-smb-boost: only 12 partners in the pilot group" in banner
    pilot = page[
        page.index("2026.3-smb-boost</h3>")
        if "2026.3-smb-boost</h3>" in page
        else page.index("2026.3-smb-boost ·") :
    ]
    assert 'role="alert"' in pilot[:800] and "pre-period trends differ" in pilot[:1200]
    assert "not defined (no incremental cost)" in page  # roi None
    assert "warnings" not in _page(empty_report()).split("<body>")[1].split("<section")[0]


def test_empty_lists_render_no_data_not_errors() -> None:
    for lang, none in (("en", "No data"), ("ru", "Нет данных")):
        page = _page(empty_report(), lang)
        for s in SECTIONS:
            assert f'<section id="{s}">' in page
        assert "<svg" not in page
        assert page.count(none) >= 12, (
            lang
        )  # cost, tiers x2, activity, sales x3, payouts, movers x2, risk, pilots


def test_missing_figures_print_a_dash() -> None:
    report = sample_report()
    report["kpis"]["month"]["retention_pct"] = None
    report["cost"][3]["cost_per_eur"] = None
    page = _page(report)
    assert '<td>Retention</td><td class="num">\N{EM DASH}</td>' in page
    ratio = ET.fromstring(SVG.findall(page)[2])
    assert len(ratio.findall("{http://www.w3.org/2000/svg}polyline")) == 2  # the line breaks there


def test_the_same_report_renders_the_same_bytes() -> None:
    assert render_report_html(sample_report(), "ru") == render_report_html(sample_report(), "ru")
    assert render_report_html(sample_report(), "xx") == render_report_html(sample_report(), "en")


def test_axis_ticks_are_round_and_cover_the_figures() -> None:
    assert nice_step(4_000_000) == 1_000_000 and nice_step(9) == 2.5 and nice_step(0) == 1.0
    assert axis([0.031, 0.047]) == [0.0, 0.02, 0.04, 0.06]
    ticks = axis([-120.0, 480.0])
    assert ticks[0] <= -120 and ticks[-1] >= 480 and 0.0 in ticks
    assert axis([]) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_the_movement_matrix_is_shaded_by_direction_and_count() -> None:
    page = _page()
    matrix = page[
        page.index('<table class="matrix">') : page.index("</table>", page.index('<table class="matrix">'))
    ]
    assert '<td class="hold5">690</td>' in matrix  # the largest cell: the darkest
    assert '<td class="up1">48</td>' in matrix and '<td class="down1">21</td>' in matrix
    heads = re.findall(r"<th>([^<]*)</th>", matrix)
    assert heads[:5] == ["", "Bronze", "Silver", "Gold", "Platinum"]


def test_the_report_build_report_makes_renders_in_both_languages(tmp_path: Path) -> None:
    """The real thing: build_report over DuckDB and the hand-made facts of its own tests."""
    doc = build_report(
        DuckDBEngine(write_world(tmp_path)), "2026-10", [default_rules()], "2026-11-01T02:30:00Z"
    )
    report = doc.to_json()
    for lang in ("en", "ru"):
        page = _page(report, lang)
        for s in SECTIONS:
            assert f'<section id="{s}">' in page, s
        charts = SVG.findall(page)
        assert len(charts) == 6
        for svg in charts:
            ET.fromstring(svg)
        for mover in report["top_movers"]["up"] + report["top_movers"]["down"]:
            assert f"<td>{mover['partner_id']}</td>" in page
        assert report["warnings"] and html.escape(report["warnings"][0], quote=False) in page


def test_a_p_value_below_the_shown_places_is_not_printed_as_zero() -> None:
    report = sample_report()
    report["pilots"][0]["p_value"] = "0.0000"
    assert "<th>p-value</th><td>&lt; 0.001</td>" in _page(report)
    assert "<th>p-значение</th><td>&lt; 0,001</td>" in _page(report, "ru")
