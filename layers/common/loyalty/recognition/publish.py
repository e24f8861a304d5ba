"""Publishing a period's recognition: each segment's board as JSON, the partner of the month's
certificate as PDF in every language, and the notices (docs/recognition.md).

Idempotent: keys depend only on (period, segment, partner, language). The board is written
last and holds everything the publication depends on (the places, `top_n`, the certificate's
fields and keys), so an identical board already stored means the segment was published
completely: nothing is rendered, written or sent again. A run that stopped before writing the
board repeats the segment; its notices carry the same `notice_id` (at least once, deduplicable)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loyalty.kernel.periods import check_period
from loyalty.kernel.ports import BlobStore, MissingBlob, Notifier
from loyalty.recognition import notices
from loyalty.recognition.certificate import (
    Certificate,
    certificate_key,
    certificate_number,
    certificate_pdf,
    key_part,
)
from loyalty.recognition.leaderboard import Leaderboard, partner_of_the_month
from loyalty.recognition.locales import LANGS


def leaderboard_key(period: str, segment: str) -> str:
    return f"leaderboards/{check_period(period)}/{key_part(segment)}.json"


def certificate_for(board: Leaderboard, program: str, issued_on: dt.date) -> Certificate | None:
    """The certificate of the board's partner of the month (None: no one has a positive value).
    `issued_on` should come from the close (not the wall clock) so a re-run issues the same."""
    place = partner_of_the_month(board)
    if place is None:
        return None
    return Certificate(
        number=certificate_number(board.period, board.segment, place.partner_id),
        period=board.period,
        segment=board.segment,
        partner_id=place.partner_id,
        partner_name=place.name,
        metric=board.metric,
        value=place.value,
        program=program,
        issued_on=issued_on,
    )


def _cert_json(cert: Certificate, keys: Mapping[str, str]) -> dict[str, Any]:
    return {
        "number": cert.number,
        "partner_id": cert.partner_id,
        "partner_name": cert.partner_name,
        "metric": cert.metric,
        "value": str(cert.value),
        "program": cert.program,
        "issued_on": cert.issued_on.isoformat(),
        "keys": dict(keys),
    }


@dataclass(frozen=True)
class PublishedBoard:
    """A board as published: the board, how many places were announced, the certificate keys."""

    board: Leaderboard
    top_n: int
    certificate: Mapping[str, Any] | None

    @classmethod
    def from_bytes(cls, body: bytes) -> PublishedBoard:
        doc = json.loads(body)
        return cls(Leaderboard.from_json(doc), int(doc.get("top_n", 10)), doc.get("certificate"))


def read_board(blobs: BlobStore, period: str, segment: str) -> PublishedBoard | None:
    try:
        return PublishedBoard.from_bytes(blobs.get(leaderboard_key(period, segment)))
    except MissingBlob:
        return None


class Recognition:
    def __init__(self, blobs: BlobStore, events: Notifier) -> None:
        self.blobs = blobs
        self.events = events

    def _stored(self, key: str) -> bytes | None:
        try:
            return self.blobs.get(key)
        except MissingBlob:
            return None

    def publish(
        self,
        period: str,
        boards: Mapping[str, Leaderboard],
        certificates: Mapping[str, Certificate],
        top_n: int,
    ) -> list[str]:
        """Every key of the publication (boards and certificates, segment by segment)."""
        _check(period, boards, certificates, top_n)
        keys: list[str] = []
        for segment in sorted(boards):
            board, cert = boards[segment], certificates.get(segment)
            cert_keys: dict[str, str] = (
                {lang: certificate_key(period, segment, cert.partner_id, lang) for lang in LANGS}
                if cert
                else {}
            )
            doc = board.to_json() | {
                "top_n": top_n,
                "certificate": _cert_json(cert, cert_keys) if cert else None,
            }
            body = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
            key = leaderboard_key(period, segment)
            keys += [key, *cert_keys.values()]
            if self._stored(key) == body:
                continue  # published completely before
            if cert is not None:
                for lang, cert_key in cert_keys.items():
                    self.blobs.put(cert_key, certificate_pdf(cert, lang), "application/pdf")
            digest = hashlib.sha256(body).hexdigest()
            notices.leaderboard_published(board, top_n, key, digest).send(self.events)
            if cert is not None:
                notices.partner_of_the_month(cert, cert_keys).send(self.events)
            self.blobs.put(key, body, "application/json")
        return keys


def _check(
    period: str, boards: Mapping[str, Leaderboard], certificates: Mapping[str, Certificate], top_n: int
) -> None:
    check_period(period)
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    for segment, board in boards.items():
        if board.period != period or board.segment != segment:
            raise ValueError(f"board {board.period}/{board.segment} filed as {period}/{segment}")
    for segment, cert in certificates.items():
        owner = boards.get(segment)
        if owner is None or cert.period != period or cert.segment != segment:
            raise ValueError(f"certificate {cert.number} ({cert.period}/{cert.segment}) has no board here")
        if owner.rank_of(cert.partner_id) is None:
            raise ValueError(f"certificate {cert.number}: {cert.partner_id} is not ranked in {segment}")
