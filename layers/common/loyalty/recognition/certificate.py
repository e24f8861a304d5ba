"""The partner-of-the-month certificate: an autoescaped Jinja2 HTML page (A4 landscape), and its
PDF made with WeasyPrint (fonts: DejaVu Serif/Sans from the host, `fonts-dejavu-core`; they
cover Cyrillic). docs/recognition.md."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2

from loyalty.kernel.periods import check_period
from loyalty.recognition import locales


@dataclass(frozen=True)
class Certificate:
    number: str
    period: str
    segment: str
    partner_id: str
    partner_name: str
    metric: str
    value: Decimal
    program: str
    issued_on: dt.date


def certificate_number(period: str, segment: str, partner_id: str) -> str:
    """Deterministic (re-running a close issues the same number): `POTM-2026-03-1A2B3C4D`."""
    digest = hashlib.sha256("|".join(("potm", period, segment, partner_id)).encode()).hexdigest()
    return f"POTM-{check_period(period)}-{digest[:8].upper()}"


def key_part(text: str) -> str:
    """A segment or partner id as one S3 key segment (`/`, `%`, spaces... percent-encoded)."""
    return quote(text, safe="-_.")


def certificate_key(period: str, segment: str, partner_id: str, lang: str) -> str:
    return (
        f"certificates/{check_period(period)}/{key_part(segment)}/{key_part(partner_id)}"
        f".{locales.check_lang(lang)}.pdf"
    )


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("loyalty.recognition", "templates"),
        autoescape=True,  # names come from partner files: always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _name_size(name: str) -> str:
    """The name's font size: long names get smaller so every name fits on one or two lines."""
    n = len(name)
    return "40pt" if n <= 22 else "32pt" if n <= 34 else "26pt" if n <= 48 else "21pt"


def context(cert: Certificate, lang: str) -> dict[str, Any]:
    lg = locales.check_lang(lang)
    words = locales.WORDS[lg]
    return {
        "lang": lg,
        "w": words,
        "cert": cert,
        "month": locales.month_phrase(cert.period, lg),
        "issued": locales.long_date(cert.issued_on, lg),
        "metric_label": words.get(cert.metric, cert.metric),
        "figure": locales.figure(cert.metric, cert.value, lg),
        "name_size": _name_size(cert.partner_name),
    }


def certificate_html(cert: Certificate, lang: str) -> str:
    return _env().get_template("certificate.html").render(context(cert, lang))


def renderer_problem() -> str:
    """Why PDFs cannot be rendered on this host ("" = they can): WeasyPrint loads Pango and its
    fonts through native libraries, which a host may lack (a Lambda without a Pango layer)."""
    try:
        import weasyprint  # noqa: F401 - the import itself is the check
    except ImportError as exc:  # a function without the PdfLayer (template.yaml)
        return f"WeasyPrint is not installed here: {exc}"
    except OSError as exc:
        return f"WeasyPrint cannot load its native libraries: {exc}"
    return ""


def certificate_pdf(cert: Certificate, lang: str) -> bytes:
    """One A4 landscape page. Deterministic for the same certificate (no creation time)."""
    from weasyprint import HTML  # imported on use: loading it takes most of a second

    pdf = HTML(string=certificate_html(cert, lang)).write_pdf()
    assert pdf is not None  # no target given: the bytes are returned
    return bytes(pdf)
