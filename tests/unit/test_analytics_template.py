"""The analytics engine on AWS as template.yaml declares it (issue 13): Glue tables whose columns
are the facts' schema, found by partition projection (no crawler), an Athena workgroup with
encrypted results and a bytes-scanned limit, and the close's Analytics state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml
from loyalty.analytics.schema import SCHEMA_VERSION, TABLES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
RES = TEMPLATE["Resources"]


def _sub(value: Any) -> str:
    return str(value["Fn::Sub"] if isinstance(value, dict) else value)


def _glue_tables() -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]
        for r in RES.values()
        if r["Type"] == "AWS::Glue::Table"
    }


def test_each_glue_table_is_the_schema_s_table_with_its_columns_and_types() -> None:
    tables = _glue_tables()
    assert set(tables) == set(TABLES)
    for name, props in tables.items():
        table = TABLES[name]
        inp = props["TableInput"]
        assert props["DatabaseName"] == {"Ref": "AnalyticsDatabase"}
        cols = [(c["Name"], c["Type"]) for c in inp["StorageDescriptor"]["Columns"]]
        assert cols == [(c.name, c.hive) for c in table.columns], name
        assert [(k["Name"], k["Type"]) for k in inp["PartitionKeys"]] == [("period", "string")]
        assert _sub(inp["StorageDescriptor"]["Location"]).endswith("/" + table.prefix())
        assert "ParquetHiveSerDe" in inp["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
        assert inp["Parameters"]["schema_version"] == str(SCHEMA_VERSION)


def test_partitions_are_projected_from_the_period_no_crawler() -> None:
    assert not [r for r in RES.values() if r["Type"] == "AWS::Glue::Crawler"]
    for name, props in _glue_tables().items():
        p = props["TableInput"]["Parameters"]
        assert p["projection.enabled"] == "true"
        assert (p["projection.period.type"], p["projection.period.format"]) == ("date", "yyyy-MM")
        assert (p["projection.period.interval"], p["projection.period.interval.unit"]) == ("1", "MONTHS")
        assert p["projection.period.range"].endswith(",NOW")
        template = _sub(p["storage.location.template"])
        # the same key the close writes: analytics/v1/<table>/period=YYYY-MM/
        assert template.endswith(TABLES[name].prefix() + "period=${!period}/"), template


def test_the_workgroup_encrypts_results_and_limits_bytes_scanned_and_enforces_both() -> None:
    (wg,) = [r["Properties"] for r in RES.values() if r["Type"] == "AWS::Athena::WorkGroup"]
    conf = wg["WorkGroupConfiguration"]
    assert conf["EnforceWorkGroupConfiguration"] is True
    assert conf["BytesScannedCutoffPerQuery"] == {"Ref": "AnalyticsScanLimitBytes"}
    limit = TEMPLATE["Parameters"]["AnalyticsScanLimitBytes"]
    assert limit["MinValue"] >= 10_000_000  # Athena's own floor for the cutoff
    enc = conf["ResultConfiguration"]["EncryptionConfiguration"]
    assert enc["EncryptionOption"] == "SSE_KMS" and enc["KmsKey"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert "/analytics/athena-results/" in _sub(conf["ResultConfiguration"]["OutputLocation"])
    outputs = TEMPLATE["Outputs"]
    assert outputs["AnalyticsWorkgroup"]["Value"] == {"Ref": "AnalyticsWorkgroup"}
    assert outputs["AnalyticsDatabase"]["Value"] == {"Ref": "AnalyticsDatabase"}


def test_the_close_publishes_analytics_after_finish_with_retries_timeout_and_a_catch() -> None:
    asl = json.loads((ROOT / "statemachines" / "close.asl.json").read_text())
    states = asl["States"]
    assert states["Finish"]["Next"] == "Analytics"
    step = states["Analytics"]
    assert step["Parameters"]["FunctionName"] == "${AnalyticsFunctionArn}"
    assert step["Parameters"]["Payload"]["step"] == "publish"
    assert step["TimeoutSeconds"] <= 900 and step["Retry"] and step["Next"] == "Closed"
    assert states[step["Catch"][0]["Next"]]["Type"] == "Fail"
    fn = RES["AnalyticsFunction"]["Properties"]
    assert fn["Layers"] == [{"Ref": "AnalyticsLayer"}]
    assert fn["Timeout"] >= step["TimeoutSeconds"]
