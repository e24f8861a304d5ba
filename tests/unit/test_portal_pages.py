"""The partner dashboard's static parts: every word it asks for exists in both languages, and the
script never writes HTML from data (text nodes only), fetches nothing from outside the stack."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "functions" / "web"
SCRIPT = (WEB / "static" / "partner.js").read_text(encoding="utf-8")
CODE = re.sub(r"/\*.*?\*/", "", SCRIPT, flags=re.S)  # without its comments


def words(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("common", "partner"):
        out.update(json.loads((WEB / "messages" / f"{name}.{lang}.json").read_text(encoding="utf-8")))
    return out


def test_every_word_the_dashboard_uses_exists_in_both_languages() -> None:
    en, ru = words("en"), words("ru")
    assert set(en) == set(ru)
    used = {k for k in re.findall(r"""\bt\(\s*["']([\w.]+)["']""", CODE) if not k.endswith(".")}
    used |= {f"partner.{k}" for k in ("provisional", "held", "payable", "paid", "carried")}
    used |= {f"partner.col.{k}" for k in ("sale", "date", "amount", "rate", "commission", "trace")}
    used |= {f"partner.status.{s}" for s in ("pending", "processed", "rejected")}
    assert used, "no words found"
    assert used <= set(en), sorted(used - set(en))
    for key in used:
        assert set(re.findall(r"\{\w+\}", en[key])) == set(re.findall(r"\{\w+\}", ru[key])), key


def test_the_script_writes_text_only_and_talks_to_the_stack_only() -> None:
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in CODE, sink
    assert not re.search(
        r"https?://", CODE.replace("http://www.w3.org/2000/svg", "")
    )  # no CDN, no outside host (presigned URLs come from the API)
    page = (WEB / "templates" / "partner.html").read_text(encoding="utf-8")
    assert '<script src="/assets/partner.js">' in page and 'href="/assets/partner.css"' in page
    assert not re.search(r"https?://", page)
