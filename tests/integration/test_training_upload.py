"""A training upload on the local cloud: the template's S3 notification on `training/` reaches the
config loader, which stores the completions in the table (conditionally, per partner, person and
course) and writes its report; the same file again changes nothing (issue 11, point 2)."""

from __future__ import annotations

from loyalty.adapters.dynamo import DynamoStore
from loyalty_local.cloud import REGION, LocalCloud

BODY = (
    "partner_id;person_id;course;completed_on;certificate_id;expires_on\n"
    "P00001;Ёлкина-1;CERT-SALES;2026-03-01;C-100;2028-03-01\n"
    "P00099;E-2;CERT-SALES;2026-03-01;C-101;\n"
    "P00002;E-3;CERT-PRE;2026-03-01;C-102;2026-01-01\n"
).encode("cp1251")


def test_a_training_upload_reaches_the_config_loader(cloud: LocalCloud) -> None:
    cloud.upload("training/2026 q1.csv", BODY)
    cloud.run_until_idle()
    report = cloud.read_json("reports/config/training/2026 q1.csv.report.json")
    assert (report["kind"], report["accepted"], report["rejected"], report["new"]) == ("training", 1, 2, 1)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(3, "partner_id"), (4, "expires_on")]
    store = DynamoStore(cloud.outputs["TableName"], REGION)
    (c,) = store.completions("P00001")
    assert (c.person_id, c.certificate_id, c.source) == ("Ёлкина-1", "C-100", "training/2026 q1.csv")

    cloud.upload("training/2026 q1 again.csv", BODY)
    cloud.run_until_idle()
    again = cloud.read_json("reports/config/training/2026 q1 again.csv.report.json")
    assert (again["new"], again["unchanged"], again["rejected"]) == (0, 1, 2)
    assert store.completions("P00001") == [c]
