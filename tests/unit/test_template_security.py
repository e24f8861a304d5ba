"""Issue 9, points 7 and 8: each function reads and writes only its own prefixes of the bucket
and partitions of the table; nothing is deleted; partner and parser principals cannot write the
internal area (proven by reading template.yaml, see template_iam)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.template_iam import (
    BUCKET,
    FUNCTIONS,
    PARSERS,
    SAM,
    TABLE,
    allowed,
    as_list,
    bucket_denies,
    functions,
    matches,
    render,
    statements,
    tag_of,
    translated,
)


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translated()


# -- point 8: no whole-bucket / whole-table policy templates ----------------------------------------
WHOLE = ("S3CrudPolicy", "S3ReadPolicy", "S3WritePolicy", "S3FullAccessPolicy", "DynamoDBCrudPolicy")
WHOLE += ("DynamoDBReadPolicy", "DynamoDBWritePolicy", "DynamoDBReconfigurePolicy")


def test_no_function_holds_a_policy_template_on_the_whole_bucket_or_table() -> None:
    for name, res in SAM["Resources"].items():
        for pol in res.get("Properties", {}).get("Policies", []) or []:
            if isinstance(pol, dict):
                assert not set(pol) & set(WHOLE), f"{name} holds {sorted(set(pol) & set(WHOLE))}"


S3_PROBES = {
    "incoming/": "incoming/P00001/sales.csv",
    "registry/": "registry/partners.csv",
    "rates/": "rates/2026-08.csv",
    "rules/": "rules/v3.yaml",
    "products/": "products/master.csv",
    "targets/": "targets/2026-q3.csv",
    "training/": "training/2026-q1.csv",
    "catalog/": "catalog/rewards.yaml",
    "reports/ingest/": "reports/ingest/incoming/P00001/sales.csv.summary.json",
    "reports/dlq/": "reports/dlq/2026-08-01/m1.json",
    "reports/config/": "reports/config/registry/partners.csv.report.json",
    "close/": "close/2026-08/close-2026-08/manifest.json",
    "payouts/": "payouts/2026-08/pain001.xml",
    "statements/": "statements/P00001/2026-08.csv",
    "simulations/": "simulations/job-1/batches/00000.json",
    "leaderboards/": "leaderboards/2026-08/smb.json",
    "certificates/": "certificates/2026-08/smb/P00001.ru.pdf",
    "console/": "console/2026-08/close-2026-08/index.json",  # issue 12: the finance console's projection
    # issue 13: the analytics facts (derived, re-written by a re-run) and the period's report
    "analytics/": "analytics/v1/partner_month/period=2026-08/part-00000.parquet",
    "analytics/reports/": "analytics/reports/2026-08/report.html",
}
# Derived data a function may delete: the analytics step removes the Parquet parts a re-run no
# longer writes (no money record is ever deleted).
S3_DELETES = {"AnalyticsFunction": {"analytics/", "analytics/reports/"}}
S3_READS = {
    "IngestSplitterFunction": {"incoming/", "reports/ingest/"},
    "AccrualWriterFunction": {"reports/ingest/"},
    "DlqReporterFunction": {"reports/ingest/", "reports/dlq/"},
    "ConfigLoaderFunction": {
        "registry/",
        "rates/",
        "rules/",
        "products/",
        "targets/",
        "training/",
        "catalog/",
        "reports/config/",
    },
    "CloseWorkerFunction": {"close/", "statements/", "leaderboards/"},
    "BankFilesFunction": {"close/", "payouts/"},
    "ApprovalsApiFunction": {"close/"},
    "CloseStarterFunction": set(),
    "ApprovalSweeperFunction": set(),
    "SimulatorFunction": {"rules/", "targets/", "simulations/"},
    # issue 12: the console reads the close, statements and bank files (presigned), writes its projection
    "FinanceApiFunction": {"close/", "statements/", "payouts/", "console/", "analytics/reports/"},
    "AnalyticsFunction": {"close/", "analytics/", "analytics/reports/"},
}
S3_WRITES = {
    "IngestSplitterFunction": {"reports/ingest/"},
    "AccrualWriterFunction": {"reports/ingest/"},
    "DlqReporterFunction": {"reports/ingest/", "reports/dlq/"},
    "ConfigLoaderFunction": {"reports/config/"},
    "CloseWorkerFunction": {"close/", "statements/", "leaderboards/", "certificates/"},
    "BankFilesFunction": {"payouts/"},
    "ApprovalsApiFunction": set(),
    "CloseStarterFunction": set(),
    "ApprovalSweeperFunction": set(),
    "SimulatorFunction": {"simulations/"},
    "FinanceApiFunction": {"console/"},
    "AnalyticsFunction": {"analytics/", "analytics/reports/"},
}


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_each_function_reads_and_writes_only_its_prefixes(cfn: dict[str, Any], fn: str) -> None:
    role = f"{fn}Role"
    reads = {
        p
        for p, key in S3_PROBES.items()
        if allowed(cfn, role, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}")
    }
    writes = {
        p
        for p, key in S3_PROBES.items()
        if allowed(cfn, role, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/{key}")
    }
    assert reads == S3_READS[fn], (fn, "reads", sorted(reads ^ S3_READS[fn]))
    assert writes == S3_WRITES[fn], (fn, "writes", sorted(writes ^ S3_WRITES[fn]))
    deletes = {
        p
        for p, key in S3_PROBES.items()
        if allowed(cfn, role, "s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/{key}")
    }
    assert deletes == S3_DELETES.get(fn, set()), (fn, "deletes", sorted(deletes))
    for action in ("s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:PutBucketPolicy"):
        for key in S3_PROBES.values():
            assert not allowed(cfn, role, action, f"arn:aws:s3:::{BUCKET}/{key}"), (fn, action, key)
    for action in (
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketAcl",
        "s3:DeleteBucket",
        "s3:PutBucketVersioning",
    ):
        assert not allowed(cfn, role, action, f"arn:aws:s3:::{BUCKET}"), (fn, action)


# Partitions of the single table (layers/common/loyalty/adapters/dynamo/models.py) and the GSI's.
PARTITIONS = {
    "PARTNER#": "PARTNER#P00001",
    "UPLOAD#": "UPLOAD#0a1b2c",
    "OBJECT#": "OBJECT#incoming/P00001/sales.csv",
    "RULES": "RULES",
    "FX": "FX",
    "CONFIG": "CONFIG",
    "CLOSE#": "CLOSE#2026-08",
    "PRODUCT#": "PRODUCT#SKU-1",
    "TARGETS": "TARGETS",
    "TRAINING#": "TRAINING#P00001",
    "CATALOG": "CATALOG",
    "POINTS#": "POINTS#P00001",
}
INDEX_PARTITIONS = {"PARTNERS": "PARTNERS", "CLOSES": "CLOSES", "LEDGER#": "LEDGER#2026-08"}
DDB_WRITES = {
    "IngestSplitterFunction": {"UPLOAD#", "OBJECT#"},
    "AccrualWriterFunction": {"PARTNER#", "UPLOAD#"},
    "DlqReporterFunction": {"UPLOAD#", "OBJECT#"},
    "ConfigLoaderFunction": {"PARTNER#", "RULES", "FX", "PRODUCT#", "TARGETS", "TRAINING#", "CATALOG"},
    "CloseWorkerFunction": {"PARTNER#", "CLOSE#", "CONFIG", "POINTS#"},
    "BankFilesFunction": {"CLOSE#"},
    "ApprovalsApiFunction": {"CLOSE#"},
    "CloseStarterFunction": {"CLOSE#"},
    "ApprovalSweeperFunction": {"CLOSE#"},
    "SimulatorFunction": set(),  # read only
    "FinanceApiFunction": {"CLOSE#"},  # issue 12: decisions through the approvals service
    "AnalyticsFunction": set(),  # issue 13: reads the rules versions only
}
# Who may read a close header (it holds the encrypted finance callback token).
CLOSE_READERS = {
    "CloseWorkerFunction",
    "BankFilesFunction",
    "ApprovalsApiFunction",
    "CloseStarterFunction",
    "ApprovalSweeperFunction",
    "SimulatorFunction",  # the history: close lines and headers (read only)
    "FinanceApiFunction",  # issue 12: the finance console (as the approvals API)
}


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_each_function_writes_only_its_table_partitions(cfn: dict[str, Any], fn: str) -> None:
    role = f"{fn}Role"
    writes = {p for p, k in PARTITIONS.items() if allowed(cfn, role, "dynamodb:PutItem", TABLE, [k])}
    assert writes == DDB_WRITES[fn], (fn, sorted(writes ^ DDB_WRITES[fn]))
    for action in ("dynamodb:UpdateItem", "dynamodb:BatchWriteItem"):
        extra = {p for p, k in PARTITIONS.items() if allowed(cfn, role, action, TABLE, [k])} - DDB_WRITES[fn]
        assert not extra, (fn, action, sorted(extra))
    # a request naming no partition (Scan) or a mix with a foreign partition is refused
    assert not allowed(cfn, role, "dynamodb:Scan", TABLE), fn
    assert not allowed(cfn, role, "dynamodb:DeleteTable", TABLE), fn
    readers = {p for p, k in PARTITIONS.items() if allowed(cfn, role, "dynamodb:GetItem", TABLE, [k])}
    assert ("CLOSE#" in readers) == (fn in CLOSE_READERS), (fn, sorted(readers))
    assert readers >= DDB_WRITES[fn], (fn, sorted(readers))  # what it writes it can read back


def test_ledger_payouts_and_close_records_are_append_only(cfn: dict[str, Any]) -> None:
    """No role may delete an item (the ledger, payouts and committed close lines live under
    PARTNER#, the close records under CLOSE#); only the steps that must change a partner's items
    may update them (accrual writer: month totals; close worker: sale status), and every role
    carries an explicit deny so a policy added later cannot grant a delete."""
    for role in [f"{fn}Role" for fn in functions(cfn)]:
        for k in (*PARTITIONS.values(), *INDEX_PARTITIONS.values()):
            assert not allowed(cfn, role, "dynamodb:DeleteItem", TABLE, [k]), (role, k)
        denies = [
            s
            for s in statements(cfn, role)
            if s["Effect"] == "Deny" and any(matches(a, "dynamodb:DeleteItem") for a in as_list(s["Action"]))
        ]
        assert denies, f"{role} has no explicit deny of DeleteItem"
    updaters = {
        fn for fn in functions(cfn) if allowed(cfn, f"{fn}Role", "dynamodb:UpdateItem", TABLE, ["PARTNER#P1"])
    }
    assert updaters <= {"AccrualWriterFunction", "CloseWorkerFunction"}, updaters


# -- point 7: trust zones ---------------------------------------------------------------------------
def _bucket_denies_write(principal_tags: dict[str, str], key: str) -> bool:
    """Does the bucket policy deny a PutObject of `key` by a principal carrying `principal_tags`?"""
    for st in bucket_denies():
        if not any(matches(a, "s3:PutObject") for a in as_list(st["Action"])):
            continue
        res = f"arn:aws:s3:::{BUCKET}/{key}"
        if "NotResource" in st:
            targets = [
                render(r).replace(
                    "${aws:PrincipalTag/loyalty-partner}", principal_tags.get("loyalty-partner", "")
                )
                for r in as_list(st["NotResource"])
            ]
            if any(matches(t, res) for t in targets):
                continue
        elif not any(matches(render(r), res) for r in as_list(st["Resource"])):
            continue
        cond = st.get("Condition", {})
        if not cond:
            continue
        ok = True
        for op, kv in cond.items():
            for k, want in kv.items():
                if not k.startswith("aws:PrincipalTag/"):
                    ok = False
                    continue
                have = principal_tags.get(k.split("/", 1)[1])
                if op == "StringEquals":
                    ok &= have in as_list(want)
                elif op == "StringNotEquals":
                    ok &= have not in as_list(want)
                else:
                    ok = False
        if ok:
            return True
    return False


INTERNAL = (
    "registry/",
    "rates/",
    "rules/",
    "products/",
    "targets/",
    "training/",
    "catalog/",
    "close/",
    "payouts/",
    "statements/",
    "reports/config/",
    "simulations/",
)


def test_partner_and_parser_principals_cannot_write_the_internal_area(cfn: dict[str, Any]) -> None:
    for fn in PARSERS:
        assert tag_of(cfn, fn, "loyalty-zone") == "parser", fn
        for p in (*INTERNAL, "incoming/"):
            assert _bucket_denies_write({"loyalty-zone": "parser"}, S3_PROBES[p]), (fn, p)
        assert not _bucket_denies_write({"loyalty-zone": "parser"}, S3_PROBES["reports/ingest/"])
    partner = {"loyalty-zone": "partner", "loyalty-partner": "P00001"}
    for p in (*INTERNAL, "reports/ingest/", "reports/dlq/"):
        assert _bucket_denies_write(partner, S3_PROBES[p]), p
    assert not _bucket_denies_write(partner, "incoming/P00001/sales.csv")
    assert _bucket_denies_write(partner, "incoming/P00002/sales.csv")  # another partner's folder
    # and only the bank-file step writes bank files, whoever else holds s3:PutObject
    assert _bucket_denies_write({"loyalty-zone": "internal"}, "payouts/2026-08/pain001.xml")
    assert not _bucket_denies_write(
        {"loyalty-zone": "internal", "loyalty-bank-files": "write"}, "payouts/x.xml"
    )


def test_partner_upload_role_writes_only_its_own_folder(cfn: dict[str, Any]) -> None:
    role = SAM["Resources"]["PartnerUploadRole"]["Properties"]
    assert {t["Key"]: t["Value"] for t in role["Tags"]}["loyalty-zone"] == "partner"
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert all("sts:TagSession" in as_list(s["Action"]) for s in trust)
    assert all("aws:RequestTag/loyalty-partner" in str(s["Condition"]) for s in trust)
    # the session is named partner-<id>: the principal the splitter checks against the folder
    assert all(s["Condition"]["StringLike"]["sts:RoleSessionName"] == "partner-?*" for s in trust)
    from loyalty.ingest.principals import PARTNER_SESSION_PREFIX

    assert PARTNER_SESSION_PREFIX == "partner-"
    stmts = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    puts = [s for s in stmts if s["Effect"] == "Allow" and "s3:PutObject" in as_list(s["Action"])]
    assert [render(r) for s in puts for r in as_list(s["Resource"])] == [
        f"arn:aws:s3:::{BUCKET}/incoming/${{aws:PrincipalTag/loyalty-partner}}/*"
    ]
    for st in stmts:
        acts = set(as_list(st["Action"]))
        assert acts <= {"s3:PutObject", "s3:AbortMultipartUpload"} or (
            acts == {"kms:GenerateDataKey"} and "kms:ViaService" in str(st["Condition"])
        ), st


def test_only_the_config_loader_starts_simulations_and_nobody_else_runs_workflows_it_should_not(
    cfn: dict[str, Any],
) -> None:
    sim = "arn:aws:states:eu-west-1:111122223333:stateMachine:stk-simulation"
    close = "arn:aws:states:eu-west-1:111122223333:stateMachine:stk-close"
    starters = {fn for fn in FUNCTIONS if allowed(cfn, f"{fn}Role", "states:StartExecution", sim)}
    assert starters == {"ConfigLoaderFunction"}
    assert not allowed(cfn, "ConfigLoaderFunctionRole", "states:StartExecution", close)
    assert not allowed(cfn, "SimulatorFunctionRole", "states:StartExecution", close)
    env = SAM["Resources"]["ConfigLoaderFunction"]["Properties"]["Environment"]["Variables"]
    assert render(env["SIMULATION_STATE_MACHINE_ARN"]) == sim


# -- issue 12: the notifier (emails partners receive) ------------------------------------------
def test_the_notifier_reads_upload_reports_writes_only_its_items_and_sends_only_as_the_program(
    cfn: dict[str, Any],
) -> None:
    role = "NotifierFunctionRole"
    reads = {
        p
        for p, key in S3_PROBES.items()
        if allowed(cfn, role, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}")
    }
    assert reads == {"reports/ingest/"}
    assert not any(
        allowed(cfn, role, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/{k}") for k in S3_PROBES.values()
    )
    writes = {
        p
        for p, k in {**PARTITIONS, "NOTIFY#": "NOTIFY#P00001", "SUPPRESS#": "SUPPRESS#ab12"}.items()
        if allowed(cfn, role, "dynamodb:PutItem", TABLE, [k])
    }
    assert writes == {"NOTIFY#", "SUPPRESS#"}
    assert allowed(cfn, role, "dynamodb:GetItem", TABLE, ["PARTNER#P00001"])
    assert not allowed(cfn, role, "dynamodb:GetItem", TABLE, ["CLOSE#2026-08"])  # no callback tokens
    assert not allowed(cfn, role, "dynamodb:Scan", TABLE)
    assert not allowed(cfn, role, "dynamodb:DeleteItem", TABLE, ["NOTIFY#P00001"])
    identity = "arn:aws:ses:eu-west-1:111122223333:identity/ref:MailFrom"  # the MailFrom parameter
    assert allowed(cfn, role, "ses:SendRawEmail", identity)
    assert not allowed(
        cfn, role, "ses:SendRawEmail", "arn:aws:ses:eu-west-1:111122223333:identity/other.example"
    )
    assert not allowed(cfn, role, "ses:SendRawEmail", "*")


# -- issue 12: the partner portal's API (PartnerApiFunction) ------------------------------------------
PORTAL_PARTITIONS = {
    **PARTITIONS,
    "PORTAL#": "PORTAL#P00001",
    "USER#": "USER#anna",
    "NOTIFY#": "NOTIFY#P00001",
}


def test_partner_api_reads_and_writes_only_what_a_partner_page_needs(cfn: dict[str, Any]) -> None:
    """Reads statements, leaderboards and ingest reports, writes nothing in the bucket (uploads
    are signed by the partner upload role's session); on the table it writes points (redemptions),
    its own portal items and profiles; never a close header, a partner's items, a Scan or a delete."""
    role = "PartnerApiFunctionRole"
    obj = f"arn:aws:s3:::{BUCKET}/"
    reads = {p for p, key in S3_PROBES.items() if allowed(cfn, role, "s3:GetObject", obj + key)}
    assert reads == {"statements/", "leaderboards/", "reports/ingest/"}, sorted(reads)
    assert not allowed(cfn, role, "s3:GetObject", obj + "close/2026-08/review.json")  # no close files
    assert not any(allowed(cfn, role, "s3:PutObject", obj + key) for key in S3_PROBES.values())
    assert not allowed(cfn, role, "s3:GetObject", obj + "reports/dlq/x.json")
    writes = {p for p, k in PORTAL_PARTITIONS.items() if allowed(cfn, role, "dynamodb:PutItem", TABLE, [k])}
    assert writes == {"POINTS#", "CATALOG", "PORTAL#", "USER#", "NOTIFY#"}, sorted(writes)
    updates = {
        p for p, k in PORTAL_PARTITIONS.items() if allowed(cfn, role, "dynamodb:UpdateItem", TABLE, [k])
    }
    assert updates == writes
    readers = {p for p, k in PORTAL_PARTITIONS.items() if allowed(cfn, role, "dynamodb:GetItem", TABLE, [k])}
    assert "CLOSE#" not in readers and readers >= writes | {"PARTNER#", "RULES", "TARGETS"}
    assert allowed(cfn, role, "dynamodb:Query", TABLE + "/index/gsi1", ["CLOSES"])
    assert not allowed(cfn, role, "dynamodb:Scan", TABLE)
    assert not allowed(cfn, role, "dynamodb:DeleteItem", TABLE, ["PORTAL#P00001"])
    upload_role = render({"Fn::GetAtt": ["PartnerUploadRole", "Arn"]})
    assert allowed(cfn, role, "sts:AssumeRole", upload_role) and allowed(
        cfn, role, "sts:TagSession", upload_role
    )
    for other in (
        "arn:aws:iam::111122223333:role/stk-finance-approver",
        render({"Fn::GetAtt": ["FinanceRole", "Arn"]}),
    ):
        assert not allowed(cfn, role, "sts:AssumeRole", other)
    routes = SAM["Resources"]["PartnerApiFunction"]["Properties"]["Events"].values()
    assert all(render(e["Properties"]["ApiId"]) == render({"Ref": "PortalApi"}) for e in routes)
    assert all("Auth" not in e["Properties"] for e in routes)  # every route behind the JWT authorizer
