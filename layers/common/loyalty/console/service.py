"""What finance and operations read of the closes: the closes and those awaiting a decision, a
proposal's figures (eligible against held), its payees and held partners (paged), its anomalies
with their reasons, one partner's line and why it is paid, held or excluded, the audit trail,
and the downloads (bank files once paid, statements). Decisions (approve, reject) and starts go
through the close's own services (`loyalty.close.approvals`, `loyalty.close.steps`).

Who reads what (the user pool's staff groups): finance and operators everything of a close;
program managers the closes and their aggregate figures (no partner-level rows); bank files
(payees' names and IBANs) finance only. Partner users are refused (403)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from loyalty.close.approval_rules import approvals_required, recorded_approvals
from loyalty.close.approvals import DUAL_APPROVAL_EUR
from loyalty.close.header import CloseMeta
from loyalty.close.review import CloseLine
from loyalty.close.runs import CloseStatus
from loyalty.console.analytics import program_analytics
from loyalty.console.index import ConsoleError, Index, ProposalIndex, decode_cursor, encode_cursor, row
from loyalty.console.ports import ConsoleBlobs, ConsoleStore, Presigner
from loyalty.console.views import json_safe, moment, money, period_view
from loyalty.kernel.i18n import Lang
from loyalty.kernel.identity import FINANCE, OPERATOR, PROGRAM_MANAGER, Principal, same_person
from loyalty.kernel.periods import PERIOD_RE

SUMMARY_READERS = frozenset({FINANCE, OPERATOR, PROGRAM_MANAGER})
PARTNER_READERS = frozenset({FINANCE, OPERATOR})
BANK_READERS = frozenset({FINANCE})
STATEMENT_FORMATS = {"html": "text/html", "csv": "text/csv", "pdf": "application/pdf"}
Sort = Literal["amount", "partner"]
FIGURES = ("payout", "carried_out", "matured_now", "net_sales", "bonus", "override")


def require(principal: Principal, groups: frozenset[str], what: str) -> None:
    if not principal.groups & groups:
        allowed = ", ".join(sorted(groups))
        raise ConsoleError(f"{principal.user} may not read {what} (needs one of: {allowed})", 403)


def line_view(line: CloseLine, lang: Lang) -> dict[str, Any]:
    """A partner's close line as the drill-down shows it."""
    return {
        "partner_id": line.partner_id,
        "name": line.name,
        "segment": line.segment,
        "cohort": line.cohort,
        "state": line.state,
        "dormant": line.dormant,
        "tier_before": line.tier_before,
        "tier_after": line.tier_after,
        "tier_change": line.tier_change,
        "tier_reason": line.tier_reason,
        "progress": line.progress,
        "net_sales": money(line.net_sales, lang),
        "trailing": money(line.trailing, lang),
        "carried_in": money(line.carried_in, lang),
        "matured_now": money(line.matured_now, lang),
        "bonus": money(line.bonus_eur, lang),
        "override": money(line.override_eur, lang),
        "payout": money(line.payout, lang),
        "carried_out": money(line.carried_out, lang),
        "payout_reason": line.payout_reason,
        "anomalies": list(line.anomalies),
        "rule_version": line.rule_version,
        "lines": line.lines,
        "returns": line.returns,
    }


def row_view(r: dict[str, Any], lang: Lang) -> dict[str, Any]:
    out = dict(r)
    for k in ("payout", "carried_in", "matured_now", "carried_out"):
        if k in out:
            out[k] = money(Decimal(out[k]), lang)
    return out


class FinanceConsole:
    def __init__(
        self,
        store: ConsoleStore,
        blobs: ConsoleBlobs,
        presigner: Presigner,
        dual_above_eur: Decimal = DUAL_APPROVAL_EUR,
    ) -> None:
        self.dual_above_eur = dual_above_eur  # the approvals service's quorum rule (setting)
        self.store = store
        self.blobs = blobs
        self.presigner = presigner
        self.proposals = ProposalIndex(blobs)

    # -- the closes ---------------------------------------------------------------------------
    def _meta(self, period: str) -> CloseMeta:
        if not PERIOD_RE.match(period):
            raise ConsoleError(f"period must be YYYY-MM, got {period!r}", 400)
        meta = self.store.close_meta(period)
        if meta is None:
            raise ConsoleError(f"no close for {period}", 404)
        return meta

    def _heading(self, meta: CloseMeta, lang: Lang) -> dict[str, Any]:
        summary = meta.summary
        total = summary.totals.get("payout", "0") if summary else "0"
        return {
            **period_view(meta.period, lang),
            "status": str(meta.status),
            "run": meta.run,
            "attempt": meta.attempt,
            "started_by": meta.started_by,
            "started": moment(meta.started_at, lang),
            "requested": moment(meta.requested_at, lang),
            "approved_by": meta.approved_by,
            "rejected_by": meta.rejected_by,
            "partners": summary.partners if summary else 0,
            "payees": summary.payees if summary else 0,
            "payout": money(Decimal(total), lang),
            "anomaly_count": summary.anomaly_count if summary else 0,
        }

    def closes(self, who: Principal, lang: Lang) -> list[dict[str, Any]]:
        require(who, SUMMARY_READERS, "closes")
        metas = sorted(self.store.list_closes(), key=lambda m: m.period, reverse=True)
        return [self._heading(m, lang) for m in metas]

    def pending(self, who: Principal, lang: Lang) -> list[dict[str, Any]]:
        require(who, SUMMARY_READERS, "closes")
        metas = [m for m in self.store.list_closes() if m.status == CloseStatus.AWAITING_APPROVAL]
        return [self._heading(m, lang) for m in sorted(metas, key=lambda m: m.period)]

    def close(self, who: Principal, period: str, lang: Lang) -> dict[str, Any]:
        """Status, run and digest (what an approval names), eligible against held, the proposal's
        summary, the approvals recorded and what the caller may do."""
        require(who, SUMMARY_READERS, "closes")
        meta = self._meta(period)
        out = self._heading(meta, lang)
        awaiting = meta.status == CloseStatus.AWAITING_APPROVAL
        approvals = recorded_approvals(meta)
        out |= {
            "digest": meta.proposal_digest,
            "comment": meta.comment,
            "exclude": list(meta.exclude or []),
            "approvals": [
                {"by": a.by, "at": moment(a.at, lang), "comment": a.comment, "exclude": list(a.exclude)}
                for a in approvals
            ],
            "approvals_required": meta.approvals_required or approvals_required(meta, self.dual_above_eur),
            "bank_files": len(meta.bank_files or []),
            "paid_total": money(Decimal(meta.paid_total), lang) if meta.paid_total else None,
            "may_approve": awaiting
            and FINANCE in who.groups
            and not same_person(who.user, meta.started_by)
            and not any(same_person(a.by, who.user) for a in approvals),
            "may_reject": awaiting and FINANCE in who.groups,
        }
        out["figures"] = self._figures(meta, lang)
        out["summary"] = self._summary(meta, lang)
        return out

    def _figures(self, meta: CloseMeta, lang: Lang) -> dict[str, Any] | None:
        if not meta.manifest or not meta.proposal_digest:
            return None
        f = self.proposals.index(meta).figures
        return {
            "partners": f["partners"],
            "eligible": {"count": f["eligible"], "total": money(Decimal(f["eligible_total"]), lang)},
            "held": {"count": f["held"], "total": money(Decimal(f["held_total"]), lang)},
            "negative": {"count": f["negative"], "total": money(Decimal(f["negative_total"]), lang)},
            "anomalies": f["anomalies"],
            "already_committed": f["already_committed"],
        }

    def _summary(self, meta: CloseMeta, lang: Lang) -> dict[str, Any] | None:
        """The proposal file's aggregates (by tier, segment and cohort, tier moves, points); its
        top and anomaly lists are served paged by their own routes."""
        if not meta.proposal:
            return None
        p = json.loads(self.blobs.get(meta.proposal))
        totals = p.get("totals") or {}

        def buckets(d: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {
                    "key": k,
                    "partners": int(b.get("partners", 0)),
                    "payout": money(Decimal(b.get("payout", "0")), lang),
                    "net_sales": money(Decimal(b.get("net_sales", "0")), lang),
                }
                for k, b in sorted(d.items())
            ]

        return {
            "partners": int(p.get("partners", 0)),
            "payees": int(p.get("payees", 0)),
            "dormant": int(p.get("dormant", 0)),
            "totals": {k: money(Decimal(totals.get(k, "0")), lang) for k in FIGURES},
            "by_tier": buckets(p.get("by_tier") or {}),
            "by_segment": buckets(p.get("by_segment") or {}),
            "by_cohort": buckets(p.get("by_cohort") or {}),
            "tier_moves": {str(k): int(v) for k, v in (p.get("tier_moves") or {}).items()},
            "anomaly_count": int(p.get("anomaly_count", 0)),
            "points": {str(k): int(v) for k, v in (p.get("points") or {}).items()},
        }

    # -- the proposal's partners, paged ------------------------------------------------------------
    def _page(
        self, who: Principal, period: str, name: str, cursor: str | None, limit: int, lang: Lang
    ) -> dict[str, Any]:
        require(who, PARTNER_READERS, "a proposal's partners")
        meta = self._meta(period)
        index = self.proposals.index(meta)
        got = self.proposals.slice(index, name, decode_cursor(cursor, meta.run), limit)
        return {
            "period": period,
            "run": meta.run,
            "digest": meta.proposal_digest,
            "total": got.total,
            "items": [row_view(r, lang) for r in got.rows],
            "next_cursor": encode_cursor(meta.run, got.next_offset) if got.next_offset is not None else None,
        }

    def payouts(
        self, who: Principal, period: str, cursor: str | None, limit: int, sort: Sort, lang: Lang
    ) -> dict[str, Any]:
        return self._page(who, period, f"payouts-{sort}", cursor, limit, lang)

    def held(self, who: Principal, period: str, cursor: str | None, limit: int, lang: Lang) -> dict[str, Any]:
        return self._page(who, period, "held", cursor, limit, lang)

    def anomalies(
        self, who: Principal, period: str, cursor: str | None, limit: int, lang: Lang
    ) -> dict[str, Any]:
        return self._page(who, period, "anomalies", cursor, limit, lang)

    def partner(self, who: Principal, period: str, partner_id: str, lang: Lang) -> dict[str, Any]:
        """One partner's line of the run and why it is paid, held or excluded; once committed,
        what was committed (a finance exclusion carries the balance forward)."""
        require(who, PARTNER_READERS, "a proposal's partners")
        meta = self._meta(period)
        index = self.proposals.index(meta)
        line = self.proposals.line(meta, index, partner_id)
        if line is None:
            raise ConsoleError(f"{partner_id} is not in the proposal of {period} (run {meta.run})", 404)
        committed = self.store.close_lines(period, [partner_id]).get(partner_id)
        excluded = partner_id in (meta.exclude or [])
        return {
            "period": period,
            "run": meta.run,
            "digest": meta.proposal_digest,
            "proposed": line_view(line, lang),
            "committed": line_view(committed, lang) if committed is not None else None,
            "excluded": excluded,
            "why": why(line, excluded, committed),
        }

    # -- audit and downloads -----------------------------------------------------------------------
    def audit(self, who: Principal, period: str, lang: Lang) -> dict[str, Any]:
        require(who, PARTNER_READERS, "the audit trail")
        meta = self._meta(period)
        entries = [
            {
                "at": e.at,
                "text": (moment(e.at, lang) or {}).get("text", e.at),
                "actor": e.actor,
                "action": e.action,
                "detail": json_safe(dict(e.detail)),
            }
            for e in self.store.audit_log(meta.period)
        ]
        return {"period": period, "run": meta.run, "entries": entries}

    def bank_files(self, who: Principal, period: str) -> dict[str, Any]:
        require(who, BANK_READERS, "bank files")
        meta = self._meta(period)
        if meta.status != CloseStatus.PAID or not meta.bank_files:
            raise ConsoleError(
                f"the close of {period} is {meta.status}: bank files exist once it is paid", 409
            )
        return {
            "period": period,
            "run": meta.run,
            "files": [
                {"key": k, "name": k.rsplit("/", 1)[-1], "url": self.presigner.presign_get(k, _name(k))}
                for k in meta.bank_files
            ],
        }

    def statement(self, who: Principal, period: str, partner_id: str, fmt: str) -> dict[str, Any]:
        require(who, PARTNER_READERS, "statements")
        self._meta(period)
        if fmt not in STATEMENT_FORMATS:
            raise ConsoleError(f"format must be one of {', '.join(STATEMENT_FORMATS)}, got {fmt!r}", 400)
        key = f"statements/{partner_id}/{period}.{fmt}"
        if key not in self.blobs.keys(key):
            raise ConsoleError(f"no {fmt} statement of {partner_id} for {period}", 404)
        return {"url": self.presigner.presign_get(key, f"statement-{partner_id}-{period}.{fmt}")}

    def analytics(self, who: Principal, period: str, lang: Lang) -> dict[str, Any]:
        """The month's program analytics: the report page's link and key figures (finance,
        operators and program managers: the program's aggregates; its partner ids are those of
        the movers and partners at risk, without names or bank details)."""
        require(who, SUMMARY_READERS, "program analytics")
        self._meta(period)
        return program_analytics(self.blobs, self.presigner, period, lang)

    def export_rows(self, who: Principal, period: str, kind: str) -> tuple[Index, Iterator[dict[str, Any]]]:
        """The rows of a CSV export (see `loyalty.console.exports`), one shard at a time."""
        require(who, PARTNER_READERS, "exports")
        meta = self._meta(period)
        index = self.proposals.index(meta)
        if kind == "payouts":
            return index, self.proposals.all_rows(index, "payouts-amount")
        if kind == "anomalies":
            return index, self.proposals.all_rows(index, "anomalies")
        if kind == "excluded":
            return index, self._excluded(meta, index)
        raise ConsoleError(f"kind must be payouts, anomalies or excluded, got {kind!r}", 400)

    def _excluded(self, meta: CloseMeta, index: Index) -> Iterator[dict[str, Any]]:
        """Everyone this run does not pay although something is owed: partners finance excluded
        (their proposed payout carries forward), then partners held by the rules."""
        for ln in self.proposals.lines(meta, index, sorted(meta.exclude or [])):
            yield {**row(ln), "why": f"excluded by finance ({meta.approved_by or ''})"}
        for r in self.proposals.all_rows(index, "held"):
            yield {**r, "why": r["reason"]}


def why(line: CloseLine, excluded: bool, committed: CloseLine | None) -> str:
    """One sentence: why the partner is paid, held or excluded in this run."""
    if committed is not None and committed.state == "excluded":
        return committed.payout_reason
    if excluded:
        return "excluded by finance: the whole balance carries forward to the next close"
    if line.state != "proposed":
        return f"committed by an earlier run of the period ({line.state}); not proposed again"
    return line.payout_reason


def _name(key: str) -> str:
    return key.replace("/", "-")
