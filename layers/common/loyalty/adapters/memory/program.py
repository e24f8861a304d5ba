"""In-memory adapters of the program ports: partners, tiers of a month, rule versions, FX rates.

Same results as `adapters.dynamo.program` (held by tests/contract/test_program_store.py): IBANs
are kept encrypted and shown masked, rule versions come back in (effective date, version) order
and are immutable, tiers are looked up as "the latest at or before the month"."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from loyalty.adapters.memory.tables import MemoryTables
from loyalty.kernel.iban import bank_fingerprint, mask_iban
from loyalty.kernel.ports import Cipher
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleVersion


@dataclasses.dataclass(frozen=True)
class _PartnerItem:
    partner: Partner  # with the IBAN masked
    iban_enc: str | None
    iban_fp: str = ""
    bank_since: str = ""


class MemoryProgram(MemoryTables):
    def __init__(self, cipher: Cipher | None = None) -> None:
        super().__init__(cipher)
        self.partners: dict[str, _PartnerItem] = {}
        self.tiers: dict[str, dict[str, tuple[str, str]]] = {}  # partner -> month -> (tier, reason)
        self.rules: dict[str, str] = {}  # "<effective_from>#<version>" -> JSON
        self.fx: dict[str, dict[str, str]] = {}  # "<currency>#<YYYY-MM>" -> day -> rate

    # -- partners ---------------------------------------------------------------------------
    def get_partner(self, partner_id: str) -> Partner | None:
        item = self.partners.get(partner_id)
        return item.partner if item else None

    def put_partners(self, partners: Sequence[Partner]) -> None:
        if any(p.iban for p in partners) and self.cipher is None:
            raise RuntimeError("bank details need the data key (DATA_KEY_ID) to be stored encrypted")
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for p in partners:
            enc = self.cipher.encrypt(p.iban, p.partner_id) if p.iban and self.cipher else None
            fp, old = bank_fingerprint(p.partner_id, p.iban, p.bic), self.partners.get(p.partner_id)
            since = (old.bank_since if old and old.iban_fp == fp and old.bank_since else now) if fp else ""
            masked = dataclasses.replace(p, iban=mask_iban(p.iban))
            self.partners[p.partner_id] = _PartnerItem(masked, enc, fp, since)

    def bank_details(self, partner_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for pid in dict.fromkeys(partner_ids):
            item = self.partners.get(pid)
            if item is not None and item.iban_enc and self.cipher is not None:
                out[pid] = (self.cipher.decrypt(item.iban_enc, pid), item.partner.bic)
        return out

    def list_partners(self) -> Iterator[Partner]:
        for pid in sorted(self.partners):
            yield self.partners[pid].partner

    # -- tiers ------------------------------------------------------------------------------
    def tier_for(self, partner_id: str, month: str) -> str | None:
        months = [m for m in self.tiers.get(partner_id, {}) if "0000-00" <= m <= month]
        return self.tiers[partner_id][max(months)][0] if months else None

    def put_tier(self, partner_id: str, month: str, tier: str, reason: str) -> None:
        self.tiers.setdefault(partner_id, {})[month] = (tier, reason)

    # -- rules and FX -----------------------------------------------------------------------
    def rule_versions(self) -> list[RuleVersion]:
        return [RuleVersion.model_validate_json(self.rules[k]) for k in sorted(self.rules)]

    def put_rule_version(self, rules: RuleVersion, source: str) -> bool:
        """Versions are immutable: the same content again is a no-op, other content is refused."""
        data = rules.model_dump_json()
        key = f"{rules.effective_from.isoformat()}#{rules.version}"
        if key in self.rules:
            if self.rules[key] != data:
                raise ValueError(
                    f"rules version {rules.version} already exists with other content; bump the version"
                )
            return False
        same_version = [v for v in self.rule_versions() if v.version == rules.version]
        if same_version:
            raise ValueError(
                f"rules version {rules.version} already exists (effective {same_version[0].effective_from})"
            )
        self.rules[key] = data
        return True

    def fx_rates(self) -> Iterable[tuple[dt.date, str, Decimal]]:
        for key in sorted(self.fx):
            cur = key.split("#", 1)[0]
            for day, rate in sorted(self.fx[key].items()):
                yield dt.date.fromisoformat(day), cur, Decimal(rate)

    def put_fx_rates(self, rates: Sequence[tuple[Any, str, Decimal]]) -> None:
        for day, cur, rate in rates:
            self.fx.setdefault(f"{cur}#{day.isoformat()[:7]}", {})[day.isoformat()] = str(rate)
