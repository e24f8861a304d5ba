"""Program items: partner profiles, tiers of a month, rule versions, FX rates."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import PutError
from pynamodb.expressions.condition import Condition

from loyalty.adapters.dynamo.models import PartnerItem, Tables
from loyalty.kernel.iban import bank_fingerprint, mask_iban
from loyalty.program.registry import Partner, parse_certified
from loyalty.program.rules import RuleVersion


class ProgramTables(Tables):
    # -- partners ---------------------------------------------------------------------------
    def _partner(self, it: PartnerItem) -> Partner:
        return Partner(
            partner_id=it.pk[len("PARTNER#") :],
            name=it.name,
            email=it.email,
            segment=it.segment,
            country=it.country,
            sponsor_id=it.sponsor_id,
            joined_on=dt.date.fromisoformat(it.joined_on),
            cohort=it.cohort,
            distributor_for=tuple(map(str, it.distributor_for or ())),
            starting_tier=it.starting_tier,
            certified=parse_certified(it.certified or ""),
            iban=it.iban_mask or "",  # masked: the plain IBAN only leaves the store for the bank file
            bic=it.bic or "",
            recognition_opt_out=bool(it.recognition_opt_out),
        )

    def get_partner(self, partner_id: str) -> Partner | None:
        try:
            return self._partner(self.m.Partner.get(f"PARTNER#{partner_id}", "PROFILE"))
        except self.m.Partner.DoesNotExist:
            return None

    def _bank_since(self, partners: Sequence[Partner]) -> dict[str, tuple[str, str]]:
        """(fingerprint, since) of the stored bank details: unchanged details keep their date."""
        if not partners:
            return {}
        return {
            it.pk[len("PARTNER#") :]: (it.iban_fp or "", it.bank_since or "")
            for it in self.m.Partner.batch_get(
                [(f"PARTNER#{p}", "PROFILE") for p in dict.fromkeys(p.partner_id for p in partners)],
                attributes_to_get=["pk", "sk", "iban_fp", "bank_since"],
            )
        }

    def put_partners(self, partners: Sequence[Partner]) -> None:
        if any(p.iban for p in partners) and self.cipher is None:
            raise RuntimeError("bank details need the data key (DATA_KEY_ID) to be stored encrypted")
        stored, now = self._bank_since(partners), dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.m.Partner.batch_write() as batch:
            for p in partners:
                enc = self.cipher.encrypt(p.iban, p.partner_id) if p.iban and self.cipher else None
                fp = bank_fingerprint(p.partner_id, p.iban, p.bic)
                old_fp, old_since = stored.get(p.partner_id, ("", ""))
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
                        iban_fp=fp,
                        bank_since=(old_since if fp == old_fp and old_since else now) if fp else "",
                        recognition_opt_out=True if p.recognition_opt_out else None,
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
                    cond: Condition = self.m.Doc.rev == rev
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
