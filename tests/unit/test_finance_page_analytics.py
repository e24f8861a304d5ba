"""Issue 13, point 5: the finance console page links the month's program analytics: the card,
its words in both languages, and the script that fills it from the finance API's analytics route
(text only, the link as the API signed it, opened in a new tab without an opener)."""

from __future__ import annotations

import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "functions" / "web"
SCRIPT = re.sub(r"/\*.*?\*/", "", (WEB / "static" / "finance.js").read_text(encoding="utf-8"), flags=re.S)
PAGE = (WEB / "templates" / "finance.html").read_text(encoding="utf-8")


def words(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("common", "finance"):
        out.update(json.loads((WEB / "messages" / f"{name}.{lang}.json").read_text(encoding="utf-8")))
    return out


def test_every_word_of_the_finance_page_exists_in_both_languages() -> None:
    en, ru = words("en"), words("ru")
    assert set(en) == set(ru)
    used = set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", SCRIPT)) | set(
        re.findall(r't\["([\w.]+)"\]', PAGE)
    )
    used = {k for k in used if not k.endswith(".")}
    assert {"finance.analytics", "finance.analytics.open", "finance.analytics.valid"} <= used
    assert used <= set(en), sorted(used - set(en))
    assert en["finance.analytics"] == "Program analytics" and ru["finance.analytics"] == "Аналитика программы"


def test_the_analytics_card_is_filled_from_the_route_and_hidden_without_a_report() -> None:
    card = PAGE[
        PAGE.index('id="analytics-card"') : PAGE.index("</section>", PAGE.index('id="analytics-card"'))
    ]
    assert " hidden>" in card  # shown only once the route answered 200
    assert 'target="_blank" rel="noopener noreferrer"' in card and 'id="analytics-figures"' in card
    fn = SCRIPT[SCRIPT.index("async function analytics()") : SCRIPT.index("async function exportCsv")]
    assert 'P.api(base() + "/analytics")' in fn
    assert "r.status === 404" in fn and "card.hidden = false" in fn
    assert 'setAttribute("href", r.data.html_url)' in fn and "key_figures" in fn
    assert "analytics()" in SCRIPT[SCRIPT.index("async function show(") : SCRIPT.index("const LISTS")]
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in SCRIPT, sink
