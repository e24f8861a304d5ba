"""Publishing recognition: boards and certificates in the bucket, notices, idempotency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from loyalty.adapters.memory.kernel import MemoryBlobs, MemoryNotifier
from loyalty.recognition.leaderboard import OPT_OUT, Standing, build
from loyalty.recognition.publish import Recognition, certificate_for, leaderboard_key, read_board

P = "2026-03"
ISSUED = dt.date(2026, 4, 2)


def standings() -> list[Standing]:
    def s(pid: str, seg: str, v: int, name: str = "", why: str = "") -> Standing:
        return Standing(pid, name or f"Partner {pid}", seg, Decimal(v), Decimal(v), 3, why)

    return [
        s("P1", "smb", 900, "Ёлка-Юг"),
        s("P2", "smb", 700),
        s("P3", "smb", 700),
        s("P4", "smb", 50),
        s("P5", "smb", 9999, why=OPT_OUT),
        s("E1", "public sector", 0),
        s("E2", "public sector", -10),
    ]


class FlakyBlobs(MemoryBlobs):
    """Fails the first write of one key (a crash between the notices and the board)."""

    def __init__(self, fail_key: str) -> None:
        super().__init__()
        self.fail_key = fail_key

    def put(self, key: str, body: bytes, content_type: str) -> None:
        if key == self.fail_key:
            self.fail_key = ""
            raise RuntimeError("crash")
        super().put(key, body, content_type)


def publish(blobs: MemoryBlobs, events: MemoryNotifier, top_n: int = 2, extra: int = 0) -> list[str]:
    stand = standings() + (
        [Standing("P9", "Late", "smb", Decimal(extra), Decimal(extra), 1)] if extra else []
    )
    boards = build(P, stand, "net_sales")
    certs = {seg: c for seg, b in boards.items() if (c := certificate_for(b, "Loyalty", ISSUED)) is not None}
    return Recognition(blobs, events).publish(P, boards, certs, top_n)


def test_publishes_boards_certificates_and_notices() -> None:
    blobs, events = MemoryBlobs(), MemoryNotifier()
    keys = publish(blobs, events)
    assert keys == [
        "leaderboards/2026-03/public%20sector.json",
        "leaderboards/2026-03/smb.json",
        "certificates/2026-03/smb/P1.ru.pdf",
        "certificates/2026-03/smb/P1.en.pdf",
    ]
    assert sorted(blobs.keys()) == sorted(keys)
    for lang in ("ru", "en"):
        pdf = blobs.get(f"certificates/2026-03/smb/P1.{lang}.pdf")
        assert "Ёлка-Юг" in pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
        assert blobs.objects[f"certificates/2026-03/smb/P1.{lang}.pdf"][1] == "application/pdf"
    smb = read_board(blobs, P, "smb")
    assert smb is not None and smb.top_n == 2 and smb.board.excluded == 1
    assert [(p.rank, p.partner_id) for p in smb.board.places] == [(1, "P1"), (2, "P2"), (2, "P3"), (4, "P4")]
    assert (
        smb.certificate is not None and smb.certificate["keys"]["ru"] == "certificates/2026-03/smb/P1.ru.pdf"
    )
    pub = read_board(blobs, P, "public sector")
    assert pub is not None and pub.certificate is None  # no positive value: no partner of the month
    assert read_board(blobs, "2026-04", "smb") is None

    boards = {m.message["segment"]: m.message for m in events.of_type("leaderboard_published")}
    assert set(boards) == {"smb", "public sector"}
    assert [p["partner_id"] for p in boards["smb"]["top"]] == ["P1", "P2"]  # top_n places
    assert boards["smb"]["board"] == leaderboard_key(P, "smb") and boards["smb"]["ranked"] == 4
    (potm,) = events.of_type("partner_of_the_month")
    assert potm.attributes == {"partner": "P1", "type": "partner_of_the_month"}
    assert potm.message["certificates"] == {
        "ru": "certificates/2026-03/smb/P1.ru.pdf",
        "en": "certificates/2026-03/smb/P1.en.pdf",
    }
    assert potm.message["value"] == "900" and potm.message["certificate"].startswith("POTM-2026-03-")


def test_publishing_again_changes_nothing_and_sends_nothing() -> None:
    blobs, events = MemoryBlobs(), MemoryNotifier()
    first = publish(blobs, events)
    versions = {k: len(v) for k, v in blobs.versions.items()}
    sent = len(events.published)
    assert publish(blobs, events) == first
    assert {k: len(v) for k, v in blobs.versions.items()} == versions
    assert len(events.published) == sent


def test_a_changed_board_is_published_again() -> None:
    blobs, events = MemoryBlobs(), MemoryNotifier()
    publish(blobs, events)
    before = {m.message["segment"]: m.message["notice_id"] for m in events.of_type("leaderboard_published")}
    publish(blobs, events, extra=800)  # a late partner enters smb at rank 2
    after = [m.message for m in events.of_type("leaderboard_published")][2:]
    assert [m["segment"] for m in after] == ["smb"]  # the unchanged segment is not re-sent
    assert after[0]["notice_id"] != before["smb"]
    smb = read_board(blobs, P, "smb")
    assert smb is not None and [p.partner_id for p in smb.board.top(2)] == ["P1", "P9"]
    potms = events.of_type("partner_of_the_month")
    assert len(potms) == 2 and potms[0].message["notice_id"] == potms[1].message["notice_id"]


def test_a_crash_before_the_board_repeats_the_segment_with_the_same_notice_ids() -> None:
    blobs, events = FlakyBlobs(leaderboard_key(P, "smb")), MemoryNotifier()
    with pytest.raises(RuntimeError, match="crash"):
        publish(blobs, events)
    assert read_board(blobs, P, "smb") is None
    publish(blobs, events)
    assert read_board(blobs, P, "smb") is not None
    ids = [m.message["notice_id"] for m in events.published if m.message["segment"] == "smb"]
    assert len(ids) == 4 and len(set(ids)) == 2  # each smb notice twice, same id
    publish(blobs, events)
    assert len(events.published) == 5  # public sector once, smb twice (board + potm)


def test_inconsistent_input_is_refused() -> None:
    boards = build(P, standings(), "net_sales")
    cert = certificate_for(boards["smb"], "Loyalty", ISSUED)
    assert cert is not None
    rec = Recognition(MemoryBlobs(), MemoryNotifier())
    with pytest.raises(ValueError, match="top_n"):
        rec.publish(P, boards, {}, 0)
    with pytest.raises(ValueError, match="has no board"):
        rec.publish(P, {"public sector": boards["public sector"]}, {"smb": cert}, 10)
    with pytest.raises(ValueError, match="filed as"):
        rec.publish("2026-04", boards, {}, 10)
    stranger = certificate_for(
        build(P, [Standing("X", "X", "smb", Decimal(1), Decimal(1), 1)], "units")["smb"], "L", ISSUED
    )
    assert stranger is not None
    with pytest.raises(ValueError, match="not ranked"):
        rec.publish(P, boards, {"smb": stranger}, 10)


def test_certificate_for_the_partner_of_the_month() -> None:
    boards = build(P, standings(), "net_sales")
    cert = certificate_for(boards["smb"], "Loyalty", ISSUED)
    assert cert is not None
    assert (cert.partner_id, cert.partner_name, cert.value, cert.segment) == (
        "P1",
        "Ёлка-Юг",
        Decimal(900),
        "smb",
    )
    assert cert.issued_on == ISSUED and cert.metric == "net_sales"
    assert certificate_for(boards["public sector"], "Loyalty", ISSUED) is None
