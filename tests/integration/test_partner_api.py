"""The Partner API's handler on the local cloud (moto): JWT events as API Gateway hands them
after its authorizer, the DynamoDB and S3 adapters, presigned links, and isolation on every route."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
import requests
from loyalty_local.cloud import LocalCloud
from loyalty_local.httpapi import jwt_http_api_event

from tests.conftest import sales_csv, summary

FN = "PartnerApiFunction"
ACME = {"cognito:username": "anna", "cognito:groups": ["partner"], "custom:partner_id": "P00001"}
BETA = {"cognito:username": "boris", "cognito:groups": ["partner"], "custom:partner_id": "P00002"}
DELTA = {"cognito:username": "dora", "cognito:groups": ["partner"], "custom:partner_id": "D00001"}
FIONA = {"cognito:username": "fiona", "cognito:groups": ["finance"]}


def call(
    cloud: LocalCloud,
    method: str,
    path: str,
    claims: dict[str, Any],
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    route = cloud.route(method, path)
    assert route is not None, (method, path)
    params = route_params(route.key.split(" ", 1)[1], path.split("?", 1)[0])
    ev = jwt_http_api_event(method, path, claims, body, headers, route.key, params)
    result, error = cloud.invoke(FN, ev)
    assert error is None, error
    return int(result["statusCode"]), json.loads(result.get("body") or "null")


def route_params(template: str, path: str) -> dict[str, str]:
    """`/partners/{partner_id}/x` against `/partners/P00001/x` -> {"partner_id": "P00001"}."""
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    m = re.fullmatch(pattern, path)
    assert m, (template, path)
    return m.groupdict()


def test_profile_and_language(cloud: LocalCloud) -> None:
    code, me = call(cloud, "GET", "/me", ACME, headers={"accept-language": "ru-RU,ru;q=0.9"})
    assert code == 200 and me["lang"] == "ru" and me["partner"]["partner_id"] == "P00001"
    code, saved = call(cloud, "PUT", "/me", ACME, {"lang": "en"})
    assert code == 200 and saved["saved_lang"] == "en"
    code, me = call(cloud, "GET", "/me", ACME, headers={"accept-language": "ru"})
    assert me["lang"] == "en"  # the saved choice wins over the browser's
    code, bad = call(cloud, "PUT", "/me", ACME, {"lang": "de"})
    assert code == 400 and bad["details"][0]["field"].endswith("lang")
    code, _ = call(cloud, "GET", "/me", {"cognito:groups": ["partner"]})
    assert code == 401


def test_email_preferences_are_the_partner_s_and_the_notifier_reads_them(cloud: LocalCloud) -> None:
    from loyalty.adapters.dynamo.notify import NotifierTables
    from loyalty_local.env import REGION

    code, prefs = call(cloud, "GET", "/partners/P00001/email", ACME)
    assert code == 200 and prefs["off"] == [] and "payout_sent" in prefs["kinds"]
    code, prefs = call(cloud, "PUT", "/partners/P00001/email", ACME, {"off": ["payout_sent", "tier_changed"]})
    assert code == 200 and prefs["off"] == ["payout_sent", "tier_changed"]
    stored = NotifierTables(cloud.outputs["TableName"], REGION).prefs("P00001")  # what the notifier reads
    assert not stored.wants("payout_sent") and stored.wants("statement_ready")
    code, bad = call(cloud, "PUT", "/partners/P00001/email", ACME, {"off": ["newsletter"]})
    assert code == 400 and bad["details"][0]["field"] == "body.off.0"
    code, _ = call(cloud, "PUT", "/partners/P00001/email", BETA, {"off": ["all"]})
    assert code == 404  # another partner's: not revealed
    assert NotifierTables(cloud.outputs["TableName"], REGION).prefs("P00001").wants("statement_ready")


def test_balance_lines_and_a_bad_query_on_dynamodb(cloud: LocalCloud) -> None:
    rows = [
        [f"S{i:03d}", "P00001", "2026-08-0" + str(1 + i % 9), "SKU-1", 1, "100.00", "EUR", "", "", ""]
        for i in range(30)
    ]
    cloud.upload("incoming/P00001/aug.csv", sales_csv(rows))
    cloud.run_until_idle()
    code, bal = call(cloud, "GET", "/partners/P00001/balance?lang=ru", ACME)
    assert (
        code == 200
        and bal["provisional"]["amount"] == "60.00"
        and bal["minimum_payout"]["text"] == "50,00\xa0€"
    )
    seen: list[str] = []
    cursor = ""
    while True:
        code, page = call(cloud, "GET", f"/partners/P00001/lines?month=2026-08&limit=7{cursor}", ACME)
        assert code == 200 and len(page["lines"]) <= 7
        seen += [x["sale_id"] for x in page["lines"]]
        if page["cursor"] is None:
            break
        cursor = f"&cursor={page['cursor']}"
    assert sorted(seen) == sorted(r[0] for r in rows)
    assert "rules 2026.1" in page["lines"][-1]["trace"] if page["lines"] else True
    code, bad = call(cloud, "GET", "/partners/P00001/lines?month=2026-13", ACME)
    assert code == 400 and bad["error"] == "invalid request"
    code, bad = call(cloud, "GET", "/partners/P00001/lines?cursor=garbage", ACME)
    assert code == 400 and bad["details"] == [{"field": "cursor"}]


def test_upload_is_presigned_for_the_own_folder_and_reports_back(cloud: LocalCloud) -> None:
    code, form = call(
        cloud,
        "POST",
        "/partners/P00001/uploads",
        ACME,
        {"filename": "nov.csv", "content_type": "text/csv", "size": 400},
    )
    assert code == 201 and form["key"].startswith(f"incoming/P00001/{form['upload_id']}_nov")
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    conditions = policy["conditions"]
    limit = cloud.functions[FN].env["MAX_UPLOAD_BYTES"]  # the template's MaxUploadBytes
    assert ["content-length-range", 1, int(limit)] in conditions and form["max_bytes"] == int(limit)
    assert {"key": form["key"]} in conditions and {"Content-Type": "text/csv"} in conditions
    body = sales_csv([["N1", "P00001", "2026-08-03", "SKU-1", 1, "10.00", "EUR", "", "", ""]])
    sent = requests.post(
        form["url"], data=form["fields"], files={"file": ("nov.csv", body, "text/csv")}, timeout=10
    )
    assert sent.status_code in (200, 204), sent.text
    cloud.run_until_idle()
    assert summary(cloud, form["key"])["accepted"] == 1
    # signed by a session (of the partner upload role), not by the function's own keys
    assert form["fields"]["x-amz-security-token"]
    code, got = call(cloud, "GET", f"/partners/P00001/uploads/{form['upload_id']}", ACME)
    assert code == 200 and got["status"] == "processed" and got["report"]["accepted"] == 1
    code, listed = call(cloud, "GET", "/partners/P00001/uploads", ACME)
    assert [u["upload_id"] for u in listed["uploads"]] == [form["upload_id"]]
    code, _ = call(
        cloud,
        "POST",
        "/partners/P00001/uploads",
        ACME,
        {"filename": "x.exe", "content_type": "text/csv", "size": 4},
    )
    assert code == 400


def test_redemption_needs_an_idempotency_key_and_refuses_with_numbers(cloud: LocalCloud) -> None:
    code, bad = call(cloud, "POST", "/partners/P00001/redemptions", ACME, {"reward_id": "MUG"})
    assert code == 400 and "Idempotency-Key" in bad["error"]
    code, refused = call(
        cloud, "POST", "/partners/P00001/redemptions", ACME, {"reward_id": "MUG"}, {"Idempotency-Key": "r-1"}
    )
    assert code == 422 and refused["details"] == [{"code": "unknown_reward"}]
    code, _ = call(
        cloud,
        "POST",
        "/partners/P00001/redemptions",
        ACME,
        {"reward_id": "MUG", "quantity": 2},
        {"Idempotency-Key": "r-2"},
    )
    assert code == 400
    code, cat = call(cloud, "GET", "/partners/P00001/catalog", ACME)
    assert code == 200 and cat["rewards"] == [] and cat["spendable"] == 0


def test_statement_of_a_format_not_written_is_404(cloud: LocalCloud) -> None:
    cloud.client("s3").put_object(Bucket=cloud.bucket, Key="statements/P00001/2026-08.csv", Body=b"a,b\n")
    code, listed = call(cloud, "GET", "/partners/P00001/statements", ACME)
    assert code == 200 and listed["statements"][0]["formats"] == ["csv"]
    code, link = call(cloud, "GET", "/partners/P00001/statements/2026-08?format=csv", ACME)
    assert (
        code == 200
        and "statements/P00001/2026-08.csv" in link["url"]
        and "attachment" in requests.utils.unquote(link["url"])
    )
    assert requests.get(link["url"], timeout=10).content == b"a,b\n"
    code, missing = call(cloud, "GET", "/partners/P00001/statements/2026-08?format=pdf", ACME)
    assert code == 404 and "PDF" in missing["error"]


def concrete(path: str) -> str:
    return (
        path.replace("{partner_id}", "P00001")
        .replace("{period}", "2026-08")
        .replace("{upload_id}", "20260801000000-0000abcd")
    )


BODIES: dict[str, Any] = {
    "/partners/{partner_id}/email": {"off": ["payout_sent"]},
    "/partners/{partner_id}/redemptions": {"reward_id": "MUG"},
    "/partners/{partner_id}/uploads": {"filename": "a.csv", "content_type": "text/csv", "size": 10},
}


@pytest.fixture()
def partner_routes(cloud: LocalCloud) -> list[tuple[str, str]]:
    """Every route of the function's resolver under /partners/ (a new route cannot escape)."""
    mod = cloud._load(cloud.functions[FN])
    routes = sorted({(r.method, r.path) for r in mod.app._static_routes + mod.app._dynamic_routes})
    out = []
    for method, rule in routes:
        path = re.sub(r"<(\w+)>", r"{\1}", rule)
        if path.startswith("/partners/"):
            out.append((method, path))
    assert len(out) >= 15, out
    return out


def test_every_partner_route_is_isolated(cloud: LocalCloud, partner_routes: list[tuple[str, str]]) -> None:
    """Another partner: 404; staff: 403; P00003's distributor (registry): its GETs, never a POST;
    and on every route, the template routes the same path to this function."""
    for method, path in partner_routes:
        url = concrete(path)
        route = cloud.route(method, url)
        assert route is not None and route.function == FN, (method, path)
        body, headers = BODIES.get(path), {"Idempotency-Key": "iso-1"}
        code, answer = call(cloud, method, url, BETA, body, headers)
        assert code == 404, (method, path, code, answer)
        code, answer = call(cloud, method, url, FIONA, body, headers)
        assert code == 403, (method, path, code, answer)
        downline = url.replace("P00001", "P00003")
        code, answer = call(cloud, method, downline, DELTA, body, headers)
        if method == "GET":
            assert code in (200, 404) and (
                code == 200
                or "upload" in answer["error"]
                or "PDF" in answer["error"]
                or "HTML" in answer["error"]
            ), (path, code, answer)
        else:
            assert code == 403, (method, path, code, answer)


def test_redemption_with_the_sample_event(cloud: LocalCloud) -> None:
    """events/api_partner_redeem.json as API Gateway hands it (JWT claims flattened by AWS)."""
    from loyalty.adapters.dynamo import DynamoStore
    from loyalty_local.cloud import REGION

    from tests.conftest import event
    from tests.unit.rewards_world import grant, lot, reward

    store = DynamoStore(cloud.outputs["TableName"], REGION)
    grant(store, "P00001", [lot("SAMPLE", 1_000, "2099-12-31")])
    store.put_reward(reward("MUG", 700))
    sample = event("api_partner_redeem.json", partner="P00001", user="anna", key="k-1", reward="MUG")
    result, error = cloud.invoke(FN, sample)
    assert error is None and result["statusCode"] == 201, result
    assert json.loads(result["body"])["redemption"]["points"] == 700
    again, _ = cloud.invoke(FN, sample)  # an API retry: the stored redemption
    assert again["statusCode"] == 200 and json.loads(again["body"])["replayed"] is True
    short, _ = cloud.invoke(
        FN, event("api_partner_redeem.json", partner="P00001", user="anna", key="k-2", reward="MUG")
    )
    body = json.loads(short["body"])
    assert short["statusCode"] == 422 and body["details"] == [{"code": "insufficient_points"}]
    assert "700 needed, 300 active" in body["error"]
