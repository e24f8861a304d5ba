"""Configuration uploads: registry/partners.csv, rates/*.csv, rules/*.yaml|json, products/*.csv
and targets/*.csv|yaml|yml."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from loyalty.kernel.clock import now_iso
from loyalty.kernel.csvio.model import FileError, RowIssue
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.program.fx import parse_rates
from loyalty.program.ports import ProgramStore, SimulationStarter
from loyalty.program.products import parse_products
from loyalty.program.registry import parse_registry
from loyalty.program.rules import RuleBook, RuleVersion, parse_rules
from loyalty.program.targets import parse_targets


@dataclass
class LoadReport:
    kind: str
    key: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    file_error: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "status": "rejected" if self.file_error else "processed",
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "reconciled": self.rows == self.accepted + self.rejected or bool(self.file_error),
            "file_error": self.file_error or None,
            "errors": [asdict(i) for i in self.issues[:1000]],
            "processed_at": now_iso(),
            **self.detail,
        }


class FileLoader(Protocol):
    """A later context's configuration file (training/, catalog/): reads the object, stores what
    it accepts and says what it rejected and why."""

    def load(self, key: str) -> LoadReport: ...


class ConfigService:
    """registry/partners.csv, rates/*.csv and rules/*.yaml|json uploads; `loaders` maps further
    prefixes ("training/", "catalog/") to the contexts that own them."""

    def __init__(
        self,
        store: ProgramStore,
        blobs: BlobStore,
        notifier: Notifier,
        simulations: SimulationStarter | None = None,
        loaders: Mapping[str, FileLoader] | None = None,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.notifier = notifier
        self.simulations = simulations
        self.loaders = dict(loaders or {})

    def handle(self, key: str) -> LoadReport:
        loader = next((v for k, v in self.loaders.items() if key.startswith(k)), None)
        if loader is not None:
            report = loader.load(key)
        elif key.startswith("registry/") and key.lower().endswith(".csv"):
            report = self._registry(key)
        elif key.startswith("rates/") and key.lower().endswith(".csv"):
            report = self._rates(key)
        elif key.startswith("rules/") and key.lower().endswith((".yaml", ".yml", ".json")):
            report = self._rules(key)
        elif key.startswith("products/") and key.lower().endswith(".csv"):
            report = self._products(key)
        elif key.startswith("targets/") and key.lower().endswith((".csv", ".yaml", ".yml")):
            report = self._targets(key)
        else:
            report = LoadReport(
                "unknown", key, file_error="not a registry, rates, rules, products or targets file"
            )
        out = f"reports/config/{key}.report.json"
        self.blobs.put(out, json.dumps(report.to_json(), indent=2, default=str).encode(), "application/json")
        self.notifier.publish(
            subject=f"{report.kind} loaded",
            message=report.to_json(),
            attributes={"type": f"{report.kind}_loaded", "partner": "program"},
        )
        return report

    def _registry(self, key: str) -> LoadReport:
        rep = LoadReport("registry", key)
        books = RuleBook(self.store.rule_versions())
        tiers = [t.name for t in books.versions[-1].tiers] if books else []
        try:
            partners, issues, rows = parse_registry(self.blobs.open(key), tiers)
        except FileError as exc:
            rep.file_error = exc.message
            return rep
        if not tiers:
            issues += [
                RowIssue(0, "starting_tier", p.starting_tier, "no rules loaded: upload rules first")
                for p in partners
                if p.starting_tier
            ]
            partners = [p for p in partners if not p.starting_tier]
        self.store.put_partners(partners)
        for p in partners:
            if p.starting_tier:
                self.store.put_tier(
                    p.partner_id, p.joined_on.isoformat()[:7], p.starting_tier, "starting tier (registry)"
                )
        rep.rows, rep.accepted, rep.rejected, rep.issues = rows, len(partners), len(issues), issues
        return rep

    def _rates(self, key: str) -> LoadReport:
        rep = LoadReport("rates", key)
        good: list[tuple[Any, str, Decimal]] = []
        try:
            for item in parse_rates(self.blobs.open(key)):
                if isinstance(item, RowIssue):
                    rep.issues.append(item)
                else:
                    good.append(item)
        except FileError as exc:
            rep.file_error = exc.message
            return rep
        self.store.put_fx_rates(good)
        rep.rows = len(good) + len(rep.issues)
        rep.accepted, rep.rejected = len(good), len(rep.issues)
        rep.detail = {"currencies": sorted({c for _, c, _ in good})}
        return rep

    def _products(self, key: str) -> LoadReport:
        rep = LoadReport("products", key)
        try:
            products, issues, rows = parse_products(self.blobs.open(key))
        except FileError as exc:
            rep.file_error = exc.message
            return rep
        self.store.put_products(products)
        rep.rows, rep.accepted, rep.rejected, rep.issues = rows, len(products), len(issues), issues
        return rep

    def _rules(self, key: str) -> LoadReport:
        rep = LoadReport("rules", key, rows=1)
        raw = self.blobs.get(key)
        try:
            rules = parse_rules(raw.decode("utf-8"))
        except Exception as exc:  # pydantic ValidationError, YAML errors, bad UTF-8
            rep.file_error = f"invalid rules file: {exc}"
            rep.rejected = 1
            return rep
        if rules.simulate_first:
            return self._pending(rep, rules, hashlib.sha256(raw).hexdigest()[:12])
        created = self.store.put_rule_version(rules, key)
        rep.accepted = 1
        rep.detail = _version(rules, created)
        return rep

    def _pending(self, rep: LoadReport, rules: RuleVersion, digest: str) -> LoadReport:
        """`simulate_first: true`: the version is NOT stored in the rule book (the engine never
        sees it); the simulation job over the last closed months is started instead (the job id
        comes from the version and the file's content: the same upload again starts nothing).
        Uploading the same file without the flag publishes the version."""
        if self.simulations is None:
            rep.file_error = "simulate_first: this deployment runs no simulations"
            rep.rejected = 1
            return rep
        job = f"rules-{rules.version}-{digest}"
        spec = {"rules_key": rep.key, "targets_key": "", "start": "", "end": ""}
        started = self.simulations.start(job, spec)
        rep.accepted = 1
        rep.detail = {
            **_version(rules, False),
            "pending": True,
            "simulation": {
                "job": job,
                "window": "the last 3 closed months",
                "started": started,
                "report": f"simulations/{job}/report.json",
            },
            "next": "review the report, then upload the same file without simulate_first to publish it",
        }
        return rep

    def _targets(self, key: str) -> LoadReport:
        """A version of the target book: good rows load, bad ones are listed; the same version
        again changes nothing, the same version with other content is refused."""
        rep = LoadReport("targets", key)
        ts, issues, error = parse_targets(self.blobs.get(key), key)
        rep.issues, rep.rejected = issues, len(issues)
        rep.rows = len(issues) + (len(ts.targets) if ts else 0)
        if ts is None:
            rep.file_error = error
            return rep
        try:
            created = self.store.put_target_set(ts, key)
        except ValueError as exc:
            rep.file_error = str(exc)
            return rep
        rep.accepted = len(ts.targets)
        rep.detail = {
            "version": ts.version,
            "effective_from": ts.effective_from.isoformat(),
            "new": created,
            "targets": sorted({f"{t.target_id}@{t.period}" for t in ts.targets})[:1000],
        }
        return rep


def _version(rules: RuleVersion, new: bool) -> dict[str, Any]:
    """What a rules load report says of the version it read."""
    return {"version": rules.version, "effective_from": rules.effective_from.isoformat(), "new": new}
