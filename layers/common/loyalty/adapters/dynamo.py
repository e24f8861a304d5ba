"""Single-table DynamoDB access through pynamodb. The key design (docs/architecture.md):

| item            | pk                 | sk                          | gsi1pk    | gsi1sk |
|-----------------|--------------------|-----------------------------|-----------|--------|
| partner profile | PARTNER#<id>       | PROFILE                     | PARTNERS  | <id>   |
| tier of a month | PARTNER#<id>       | TIER#<YYYY-MM>              |           |        |
| accrual line    | PARTNER#<id>       | SALE#<sale_id>              |           |        |
| month totals    | PARTNER#<id>       | MONTH#<YYYY-MM>             |           |        |
| upload          | UPLOAD#<upload_id> | META                        |           |        |
| chunk result    | UPLOAD#<upload_id> | CHUNK#<group>-<seq>         |           |        |
| rule version    | RULES              | VERSION#<from>#<version>    |           |        |
| FX rates        | FX                 | <CUR>#<YYYY-MM>             |           |        |
| latest upload   | OBJECT#<s3 key>    | LATEST                      |           |        |

Model classes are made per table by :func:`make_models`, so a container (or a test) binds
to its own table without global state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import NUMBER
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from loyalty.close import CloseLine, mask_iban
from loyalty.ledger import Entry
from loyalty.ports import ChunkResult, Cipher, MonthDelta, MonthTotals, SaleRecord, StoredSale, UploadRecord
from loyalty.registry import Partner, parse_certified
from loyalty.rules import RuleVersion


class DecimalAttribute(Attribute[Decimal]):
    """DynamoDB Number <-> Decimal, never float."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return f"{value:f}"

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


def make_models(table_name: str, region: str, host: str | None = None) -> SimpleNamespace:
    meta = {
        "table_name": table_name,
        "region": region,
        "host": host,
        "max_retry_attempts": 5,
        "connect_timeout_seconds": 5,
        "read_timeout_seconds": 20,
    }

    def model(name: str, attrs: dict[str, Any]) -> Any:
        body: dict[str, Any] = {"Meta": type("Meta", (), dict(meta))}
        body["pk"] = UnicodeAttribute(hash_key=True)
        body["sk"] = UnicodeAttribute(range_key=True)
        body.update(attrs)
        return type(name, (Model,), body)

    def gsi1() -> Any:
        """The table's one GSI, as an index of a model (pynamodb binds each index class to one
        model, so every model gets its own class)."""

        class Gsi1(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
            class Meta:
                index_name = "gsi1"
                projection = AllProjection()

            gsi1pk = UnicodeAttribute(hash_key=True)
            gsi1sk = UnicodeAttribute(range_key=True)

        return Gsi1()

    PartnerItem = model(
        "PartnerItem",
        {
            "gsi1pk": UnicodeAttribute(),
            "gsi1sk": UnicodeAttribute(),
            "by_list": gsi1(),
            "name": UnicodeAttribute(),
            "email": UnicodeAttribute(),
            "segment": UnicodeAttribute(),
            "country": UnicodeAttribute(default=""),
            "sponsor_id": UnicodeAttribute(default=""),
            "joined_on": UnicodeAttribute(),
            "cohort": UnicodeAttribute(default=""),
            "distributor_for": ListAttribute(of=UnicodeAttribute, default=list),
            "starting_tier": UnicodeAttribute(default=""),
            "certified": UnicodeAttribute(default=""),
            "iban_enc": UnicodeAttribute(null=True),  # KMS ciphertext (base64), never shown
            "iban_mask": UnicodeAttribute(default=""),
            "bic": UnicodeAttribute(default=""),
        },
    )
    TierItem = model("TierItem", {"tier": UnicodeAttribute(), "reason": UnicodeAttribute(default="")})
    SaleItem = model(
        "SaleItem",
        {
            "sold_at": UnicodeAttribute(),
            "sku": UnicodeAttribute(),
            "qty": NumberAttribute(),
            "price": DecimalAttribute(),
            "cur": UnicodeAttribute(),
            "cat": UnicodeAttribute(default=""),
            "cust": UnicodeAttribute(default=""),
            "orig": UnicodeAttribute(default=""),
            "net": DecimalAttribute(),
            "fx": DecimalAttribute(null=True),
            "fx_date": UnicodeAttribute(default=""),
            "net_eur": DecimalAttribute(),
            "tier": UnicodeAttribute(),
            "rate": DecimalAttribute(),
            "rules": UnicodeAttribute(),
            "basis": UnicodeAttribute(),
            "comm": DecimalAttribute(),
            "ver": UnicodeAttribute(),
            "prev": UnicodeAttribute(default=""),
            "src": UnicodeAttribute(),
            "status": UnicodeAttribute(default="provisional"),
            "per": UnicodeAttribute(default=""),
        },
    )
    DocItem = model(
        "DocItem",
        {
            "data": UnicodeAttribute(null=True),
            "state": UnicodeAttribute(default=""),
            "notified": BooleanAttribute(default=False),
            "rev": NumberAttribute(default=0),
            "done": UnicodeSetAttribute(null=True),
        },
    )
    month_attrs: dict[str, Any] = {
        "net": DecimalAttribute(null=True),
        "comm": DecimalAttribute(null=True),
        "lines": NumberAttribute(null=True),
        "returns": NumberAttribute(null=True),
        "applied": UnicodeSetAttribute(null=True),
        "cust": UnicodeSetAttribute(null=True),
    }
    month_attrs.update({f"c{d:02d}": DecimalAttribute(null=True) for d in range(1, 32)})
    MonthItem = model("MonthItem", month_attrs)

    CloseItem = model(
        "CloseItem",
        {
            "gsi1pk": UnicodeAttribute(null=True),
            "gsi1sk": UnicodeAttribute(null=True),
            "by_list": gsi1(),
            "data": UnicodeAttribute(null=True),
            "state": UnicodeAttribute(default=""),
            "run": UnicodeAttribute(default=""),
            "token": UnicodeAttribute(null=True),  # Step Functions task token: stored, never shown
        },
    )

    LedgerItem = model(
        "LedgerItem",
        {
            "period": UnicodeAttribute(),
            "debit": UnicodeAttribute(),
            "credit": UnicodeAttribute(),
            "amount": DecimalAttribute(),
            "memo": UnicodeAttribute(),
            "reverses": UnicodeAttribute(default=""),
            "gsi1pk": UnicodeAttribute(),
            "gsi1sk": UnicodeAttribute(),
            "by_period": gsi1(),
        },
    )
    PayoutItem = model(
        "PayoutItem",
        {"amount": DecimalAttribute(), "run": UnicodeAttribute(), "state": UnicodeAttribute()},
    )
    return SimpleNamespace(
        Partner=PartnerItem,
        Tier=TierItem,
        Sale=SaleItem,
        Doc=DocItem,
        Month=MonthItem,
        Close=CloseItem,
        Ledger=LedgerItem,
        Payout=PayoutItem,
    )


class DynamoStore:
    """The :class:`loyalty.ports.Store` on one DynamoDB table."""

    def __init__(
        self, table_name: str, region: str, host: str | None = None, cipher: Cipher | None = None
    ) -> None:
        self.m = make_models(table_name, region, host)
        self.cipher = cipher
        self._conn = Connection(region=region, host=host)

    # -- partners ---------------------------------------------------------------------------
    def _partner(self, it: Any) -> Partner:
        return Partner(
            partner_id=it.pk[len("PARTNER#") :],
            name=it.name,
            email=it.email,
            segment=it.segment,
            country=it.country,
            sponsor_id=it.sponsor_id,
            joined_on=dt.date.fromisoformat(it.joined_on),
            cohort=it.cohort,
            distributor_for=tuple(it.distributor_for or ()),
            starting_tier=it.starting_tier,
            certified=parse_certified(it.certified or ""),
            iban=it.iban_mask or "",  # masked: the plain IBAN only leaves the store for the bank file
            bic=it.bic or "",
        )

    def get_partner(self, partner_id: str) -> Partner | None:
        try:
            return self._partner(self.m.Partner.get(f"PARTNER#{partner_id}", "PROFILE"))
        except self.m.Partner.DoesNotExist:
            return None

    def put_partners(self, partners: Sequence[Partner]) -> None:
        if any(p.iban for p in partners) and self.cipher is None:
            raise RuntimeError("bank details need the data key (DATA_KEY_ID) to be stored encrypted")
        with self.m.Partner.batch_write() as batch:
            for p in partners:
                enc = self.cipher.encrypt(p.iban, p.partner_id) if p.iban and self.cipher else None
                batch.save(
                    self.m.Partner(
                        f"PARTNER#{p.partner_id}",
                        "PROFILE",
                        gsi1pk="PARTNERS",
                        gsi1sk=p.partner_id,
                        name=p.name,
                        email=p.email,
                        segment=p.segment,
                        country=p.country,
                        sponsor_id=p.sponsor_id,
                        joined_on=p.joined_on.isoformat(),
                        cohort=p.cohort,
                        distributor_for=list(p.distributor_for),
                        starting_tier=p.starting_tier,
                        certified="|".join(f"{c}:{n}" for c, n in p.certified),
                        iban_enc=enc,
                        iban_mask=mask_iban(p.iban),
                        bic=p.bic,
                    )
                )

    def bank_details(self, partner_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Decrypted (IBAN, BIC) for the bank file; nothing else reads the plain IBAN."""
        out: dict[str, tuple[str, str]] = {}
        if not partner_ids:
            return out
        for it in self.m.Partner.batch_get(
            [(f"PARTNER#{p}", "PROFILE") for p in dict.fromkeys(partner_ids)],
            attributes_to_get=["pk", "sk", "iban_enc", "bic"],
        ):
            if it.iban_enc and self.cipher is not None:
                pid = it.pk[len("PARTNER#") :]
                out[pid] = (self.cipher.decrypt(it.iban_enc, pid), it.bic or "")
        return out

    def list_partners(self) -> Iterator[Partner]:
        for it in self.m.Partner.by_list.query("PARTNERS"):
            yield self._partner(it)

    # -- tiers ------------------------------------------------------------------------------
    def tier_for(self, partner_id: str, month: str) -> str | None:
        for it in self.m.Tier.query(
            f"PARTNER#{partner_id}",
            self.m.Tier.sk.between("TIER#0000-00", f"TIER#{month}"),
            scan_index_forward=False,
            limit=1,
        ):
            return str(it.tier)
        return None

    def put_tier(self, partner_id: str, month: str, tier: str, reason: str) -> None:
        self.m.Tier(f"PARTNER#{partner_id}", f"TIER#{month}", tier=tier, reason=reason).save()

    # -- rules and FX -----------------------------------------------------------------------
    def rule_versions(self) -> list[RuleVersion]:
        return [
            RuleVersion.model_validate_json(it.data)
            for it in self.m.Doc.query("RULES", self.m.Doc.sk.startswith("VERSION#"))
        ]

    def put_rule_version(self, rules: RuleVersion, source: str) -> bool:
        """Versions are immutable: the same content again is a no-op, other content is refused."""
        data = rules.model_dump_json()
        sk = f"VERSION#{rules.effective_from.isoformat()}#{rules.version}"
        try:
            cur = self.m.Doc.get("RULES", sk)
            if cur.data != data:
                raise ValueError(
                    f"rules version {rules.version} already exists with other content; bump the version"
                )
            return False
        except self.m.Doc.DoesNotExist:
            pass
        same_version = [v for v in self.rule_versions() if v.version == rules.version]
        if same_version:
            raise ValueError(
                f"rules version {rules.version} already exists (effective {same_version[0].effective_from})"
            )
        self.m.Doc("RULES", sk, data=data, state=hashlib.sha256(data.encode()).hexdigest()[:16]).save(
            self.m.Doc.pk.does_not_exist()
        )
        return True

    def fx_rates(self) -> Iterable[tuple[dt.date, str, Decimal]]:
        for it in self.m.Doc.query("FX"):
            cur = it.sk.split("#", 1)[0]
            for day, rate in json.loads(it.data).items():
                yield dt.date.fromisoformat(day), cur, Decimal(rate)

    def put_fx_rates(self, rates: Sequence[tuple[Any, str, Decimal]]) -> None:
        by_item: dict[str, dict[str, str]] = {}
        for day, cur, rate in rates:
            by_item.setdefault(f"{cur}#{day.isoformat()[:7]}", {})[day.isoformat()] = str(rate)
        for sk, days in by_item.items():
            for _ in range(10):  # optimistic lock on the month item
                try:
                    it = self.m.Doc.get("FX", sk, consistent_read=True)
                    data, rev = json.loads(it.data), int(it.rev)
                    cond = self.m.Doc.rev == rev
                except self.m.Doc.DoesNotExist:
                    it, data, rev = self.m.Doc("FX", sk), {}, 0
                    cond = self.m.Doc.pk.does_not_exist()
                data.update(days)
                it.data = json.dumps(dict(sorted(data.items())))
                it.rev = rev + 1
                try:
                    it.save(cond)
                    break
                except PutError:
                    continue
            else:
                raise RuntimeError(f"FX item {sk} kept changing; retry the rates upload")

    # -- uploads ----------------------------------------------------------------------------
    def get_upload(self, upload_id: str) -> UploadRecord | None:
        try:
            it = self.m.Doc.get(f"UPLOAD#{upload_id}", "META", consistent_read=True)
        except self.m.Doc.DoesNotExist:
            return None
        if it.data is None:  # only chunk results so far: the split has not registered the upload
            return None
        rec = UploadRecord(**json.loads(it.data))
        rec.state, rec.notified = it.state, bool(it.notified)
        rec.done_ids = set(it.done or ())
        rec.chunks_done = len(rec.done_ids)
        return rec

    @staticmethod
    def _upload_data(rec: UploadRecord) -> str:
        """The upload as stored in `data`; notified and the finished chunks live in their own
        attributes, changed only by conditional or set updates."""
        data = asdict(rec)
        for derived in ("notified", "chunks_done", "done_ids"):
            data.pop(derived)
        return json.dumps(data)

    def create_upload(self, rec: UploadRecord) -> UploadRecord:
        it = self.m.Doc(f"UPLOAD#{rec.upload_id}", "META", data=self._upload_data(rec), state=rec.state)
        try:
            it.save(self.m.Doc.pk.does_not_exist())
        except PutError:
            found = self.get_upload(rec.upload_id)
            if found is None:
                raise
            return found
        self.m.Doc(f"OBJECT#{rec.key}", "LATEST", data=rec.upload_id).save()
        return rec

    def latest_upload_for_key(self, key: str) -> str | None:
        try:
            return str(self.m.Doc.get(f"OBJECT#{key}", "LATEST").data)
        except self.m.Doc.DoesNotExist:
            return None

    def save_upload(self, rec: UploadRecord) -> None:
        self.m.Doc(f"UPLOAD#{rec.upload_id}", "META").update(
            actions=[self.m.Doc.data.set(self._upload_data(rec)), self.m.Doc.state.set(rec.state)]
        )

    def mark_notified(self, upload_id: str) -> bool:
        try:
            self.m.Doc(f"UPLOAD#{upload_id}", "META").update(
                actions=[self.m.Doc.notified.set(True)],
                condition=self.m.Doc.pk.exists()
                & (self.m.Doc.notified.does_not_exist() | (self.m.Doc.notified == False)),  # noqa: E712
            )
            return True
        except UpdateError:
            return False

    def put_chunk_result(self, upload_id: str, result: ChunkResult) -> None:
        """Store the chunk's result, then add its id to the upload's set of finished chunks.

        Both writes are idempotent (a put of the same item, a set union), so a redelivered
        chunk changes nothing; the set's size is the exact count of finished chunks, and a crash
        between the two writes is repaired by the redelivery. One item changes atomically, so no
        transaction is needed."""
        data = asdict(result)
        data["net_eur"] = str(result.net_eur)
        data["commission"] = str(result.commission)
        self.m.Doc(f"UPLOAD#{upload_id}", f"CHUNK#{result.chunk_id}", data=json.dumps(data)).save()
        self.m.Doc(f"UPLOAD#{upload_id}", "META").update(actions=[self.m.Doc.done.add({result.chunk_id})])

    def chunk_results(self, upload_id: str) -> list[ChunkResult]:
        out = []
        for it in self.m.Doc.query(
            f"UPLOAD#{upload_id}", self.m.Doc.sk.startswith("CHUNK#"), consistent_read=True
        ):
            d = json.loads(it.data)
            d["net_eur"] = Decimal(d["net_eur"])
            d["commission"] = Decimal(d["commission"])
            out.append(ChunkResult(**d))
        return out

    # -- sales ------------------------------------------------------------------------------
    def get_sales(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StoredSale]:
        out: dict[tuple[str, str], StoredSale] = {}
        if not keys:
            return out
        items = self.m.Sale.batch_get(
            [(f"PARTNER#{p}", f"SALE#{s}") for p, s in keys],
            consistent_read=True,
            attributes_to_get=[
                "pk",
                "sk",
                "ver",
                "prev",
                "rate",
                "tier",
                "rules",
                "sold_at",
                "net_eur",
                "comm",
                "qty",
                "per",
            ],
        )
        for it in items:
            p = it.pk[len("PARTNER#") :]
            s = it.sk[len("SALE#") :]
            out[(p, s)] = StoredSale(
                p,
                s,
                it.ver,
                it.prev,
                it.rate,
                it.tier,
                it.rules,
                it.sold_at[:7],
                it.net_eur,
                it.comm,
                it.sold_at[:10],
                int(it.qty),
                it.per or "",
            )
        return out

    def put_sales(self, records: Sequence[SaleRecord]) -> None:
        if not records:
            return
        with self.m.Sale.batch_write() as batch:
            for r in records:
                batch.save(
                    self.m.Sale(
                        f"PARTNER#{r.partner_id}",
                        f"SALE#{r.sale_id}",
                        sold_at=r.sold_at,
                        sku=r.sku,
                        qty=r.quantity,
                        price=r.unit_price,
                        cur=r.currency,
                        cat=r.category,
                        cust=r.customer_id,
                        orig=r.original_sale_id,
                        net=r.net,
                        fx=r.fx_rate,
                        fx_date=r.fx_date,
                        net_eur=r.net_eur,
                        tier=r.tier,
                        rate=r.rate,
                        rules=r.rule_version,
                        basis=r.rate_basis,
                        comm=r.commission,
                        ver=r.version,
                        prev=r.prev_version,
                        src=r.source,
                        status=r.status,
                        per=r.period,
                    )
                )

    def apply_month_delta(self, partner_id: str, month: str, chunk_id: str, delta: MonthDelta) -> bool:
        M = self.m.Month
        actions = [
            M.net.add(delta.net_eur),
            M.comm.add(delta.commission),
            M.lines.add(delta.lines),
            M.returns.add(delta.returns),
            M.applied.add({chunk_id}),
        ]
        if delta.customers:
            actions.append(M.cust.add(delta.customers))
        actions += [getattr(M, f"c{day:02d}").add(amount) for day, amount in sorted(delta.by_day.items())]
        try:
            M(f"PARTNER#{partner_id}", f"MONTH#{month}").update(
                actions=actions, condition=~M.applied.contains(chunk_id)
            )
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def month_totals(self, partner_id: str) -> list[MonthTotals]:
        M = self.m.Month
        return [
            self._month(partner_id, it) for it in M.query(f"PARTNER#{partner_id}", M.sk.startswith("MONTH#"))
        ]

    @staticmethod
    def _month(partner_id: str, it: Any) -> MonthTotals:
        return MonthTotals(
            partner_id,
            it.sk[len("MONTH#") :],
            it.net or Decimal(0),
            it.comm or Decimal(0),
            int(it.lines or 0),
            int(it.returns or 0),
            {d: getattr(it, f"c{d:02d}") for d in range(1, 32) if getattr(it, f"c{d:02d}") is not None},
            frozenset(it.cust or ()),
        )

    def frozen_periods(self) -> set[str]:
        try:
            it = self.m.Doc.get("CONFIG", "FROZEN", consistent_read=True)
        except self.m.Doc.DoesNotExist:
            return set()
        return set(it.done or ())

    def freeze_period(self, period: str) -> None:
        self.m.Doc("CONFIG", "FROZEN").update(actions=[self.m.Doc.done.add({period})])

    def partner_sales(self, partner_id: str, period: str | None = None) -> Iterator[SaleRecord]:
        """A partner's accrual lines; with `period`, only those sold in it or accrued to it (the
        filter runs in DynamoDB: fewer items cross the wire and get parsed)."""
        S = self.m.Sale
        cond = (S.sold_at.startswith(period) | (S.per == period)) if period else None
        for it in S.query(f"PARTNER#{partner_id}", S.sk.startswith("SALE#"), filter_condition=cond):
            yield SaleRecord(
                partner_id=partner_id,
                sale_id=it.sk[len("SALE#") :],
                sold_at=it.sold_at,
                sku=it.sku,
                quantity=int(it.qty),
                unit_price=it.price,
                currency=it.cur,
                category=it.cat,
                customer_id=it.cust,
                original_sale_id=it.orig,
                net=it.net,
                fx_rate=it.fx,
                fx_date=it.fx_date,
                net_eur=it.net_eur,
                tier=it.tier,
                rate=it.rate,
                rule_version=it.rules,
                rate_basis=it.basis,
                commission=it.comm,
                version=it.ver,
                prev_version=it.prev,
                source=it.src,
                status=it.status,
                period=it.per or "",
            )

    # -- monthly close ------------------------------------------------------------------------
    def close_meta(self, period: str) -> dict[str, Any] | None:
        try:
            it = self.m.Close.get(f"CLOSE#{period}", "META", consistent_read=True)
        except self.m.Close.DoesNotExist:
            return None
        d: dict[str, Any] = json.loads(it.data or "{}")
        d.update(period=period, status=it.state, run=it.run, has_token=bool(it.token))
        return d

    def close_token(self, period: str) -> str | None:
        try:
            return str(self.m.Close.get(f"CLOSE#{period}", "META", consistent_read=True).token or "") or None
        except self.m.Close.DoesNotExist:
            return None

    def save_close_meta(
        self,
        period: str,
        status: str,
        run: str,
        data: dict[str, Any],
        expect: tuple[str, ...] | None = None,
        expect_run: str | None = None,
        token: str | None = None,
        clear_token: bool = False,
    ) -> bool:
        """Write the close's header; `expect` makes it conditional on the current status."""
        C = self.m.Close
        body = {k: v for k, v in data.items() if k not in {"period", "status", "run", "has_token"}}
        actions = [
            C.state.set(status),
            C.run.set(run),
            C.data.set(json.dumps(body, default=str)),
            C.gsi1pk.set("CLOSES"),
            C.gsi1sk.set(period),
        ]
        if token is not None:
            actions.append(C.token.set(token))
        elif clear_token:
            actions.append(C.token.remove())
        cond = None
        if expect is not None:
            cond = C.state.is_in(*expect) if expect else C.pk.does_not_exist()
            if "" in expect:
                cond = cond | C.pk.does_not_exist()
        if expect_run is not None:
            rc = C.run == expect_run
            cond = rc if cond is None else cond & rc
        try:
            C(f"CLOSE#{period}", "META").update(actions=actions, condition=cond)
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def list_closes(self) -> list[dict[str, Any]]:
        out = []
        for it in self.m.Close.by_list.query("CLOSES"):
            d: dict[str, Any] = json.loads(it.data or "{}")
            d.update(period=it.gsi1sk, status=it.state, run=it.run)
            out.append(d)
        return out

    def audit(self, period: str, actor: str, action: str, detail: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        sk = f"AUDIT#{now}#{hashlib.sha256(json.dumps([actor, action, detail], default=str).encode()).hexdigest()[:8]}"
        entry = {"at": now, "actor": actor, "action": action, **detail}
        self.m.Close(f"CLOSE#{period}", sk, data=json.dumps(entry, default=str), state=action).save(
            condition=self.m.Close.pk.does_not_exist()
        )

    def audit_log(self, period: str) -> list[dict[str, Any]]:
        C = self.m.Close
        return [json.loads(it.data) for it in C.query(f"CLOSE#{period}", C.sk.startswith("AUDIT#"))]

    def close_facts(
        self, partner_id: str, before: str, history: int = 7
    ) -> tuple[list[MonthTotals], list[CloseLine]]:
        """One Query for what a partner's review needs: month totals and the committed closes
        before `before` (newest first). Keys CLOSE#, LEDGER#, MONTH# are adjacent in the partition."""
        C = self.m.Close
        months: list[MonthTotals] = []
        closes: list[CloseLine] = []
        conn = self.m.Close._get_connection()  # raw items: three item types share the key range
        raws: list[dict[str, Any]] = []
        start = None
        while True:
            page = conn.query(
                f"PARTNER#{partner_id}",
                range_key_condition=C.sk.between("CLOSE#", "MONTH#~"),
                consistent_read=True,
                exclusive_start_key=start,
            )
            raws += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        for raw in raws:
            sk = raw["sk"]["S"]
            if sk.startswith("MONTH#"):
                months.append(self._month(partner_id, self.m.Month.from_raw_data(raw)))
            elif sk.startswith("CLOSE#") and sk < f"CLOSE#{before}":
                closes.append(CloseLine.from_json(json.loads(raw["data"]["S"])))
        closes.reverse()
        return months, closes[:history]

    def close_history(self, partner_id: str, before: str, limit: int = 7) -> list[CloseLine]:
        """Committed close lines of a partner before `before`, newest first."""
        return self.close_facts(partner_id, before, limit)[1]

    def close_lines(self, period: str, partner_ids: Sequence[str]) -> dict[str, CloseLine]:
        """The committed close line of each partner (of those that have one) for the period."""
        if not partner_ids:
            return {}
        lines = (
            CloseLine.from_json(json.loads(it.data))
            for it in self.m.Close.batch_get(
                [(f"PARTNER#{p}", f"CLOSE#{period}") for p in dict.fromkeys(partner_ids)],
                consistent_read=True,
            )
        )
        return {ln.partner_id: ln for ln in lines}

    def commit_close(
        self, line: CloseLine, entries: Sequence[Entry], tier: tuple[str, str, str] | None
    ) -> bool:
        """Commit one partner's close at once: the line (once per partner and period), its payout,
        its immutable ledger entries and its next tier. False if already committed."""
        C, L, P = self.m.Close, self.m.Ledger, self.m.Payout
        token = hashlib.sha256(f"{line.run}|{line.partner_id}".encode()).hexdigest()[:36]
        pk = f"PARTNER#{line.partner_id}"
        try:
            with TransactWrite(connection=self._conn, client_request_token=token) as tx:
                tx.save(
                    C(
                        pk,
                        f"CLOSE#{line.period}",
                        data=json.dumps(line.to_json()),
                        state=line.state,
                        run=line.run,
                    ),
                    condition=C.pk.does_not_exist(),
                )
                if line.payout > 0:
                    tx.save(
                        P(pk, f"PAYOUT#{line.period}", amount=line.payout, run=line.run, state="approved"),
                        condition=P.pk.does_not_exist(),
                    )
                for e in entries:
                    tx.save(
                        L(
                            pk,
                            f"LEDGER#{e.period}#{e.entry_id}",
                            period=e.period,
                            debit=e.debit,
                            credit=e.credit,
                            amount=e.amount,
                            memo=e.memo,
                            reverses=e.reverses,
                            gsi1pk=f"LEDGER#{e.period}",
                            gsi1sk=f"{line.partner_id}#{e.entry_id}",
                        ),
                        condition=L.pk.does_not_exist(),
                    )
                if tier is not None:
                    month, name, reason = tier
                    tx.save(self.m.Tier(pk, f"TIER#{month}", tier=name, reason=reason))
            return True
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise

    def ledger_entries(self, partner_id: str | None = None, period: str | None = None) -> list[Entry]:
        L = self.m.Ledger
        if partner_id is not None:
            items: Iterable[Any] = L.query(f"PARTNER#{partner_id}", L.sk.startswith("LEDGER#"))
        elif period is not None:
            items = L.by_period.query(f"LEDGER#{period}")
        else:
            raise ValueError("ledger_entries needs a partner or a period")
        return [
            Entry(it.sk.rsplit("#", 1)[1], it.period, it.debit, it.credit, it.amount, it.memo, it.reverses)
            for it in items
        ]

    def payout(self, partner_id: str, period: str) -> Decimal | None:
        try:
            return Decimal(self.m.Payout.get(f"PARTNER#{partner_id}", f"PAYOUT#{period}").amount)
        except self.m.Payout.DoesNotExist:
            return None


__all__ = ["DecimalAttribute", "DynamoStore", "make_models"]
