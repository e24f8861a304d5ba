"""The Partner API through the local HTTP API as the served port answers it: the user pool's real
(signed) id tokens, the JWT authorizer, the template's routes, the handler (issue 12, point 1-2)."""

from __future__ import annotations

from loyalty_local.cloud import LocalCloud

PASSWORD = "Test-password-2026"


def users(cloud: LocalCloud) -> dict[str, str]:
    cloud.add_user("anna", PASSWORD, "anna@acme.example", ["partner"], "P00001")
    cloud.add_user("dora", PASSWORD, "dora@delta.example", ["partner"], "D00001")
    cloud.add_user("fiona", PASSWORD, "fiona@example.com", ["finance"])
    return {u: cloud.sign_in(u, PASSWORD) for u in ("anna", "dora", "fiona")}


def test_signed_tokens_reach_only_their_partner(cloud: LocalCloud) -> None:
    tokens = users(cloud)
    got = cloud.http("GET", "/partners/P00001/balance?lang=ru", tokens["anna"])
    assert got.status == 200 and got.json()["minimum_payout"]["text"] == "50,00\xa0€"
    me = cloud.http("GET", "/me", tokens["anna"]).json()
    assert me["partner"]["partner_id"] == "P00001" and me["groups"] == ["partner"]
    assert cloud.http("GET", "/partners/P00002/balance", tokens["anna"]).status == 404
    assert cloud.http("GET", "/partners/P00001/balance", tokens["fiona"]).status == 403
    assert (
        cloud.http("GET", "/partners/P00003/tier", tokens["dora"]).status == 200
    )  # D00001 is registered for P00003
    form = {"filename": "a.csv", "content_type": "text/csv", "size": 10}
    assert cloud.http("POST", "/partners/P00003/uploads", tokens["dora"], form).status == 403
    assert cloud.http("GET", "/partners/P00001/balance").status == 401  # no token: the authorizer
    forged = tokens["anna"][:-4] + ("AAAA" if not tokens["anna"].endswith("AAAA") else "BBBB")
    assert cloud.http("GET", "/partners/P00001/balance", forged).status == 401
    saved = cloud.http("PUT", "/me", tokens["anna"], {"lang": "ru"})
    assert saved.status == 200 and saved.json()["saved_lang"] == "ru"
    again = cloud.http("GET", "/partners/P00001/balance", tokens["anna"], headers={"accept-language": "en"})
    assert again.json()["paid"]["text"] == "0,00\xa0€"  # the saved language wins over the header
