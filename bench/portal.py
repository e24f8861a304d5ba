"""(h) The portal's latency on the local cloud: p50 / p95 of every GET route of the partner API and
of the pages, for a partner with 10 000 accrual lines over 24 closed months, and of the finance
console's routes with 10 000 partners in the proposal awaiting approval.

Each world is built through the stack (rules, registry, sales files uploaded to S3, monthly
closes started, approved and paid). The requests go over HTTP to the portal API that
`loyalty up` serves (routes, JWT authorizer, the handler) with a signed-in user's token. Routes
come from the template: every GET route of the portal API is measured, with its path
parameters filled in (a route whose parameters cannot be filled is listed as skipped).

Usage: python bench/portal.py [partner_lines] [months] [console_partners] [requests]
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACE = 40  # requests per second at most
PASSWORD = "Bench-password-2026"


def months_back(last: str, n: int) -> list[str]:
    y, m = (int(p) for p in last.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_gets(base: str, token: str, paths: list[str], requests: int) -> dict[str, Any]:
    """p50/p95/max in ms per path, interleaved (each round asks every path once)."""
    times: dict[str, list[float]] = {p: [] for p in paths}
    statuses: dict[str, set[int]] = {p: set() for p in paths}
    headers = {"authorization": f"Bearer {token}", "accept-language": "ru"}
    last = 0.0
    for _ in range(requests):
        for p in paths:
            req = urllib.request.Request(base + p, headers=headers)
            # one request at a time, at most PACE a second: under the API's throttle (50/s), so
            # every answer is the route's, not API Gateway's 429
            time.sleep(max(0.0, last + 1 / PACE - time.perf_counter()))
            t0 = last = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    resp.read()
                    statuses[p].add(resp.status)
            except urllib.error.HTTPError as exc:
                exc.read()
                statuses[p].add(exc.code)
            times[p].append((time.perf_counter() - t0) * 1000)
    return {
        p: {
            "p50_ms": round(statistics.median(v), 1),
            "p95_ms": round(percentile(v, 0.95), 1),
            "max_ms": round(max(v), 1),
            "status": sorted(statuses[p]),
        }
        for p, v in times.items()
    }


def fill(path: str, values: dict[str, str]) -> str | None:
    out = path
    for name, value in values.items():
        out = out.replace("{" + name + "}", value)
    return None if "{" in out else out


def route_paths(
    cloud: Any, prefix: str, values: dict[str, str], extra: dict[str, str]
) -> tuple[list[str], list[str]]:
    """The portal API's GET routes under `prefix`, filled in; and those that could not be."""
    api = cloud.http_api()
    paths, skipped = [], []
    for r in api.routes:
        if r.method != "GET" or not r.path.startswith(prefix):
            continue
        got = fill(r.path, values)
        if got is None:
            skipped.append(r.path)
        else:
            paths.append(got + extra.get(r.path, ""))
    return sorted(set(paths)), skipped


def sales_rows(pid: str, period: str, n: int, start: int) -> list[list[object]]:
    cats = ("hardware", "software", "services")
    return [
        [f"{pid}-{period}-{i:05d}", pid, f"{period}-{1 + i % 28:02d}", f"SKU-{i % 40:03d}", 1 + i % 3,
         f"{20 + (start + i) % 900}.{i % 100:02d}", "EUR", cats[i % 3], f"C-{i % 300}", ""]
        for i in range(n)
    ]  # fmt: skip


def close(cloud: Any, period: str) -> None:
    code, body = cloud.api("POST", "/closes", "olga", "operator", {"period": period})
    assert code == 200, body
    run = body["run"]
    cloud.wait_execution(
        run,
        until=lambda c: (
            c.api("GET", f"/closes/{period}", "olga", "operator")[1]["status"] == "awaiting_approval"
        ),
        timeout=7200,
    )
    shown = cloud.api("GET", f"/closes/{period}", "frank", "finance")[1]
    ask = {"comment": "bench", "run": shown["run"], "digest": shown.get("proposal_digest", "")}
    code, body = cloud.api("POST", f"/closes/{period}/approve", "frank", "finance", ask)
    if code == 200 and body.get("status") == "pending_second":
        code, body = cloud.api("POST", f"/closes/{period}/approve", "fiona", "finance", ask)
    assert code == 200, body
    assert cloud.wait_execution(run, timeout=7200)["status"] == "SUCCEEDED"


def partner_world(cloud: Any, lines: int, months: list[str]) -> str:
    from loyalty_factories.small import RULES, sales_csv

    pid = "P20001"
    first_year = months[0][:4]
    cloud.upload(
        "rules/default-program.yaml",
        RULES.replace(b"effective_from: 2026-01-01", f"effective_from: {first_year}-01-01".encode()),
    )
    cloud.run_until_idle()
    registry = "partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,recognition\n"
    registry += f"{pid},ООО «Бенч»,bench@bench.example,smb,RU,,{months[0]}-01,,,,\n"
    registry += "".join(
        f"P2{i:04d},Peer {i},p{i}@bench.example,smb,DE,,{months[0]}-01,,,,\n" for i in range(2, 12)
    )
    cloud.upload("registry/partners.csv", registry.encode())
    cloud.run_until_idle()
    per = lines // len(months)
    for k, period in enumerate(months):
        n = per + (1 if k < lines - per * len(months) else 0)
        rows = sales_rows(pid, period, n, k * per) + [
            r for i in range(2, 12) for r in sales_rows(f"P2{i:04d}", period, 3, i)
        ]
        cloud.upload(f"incoming/{pid}/{period}.csv", sales_csv(rows))
        cloud.settle()
        close(cloud, period)
    return pid


def console_world(cloud: Any, partners: int, period: str) -> str:
    from loyalty_factories.scale import scale_registry, scale_sales

    cloud.upload("rules/default-program.yaml", (ROOT / "rules/default-program.yaml").read_bytes())
    cloud.run_until_idle()
    cloud.upload("registry/partners.csv", scale_registry(partners, partners * 15 // 100))
    cloud.upload("rates/fx.csv", b"date,currency,units_per_eur\n2026-08-01,USD,1.10\n")
    cloud.run_until_idle()
    for key, body in scale_sales(partners * 15 // 100).items():
        cloud.upload(key, body)
    cloud.settle()
    code, body = cloud.api("POST", "/closes", "olga", "operator", {"period": period})
    assert code == 200, body
    cloud.wait_execution(
        body["run"],
        until=lambda c: (
            c.api("GET", f"/closes/{period}", "olga", "operator")[1]["status"] == "awaiting_approval"
        ),
        timeout=7200,
    )
    return period


def main() -> int:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_months = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    console_partners = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    requests = int(sys.argv[4]) if len(sys.argv) > 4 else 60
    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "local")]
    from loyalty_local.cloud import LocalCloud
    from loyalty_local.server import serve_apis

    os.environ.setdefault("LOYALTY_LOG", "/tmp/bench-portal.log")
    out: dict[str, Any] = {"requests_per_route": requests}
    months = months_back("2026-10", n_months)
    with LocalCloud(stack_name="bench-portal") as cloud:
        t0 = time.perf_counter()
        pid = partner_world(cloud, lines, months)
        out["partner_world_seconds"] = round(time.perf_counter() - t0, 1)
        cloud.add_user("bench-partner", PASSWORD, "bench@bench.example", ["partner"], pid)
        token = cloud.sign_in("bench-partner", PASSWORD)
        (server,) = serve_apis(cloud, "127.0.0.1", 0)
        try:
            values = {"partner_id": pid, "period": months[-1]}
            extra = {"/partners/{partner_id}/lines": f"?month={months[-1]}&limit=50"}
            paths, skipped = route_paths(cloud, "/partners/", values, extra)
            paths += ["/me"] if any(r.path == "/me" for r in cloud.http_api().routes) else []
            out["partner"] = {
                "partner_lines": lines,
                "months": n_months,
                "routes": timed_gets(server.url, token, paths, requests),
                "skipped": skipped,
            }
            out["pages"] = timed_gets(
                server.url, "", ["/", "/partner", "/finance", "/assets/common.js"], requests
            )
        finally:
            server.stop()
    with LocalCloud(stack_name="bench-console") as cloud:
        t0 = time.perf_counter()
        period = console_world(cloud, console_partners, "2026-08")
        out["console_world_seconds"] = round(time.perf_counter() - t0, 1)
        cloud.add_user("bench-finance", PASSWORD, "finance@bench.example", ["finance"])
        token = cloud.sign_in("bench-finance", PASSWORD)
        (server,) = serve_apis(cloud, "127.0.0.1", 0)
        try:
            values = {"period": period, "partner_id": "P000042"}
            extra = {
                "/finance/closes/{period}/payouts": "?limit=50",
                "/finance/closes/{period}/export.csv": "?kind=payouts",
            }
            paths, skipped = route_paths(cloud, "/finance/", values, extra)
            out["console"] = {
                "partners_in_proposal": console_partners,
                "routes": timed_gets(server.url, token, paths, requests),
                "skipped": skipped,
            }
        finally:
            server.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
