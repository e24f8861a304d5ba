"""Issue 9, point 7 (the splitter's part): the uploading principal is recorded on the upload and
checked against the folder: a partner principal (a role session named `partner-<id>`, as the
portal's presigned uploads will be) uploads only to its own `incoming/<id>/`; elsewhere the file
is refused with a specific error and nothing is accrued. Internal principals (operators, the
program's own roles) may upload for any partner."""

from __future__ import annotations

import dataclasses

import pytest
from loyalty.ingest.principals import folder_refusal, partner_of_principal

from tests.unit.test_accrual_service import lines, world
from tests.unit.test_ingest_service import KEY, row, sales_csv, summary


def upload_as(principal: str, key: str = KEY) -> tuple[object, object]:
    c = world()
    c.blobs.put(key, sales_csv([row("S1"), row("S2")]), "text/csv")
    rec = c.ingest().handle(dataclasses.replace(c.s3_object(key), principal=principal))
    c.deliver()
    return c, rec


def test_a_partner_principal_uploading_into_another_partners_folder_is_refused() -> None:
    c, rec = upload_as("AWS:AROAEXAMPLEPORTAL:partner-P00002")
    assert rec.file_error_code == "wrong_uploader"  # type: ignore[attr-defined]
    assert rec.principal == "AWS:AROAEXAMPLEPORTAL:partner-P00002"  # type: ignore[attr-defined]
    s = summary(c)  # type: ignore[arg-type]
    assert s["status"] == "rejected" and s["accepted"] == 0
    assert "partner P00002 may only upload to incoming/P00002/" in s["file_error"]["message"]
    assert lines(c) == {}  # type: ignore[arg-type]


def test_a_partner_principal_uploads_into_its_own_folder() -> None:
    c, rec = upload_as("AWS:AROAEXAMPLEPORTAL:partner-P00001")
    assert rec.file_error_code == "" and set(lines(c)) == {"S1", "S2"}  # type: ignore[attr-defined,arg-type]


@pytest.mark.parametrize("principal", ["AWS:AROAEXAMPLEOPS:olga", "AWS:AIDAEXAMPLEPROGRAM", ""])
def test_internal_principals_upload_for_any_partner(principal: str) -> None:
    c, rec = upload_as(principal)
    assert rec.file_error_code == "" and rec.principal == principal  # type: ignore[attr-defined]
    assert set(lines(c)) == {"S1", "S2"}  # type: ignore[arg-type]


def test_the_rule() -> None:
    assert partner_of_principal("AWS:AROAX:partner-P00001") == "P00001"
    assert partner_of_principal("AWS:AROAX:partner-bad id") == "bad id"  # a partner, never internal
    assert partner_of_principal("AWS:AROAX:olga") is None
    assert partner_of_principal("AWS:AIDAEXAMPLE") is None
    assert folder_refusal("AWS:AROAX:partner-P00001", "P00001") is None
    assert "may only upload to incoming/P00001/" in (
        folder_refusal("AWS:AROAX:partner-P00001", "P00003") or ""
    )
