"""A targets upload on the local cloud: the template's S3 notification reaches the config loader,
which stores the version in the table and writes its report (issue 10)."""

from __future__ import annotations

from loyalty.adapters.dynamo import DynamoStore
from loyalty_local.cloud import REGION, LocalCloud

BODY = (
    b"target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,bands,method,version,effective_from\n"
    b"T-Q3,segment,SMB,net_sales,,quarter,2026-Q3,66000,,500,80:50|100:100|120:150,step,T1,2026-01-01\n"
    b"T-BAD,segment,SMB,net_sales,,quarter,2026-09,66000,,500,,,T1,2026-01-01\n"
)


def test_a_targets_upload_reaches_the_config_loader(cloud: LocalCloud) -> None:
    cloud.upload("targets/2026 q3.csv", BODY)
    cloud.run_until_idle()
    report = cloud.read_json("reports/config/targets/2026 q3.csv.report.json")
    assert (report["kind"], report["accepted"], report["rejected"]) == ("targets", 1, 1)
    assert report["errors"][0]["line"] == 3 and report["errors"][0]["column"] == "period"
    (ts,) = DynamoStore(cloud.outputs["TableName"], REGION).target_sets()
    assert (ts.version, [t.target_id for t in ts.targets]) == ("T1", ["T-Q3"])
