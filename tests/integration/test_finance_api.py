"""The finance API behind the portal's JWT authorizer (issue 12, point 3): the closes and the
proposal awaiting a decision (eligible against held, payees paged by amount, anomalies with
their reasons, a partner's drill-down), decisions through the approvals service (maker-checker,
the run and digest shown, the audit trail), downloads and CSV exports; staff groups decide who
may do what, partner users are refused, bad requests get specific 4xx answers."""

from __future__ import annotations

from decimal import Decimal

from loyalty_local.cloud import LocalCloud

from tests.integration.finance_world import (
    FINANCE,
    FINANCE2,
    MANAGER,
    OPERATOR,
    PARTNER,
    PERIOD,
    awaiting,
    call,
)

BASE = f"/finance/closes/{PERIOD}"


def test_finance_reviews_the_proposal_excludes_a_partner_and_approves(cloud: LocalCloud) -> None:
    shown = awaiting(cloud)
    assert shown["status"] == "awaiting_approval" and shown["started_by"] == "olga"
    assert shown["may_approve"] and shown["digest"]
    fig = shown["figures"]
    # P00001 (30 000 EUR at 2 %) and P00002 (4 000 EUR at Silver 3 %) are payees; P00003 has no bank details
    assert fig["eligible"]["count"] == 2
    assert fig["eligible"]["total"] == {"amount": "720.00", "currency": "EUR", "text": "€720.00"}
    assert fig["held"]["count"] == 1 and fig["held"]["total"]["amount"] == "100.00"
    code, ru = call(cloud, "GET", BASE, FINANCE, query={"lang": "ru"})
    assert code == 200 and ru["figures"]["eligible"]["total"]["text"] == "720,00\xa0€"
    assert ru["text"] == "август 2026\u202fг."

    code, page = call(cloud, "GET", f"{BASE}/payouts", FINANCE, query={"limit": 1})
    assert code == 200 and page["total"] == 2
    assert [r["partner_id"] for r in page["items"]] == ["P00001"]  # the largest first
    code, rest = call(
        cloud, "GET", f"{BASE}/payouts", FINANCE, query={"limit": 1, "cursor": page["next_cursor"]}
    )
    assert (
        code == 200 and [r["partner_id"] for r in rest["items"]] == ["P00002"] and rest["next_cursor"] is None
    )

    code, anomalies = call(cloud, "GET", f"{BASE}/anomalies", FINANCE)
    assert code == 200
    reasons = {(a["partner_id"], a["reason"]) for a in anomalies["items"]}
    assert ("P00003", "no bank details on file: payout held and carried forward") in reasons

    code, gamma = call(cloud, "GET", f"{BASE}/partners/P00003", FINANCE)
    assert code == 200 and gamma["why"] == "held: no bank details on file"
    assert gamma["proposed"]["carried_out"]["amount"] == "100.00" and gamma["committed"] is None

    ask = {
        "run": shown["run"],
        "digest": shown["digest"],
        "comment": "Beta under review",
        "exclude": ["P00002"],
    }
    code, _refused = call(cloud, "POST", f"{BASE}/approve", OPERATOR, body=ask)
    assert code == 403  # operators start closes, finance decides
    code, stale = call(cloud, "POST", f"{BASE}/approve", FINANCE, body={**ask, "digest": "0" * 64})
    assert code == 409 and "nothing was decided" in stale["error"]
    code, unknown = call(cloud, "POST", f"{BASE}/approve", FINANCE, body={**ask, "exclude": ["P99999"]})
    assert code == 400 and "unknown partners" in unknown["error"]
    code, approved = call(cloud, "POST", f"{BASE}/approve", FINANCE, body=ask)
    assert code == 200 and approved["status"] == "approved" and approved["exclude"] == ["P00002"]
    assert cloud.wait_execution(f"close-{PERIOD}")["status"] == "SUCCEEDED"

    code, trail = call(cloud, "GET", f"{BASE}/audit", FINANCE)
    actions = [(e["actor"], e["action"]) for e in trail["entries"]]
    assert ("fiona", "approved") in actions and ("system", "approval requested") in actions
    mine = next(e for e in trail["entries"] if e["action"] == "approved")
    assert mine["detail"]["digest"] == shown["digest"] and mine["detail"]["exclude"] == ["P00002"]

    code, beta = call(cloud, "GET", f"{BASE}/partners/P00002", FINANCE)
    assert code == 200 and beta["excluded"] and beta["committed"]["state"] == "excluded"
    assert beta["committed"]["carried_out"]["amount"] == "120.00"

    code, files = call(cloud, "GET", f"{BASE}/bank-files", FINANCE)
    assert code == 200 and files["files"] and all("X-Amz-Signature" in f["url"] for f in files["files"])
    assert all("attachment" in f["url"].replace("%20", " ") for f in files["files"])

    code, csv = call(cloud, "GET", f"{BASE}/export.csv", FINANCE, query={"kind": "excluded"}, raw=True)
    assert code == 200 and csv["headers"]["Content-Type"].startswith("text/csv")
    text = csv["body"]
    assert text.splitlines()[0].startswith("partner_id,name")
    assert "excluded by finance" in text and "P00003" in text

    code, statement = call(cloud, "GET", f"{BASE}/statements/P00001", FINANCE, query={"format": "csv"})
    assert code == 200 and "statements/P00001/2026-08.csv" in statement["url"]


def test_bank_files_wait_for_payment_and_decisions_need_finance(cloud: LocalCloud) -> None:
    shown = awaiting(cloud)
    code, early = call(cloud, "GET", f"{BASE}/bank-files", FINANCE)
    assert code == 409 and "once it is paid" in early["error"]
    code, _ = call(cloud, "GET", f"{BASE}/bank-files", OPERATOR)
    assert code == 403  # payees' bank files are finance's
    code, body = call(cloud, "POST", f"{BASE}/reject", FINANCE2, body={"comment": "", "run": shown["run"]})
    assert code == 400 and body["details"][0]["field"] == "comment"
    code, body = call(
        cloud, "POST", f"{BASE}/reject", FINANCE2, body={"comment": "figures off", "run": "close-x"}
    )
    assert code == 409
    code, body = call(
        cloud, "POST", f"{BASE}/reject", FINANCE2, body={"comment": "figures off", "run": shown["run"]}
    )
    assert code == 200 and body["status"] == "rejected" and body["rejected_by"] == "frank"
    code, again = call(
        cloud, "POST", f"{BASE}/approve", FINANCE, body={"run": shown["run"], "digest": shown["digest"]}
    )
    assert code == 409 and "rejected" in again["error"]


def test_who_may_read_what(cloud: LocalCloud) -> None:
    awaiting(cloud)
    assert call(cloud, "GET", "/finance/closes", None)[0] == 401
    for path in ("/finance/closes", "/finance/approvals", BASE, f"{BASE}/payouts", f"{BASE}/audit"):
        assert call(cloud, "GET", path, PARTNER)[0] == 403, path
    code, closes = call(cloud, "GET", "/finance/closes", MANAGER)
    assert code == 200 and closes["closes"][0]["period"] == PERIOD
    assert call(cloud, "GET", BASE, MANAGER)[0] == 200  # aggregates
    assert call(cloud, "GET", f"{BASE}/payouts", MANAGER)[0] == 403  # no partner-level rows
    code, pending = call(cloud, "GET", "/finance/approvals", OPERATOR)
    assert code == 200 and [a["period"] for a in pending["approvals"]] == [PERIOD]
    # a partner user with a bad body is refused for who it is, not for what it sent
    assert call(cloud, "POST", f"{BASE}/approve", PARTNER, body={"x": 1})[0] == 403
    assert call(cloud, "POST", "/finance/closes", FINANCE, body={"period": PERIOD})[0] == 403


def test_bad_requests_get_specific_4xx(cloud: LocalCloud) -> None:
    awaiting(cloud)
    code, body = call(cloud, "GET", "/finance/closes/2026-13", FINANCE)
    assert code == 400 and body["details"][0]["field"] == "period"
    assert call(cloud, "GET", "/finance/closes/2025-01", FINANCE)[0] == 404
    code, body = call(cloud, "GET", f"{BASE}/payouts", FINANCE, query={"limit": 0})
    assert code == 400 and body["details"][0]["field"] == "limit"
    assert call(cloud, "GET", f"{BASE}/payouts", FINANCE, query={"limit": 201})[0] == 400
    code, body = call(cloud, "GET", f"{BASE}/payouts", FINANCE, query={"cursor": "garbage!"})
    assert code == 400 and "cursor" in body["error"]
    assert call(cloud, "GET", f"{BASE}/payouts", FINANCE, query={"sort": "name"})[0] == 400
    assert call(cloud, "GET", f"{BASE}/partners/P99999", FINANCE)[0] == 404
    assert call(cloud, "GET", f"{BASE}/export.csv", FINANCE, query={"kind": "all"})[0] == 400
    assert call(cloud, "GET", f"{BASE}/statements/P00001", FINANCE, query={"format": "doc"})[0] == 400
    assert call(cloud, "GET", f"{BASE}/statements/P00001", FINANCE)[0] == 404  # not paid: none yet
    code, body = call(cloud, "POST", f"{BASE}/approve", FINANCE, body={"comment": "no run"})
    assert code == 400 and {d["field"] for d in body["details"]} == {"run", "digest"}
    assert call(cloud, "POST", f"{BASE}/approve", FINANCE, body="not json")[0] == 400
    code, body = call(cloud, "POST", "/finance/closes", OPERATOR, body={"period": "26-8"})
    assert code == 400 and body["details"][0]["field"] == "period"
    total = Decimal(call(cloud, "GET", BASE, FINANCE)[1]["figures"]["eligible"]["total"]["amount"])
    assert total == Decimal("720.00")


def test_through_the_portal_api_with_the_user_pools_tokens(cloud: LocalCloud) -> None:
    """The same function behind the emulated API Gateway: the JWT authorizer verifies the user
    pool's signed id tokens (no token: 401 before the function runs), groups come from the token."""
    shown = awaiting(cloud)
    password = "Portal-password-2026"
    cloud.add_user("fiona", password, "fiona@example.com", ["finance"])
    cloud.add_user("acme", password, "acme@example.com", ["partner"], "P00001")
    fiona, acme = cloud.sign_in("fiona", password), cloud.sign_in("acme", password)
    assert cloud.http("GET", BASE).status == 401
    assert cloud.http("GET", BASE, token=fiona + "x").status == 401  # a signature that does not verify
    assert cloud.http("GET", BASE, token=acme).status == 403
    got = cloud.http("GET", f"{BASE}?lang=ru", token=fiona)
    assert got.status == 200 and got.json()["figures"]["eligible"]["total"]["text"] == "720,00\xa0€"
    page = cloud.http("GET", f"{BASE}/payouts?limit=1", token=fiona).json()
    assert page["items"][0]["partner_id"] == "P00001"
    ask = {"run": shown["run"], "digest": shown["digest"], "comment": "ok", "exclude": []}
    done = cloud.http("POST", f"{BASE}/approve", token=fiona, body=ask)
    assert done.status == 200 and done.json()["approved_by"] == "fiona"
    csv = cloud.http("GET", f"{BASE}/export.csv?kind=payouts", token=fiona)
    assert csv.status == 200 and csv.body.decode().startswith("partner_id,name")
