"""A large, mostly dormant program: the close's scale test and benchmark."""

from __future__ import annotations

from loyalty.ingest.sales.contract import COLUMNS
from loyalty.program.registry import REGISTRY_SPEC

SCALE_IBAN = "DE89370400440532013000"
PER_DISTRIBUTOR = 250


def scale_registry(partners: int, sellers: int, sponsors: bool = False) -> bytes:
    """`partners` partners, the first `sellers` of them active (two in three with bank details),
    plus one distributor per 250 sellers that reports their sales. `sponsors`: a sponsor tree
    three levels deep (partner i is recruited by partner i // 10 from i = 10 on)."""
    head = ",".join(REGISTRY_SPEC.columns) + "\n"
    segs = ["smb", "enterprise", "public", "retail"]
    rows = [
        f"P{i:06d},Partner {i},p{i}@example.com,{segs[i % 4]},DE,"
        f"{f'P{i // 10:06d}' if sponsors and i >= 10 else ''},2026-01-01,,,,,"
        f"{SCALE_IBAN if i < sellers and i % 3 else ''},,\n"
        for i in range(partners)
    ]
    for d, start in enumerate(range(0, sellers, PER_DISTRIBUTOR)):
        sold_for = "|".join(f"P{i:06d}" for i in range(start, min(sellers, start + PER_DISTRIBUTOR)))
        rows.append(
            f"D{d:06d},Distributor {d},ops{d}@dist.example,distribution,DE,,2026-01-01,,{sold_for},,,,,\n"
        )
    return (head + "".join(rows)).encode()


def scale_sales(sellers: int) -> dict[str, bytes]:
    """One EUR 5 000 sale on 2026-08-01 per seller, in one file per distributor."""
    head = ",".join(COLUMNS) + "\n"
    out = {}
    for d, start in enumerate(range(0, sellers, PER_DISTRIBUTOR)):
        body = "".join(
            f"S{i},P{i:06d},2026-08-01,SKU,1,5000.00,EUR,,C{i},\n"
            for i in range(start, min(sellers, start + PER_DISTRIBUTOR))
        )
        out[f"incoming/D{d:06d}/aug.csv"] = (head + body).encode()
    return out


def scale_targets(sellers: int) -> bytes:
    """Two goals per active partner: August's net sales (awarded at the August close, flat with
    bands) and the third quarter's (progress at the August close, step with accelerators)."""
    head = (
        "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,"
        "bands,method,version,effective_from\n"
    )
    rows = [
        f"M-P{i:06d},partner,P{i:06d},net_sales,,month,2026-08,{4000 + (i % 3) * 1000},,100,"
        f"80:50|100:100|120:150,flat,T1,2026-07-01\n"
        f"Q-P{i:06d},partner,P{i:06d},net_sales,,quarter,2026-Q3,15000,,300,80:50|100:100|120:200,step,"
        "T1,2026-07-01\n"
        for i in range(sellers)
    ]
    return (head + "".join(rows)).encode()
