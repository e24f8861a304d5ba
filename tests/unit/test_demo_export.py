"""`make demo` leaves something to look at: a small closed world's artifacts exported to a local
folder under their bucket keys (statements HTML, CSV and a PDF, bank files, ingest reports...),
the emails as pages, every path listed and printed."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from loyalty_cli.demo_export import export_artifacts, print_exported
from loyalty_local.mail import Captured

from tests.unit.close_world import close, program, sale, upload


def test_a_closed_world_s_artifacts_are_exported_and_their_paths_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = program()
    upload(c, [sale("S1", "2026-07-03", qty=40), sale("S2", "2026-07-05", qty=3)])
    upload(c, [sale("S3", "2026-07-04", qty=30, partner="P00002")], partner="P00002")
    close(c, "2026-07")
    close(c, "2026-08")  # the July commission matures and is paid: bank files
    mail = Captured(
        "m1", "finance@acme.example", "Your statement", "en", "statement_ready", "P00001", "t", "<p>x</p>"
    )
    done = export_artifacts(c.blobs, tmp_path / "out", emails=lambda: [mail], pdf_sample=1)
    files = {str(p.relative_to(tmp_path / "out")) for ps in done.groups.values() for p in ps}
    keys = [
        k
        for p in ("statements/", "payouts/", "reports/", "leaderboards/", "certificates/")
        for k in c.blobs.keys(p)
    ]
    assert len(keys) >= 16
    for key in keys:
        assert key in files and (tmp_path / "out" / key).read_bytes() == c.blobs.get(key)
    assert {"statements/P00001/2026-08.html", "statements/P00001/2026-08.csv"} <= files
    assert {"payouts/2026-08/close-2026-08/pain001.xml", "payouts/2026-08/close-2026-08/payouts.csv"} <= files
    assert "leaderboards/2026-08/smb.json" in files and "certificates/2026-07/smb/P00001.ru.pdf" in files
    pdf = tmp_path / "out" / "statements/P00001/2026-08.pdf"  # rendered as a download would
    assert "Acme Systems" in pdfium.PdfDocument(pdf.read_bytes())[0].get_textpage().get_text_range()
    assert c.blobs.get("statements/P00001/2026-08.pdf") == pdf.read_bytes()
    assert (tmp_path / "out/emails/0001-P00001-statement_ready-en.html").read_text() == "<p>x</p>"
    index = (tmp_path / "out/index.txt").read_text()
    assert str(pdf) in index and index.count("\n") == done.count + len(done.groups)
    print_exported(done)
    shown = capsys.readouterr().out
    assert f"artifacts exported to {tmp_path / 'out'}/" in shown and str(pdf) in shown
    assert "bank files (CSV, pain.001 XML): " in shown and "ingest reports: " in shown
