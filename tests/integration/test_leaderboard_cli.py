"""`loyalty leaderboard` over a bucket in moto: the close published the boards (Recognition), the
CLI reads them back through S3 (parsing, registration in main, text and --json)."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
from decimal import Decimal

import boto3
import pytest
from loyalty.adapters.memory.kernel import MemoryNotifier
from loyalty.adapters.s3sqs import S3Blobs
from loyalty.recognition.leaderboard import OPT_OUT, Standing, build
from loyalty.recognition.publish import Recognition, certificate_for
from loyalty_cli import main as cli
from loyalty_cli import recognition
from loyalty_cli.stack import Target
from loyalty_local.env import REGION

P = "2026-03"
_n = itertools.count(1)


@pytest.fixture()
def bucket(monkeypatch: pytest.MonkeyPatch) -> S3Blobs:
    name = f"leaderboards-{next(_n)}"
    s3 = boto3.client("s3", region_name=REGION)
    where = {} if REGION == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    s3.create_bucket(Bucket=name, **where)
    target = Target(boto3.session.Session(region_name=REGION), None, "loyalty", {"UploadBucketName": name})
    monkeypatch.setattr(Target, "from_args", classmethod(lambda cls, args: target))
    blobs = S3Blobs(name, REGION)
    standings = [
        Standing(f"P{i:05d}", f"Partner {i}", "smb", Decimal(1000 - 10 * i), Decimal(1000 - 10 * i), 2)
        for i in range(1, 15)
    ]
    standings += [
        Standing("P00099", "ООО «Ёлка-Юг»", "smb", Decimal(5000), Decimal(5000), 1, OPT_OUT),
        Standing("P00050", "Tie Co", "smb", Decimal(960), Decimal(960), 9),
    ]
    boards = build(P, standings, "net_sales")
    cert = certificate_for(boards["smb"], "Partner Loyalty Program", dt.date(2026, 4, 2))
    assert cert is not None
    Recognition(blobs, MemoryNotifier()).publish(P, boards, {"smb": cert}, 10)
    return blobs


def test_json_top_n_and_own_rank(bucket: S3Blobs, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["leaderboard", "--period", P, "--segment", "smb", "--partner", "P00004", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["period"], doc["segment"], doc["metric"], doc["top_n"]) == (P, "smb", "net_sales", 10)
    assert doc["ranked"] == 15 and doc["excluded"] == 1
    ranks = [(p["rank"], p["partner_id"]) for p in doc["places"]]
    assert ranks[:5] == [(1, "P00001"), (2, "P00002"), (3, "P00003"), (4, "P00050"), (4, "P00004")]
    assert len(ranks) == 10 and "P00099" not in {p for _, p in ranks}
    me = doc["partner"]
    assert me["place"] == {"rank": 4, "partner_id": "P00004", "name": "Partner 4", "value": "960"}
    assert me["above"]["partner_id"] == "P00050" and me["below"]["partner_id"] == "P00005"
    assert doc["certificate"]["partner_id"] == "P00001"
    assert doc["certificate"]["keys"]["ru"] == "certificates/2026-03/smb/P00001.ru.pdf"
    assert bucket.get("certificates/2026-03/smb/P00001.ru.pdf").startswith(b"%PDF-")


def test_text_shows_ranks_and_the_partner_of_the_month(bucket: S3Blobs) -> None:
    args = cli.build_parser().parse_args(["leaderboard", "--period", P, "--segment", "smb", "--top", "3"])
    out = io.StringIO()
    assert recognition.run(bucket, args, out) == 0
    text = out.getvalue()
    assert "top 3 of 15 ranked by net sales EUR (1 excluded from recognition)" in text
    assert "P00001" in text and "990.00" in text and "970.00" in text
    assert "P00004" not in text  # rank 4: beyond the top 3
    assert "Partner of the month: P00001 Partner 1" in text


def test_not_ranked_partner_and_missing_board(bucket: S3Blobs, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["leaderboard", "--period", P, "--segment", "smb", "--partner", "P00099"]) == 0
    assert "P00099 is not ranked in smb" in capsys.readouterr().out
    assert cli.main(["leaderboard", "--period", "2026-04", "--segment", "smb"]) == 1
    assert "no leaderboard published for 2026-04" in capsys.readouterr().err
    assert cli.main(["leaderboard", "--period", "2026-4", "--segment", "smb"]) == 2
    bad = argparse.Namespace(period=P, segment="smb", top=0, partner="", json=False)
    assert recognition.run(bucket, bad, io.StringIO()) == 2
