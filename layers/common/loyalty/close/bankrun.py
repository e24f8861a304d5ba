"""The BankFiles step (its own Lambda: the only code that decrypts bank details).

Guarantees (issue 9, points 2, 3 and 20):
- a bank file is immutable: each run writes `payouts/<period>/<run>/pain001.xml` once (a
  conditional put); a retry finds it and keeps it (its dates are never changed); MsgId and
  PmtInfId are the run, so the same run can never produce a second message;
- it pays exactly what finance approved: the run's review files must match the proposal digest,
  the payouts committed by this run must be the approved lines (excluded partners aside), and
  their sum the approved total; otherwise no file is written and the run fails (finance alerted);
- a re-run emits only what no earlier bank file of the period holds (by EndToEndId, which is
  derived from the period and the partner), so a partner committed by a run that failed before
  its bank file is paid by the re-run, and one already in a bank file is never paid again."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from loyalty.close.bankfiles import Debtor, Payment, bank_csv, end_to_end_id, pain001, pain001_errors
from loyalty.close.batches import DigestMismatch, PaymentRow, RunFiles
from loyalty.close.header import CloseMeta
from loyalty.close.invariants import line_problems
from loyalty.close.payees import BankSnapshot
from loyalty.close.ports import BankStore, CloseBlobs
from loyalty.close.results import BankFiles
from loyalty.close.review import CloseLine
from loyalty.close.runs import COMMITTING, CloseError, CloseStatus, _prefix
from loyalty.kernel.iban import bank_fingerprint, valid_bic, valid_iban
from loyalty.kernel.money import ZERO

# our own files (immutable, written by `pain001`): end-to-end ids are [0-9a-f-], never escaped
_E2E = re.compile(rb"<EndToEndId>([^<]*)</EndToEndId>")
XML, CSV = "pain001.xml", "payouts.csv"


def filed_ids(xml: bytes) -> set[str]:
    """The EndToEndIds a pain.001 file pays."""
    return {m.decode() for m in _E2E.findall(xml)}


def approved_payouts(
    reviews: Iterable[CloseLine], exclude: Sequence[str]
) -> tuple[dict[str, Decimal], Decimal]:
    """What finance approved to pay in this run (partner -> amount), and the proposal's total
    (the excluded partners' payouts included, as finance saw it)."""
    out: dict[str, Decimal] = {}
    total = ZERO
    for ln in reviews:
        if ln.state != "proposed" or ln.dormant or ln.payout <= 0:
            continue
        total += ln.payout
        if ln.partner_id not in exclude:
            out[ln.partner_id] = ln.payout
    return out, total


def check_paid(
    meta: CloseMeta, rows: Sequence[PaymentRow], approved: dict[str, Decimal], total: Decimal
) -> None:
    """The run's commits are exactly the approved lines, and Σ approved = the approved total."""
    mine = {r.partner_id: r.amount for r in rows if r.run == meta.run}
    if mine != approved:
        wrong = sorted(set(mine.items()) ^ set(approved.items()))[:5]
        raise CloseError(f"not paying {meta.period}: committed payouts differ from the approved ones {wrong}")
    shown = Decimal((meta.summary.totals if meta.summary else {}).get("payout", "0"))
    if total != shown:
        raise CloseError(
            f"not paying {meta.period}: the reviewed total {total} is not the approved total {shown}"
        )


class BankFileService:
    def __init__(self, store: BankStore, blobs: CloseBlobs, debtor: Debtor) -> None:
        self.store = store
        self.blobs = blobs
        self.files = RunFiles(blobs)
        self.debtor = debtor

    def _meta(self, period: str, run: str) -> CloseMeta:
        meta = self.store.close_meta(period)
        if meta is None or meta.run != run:
            raise CloseError(f"run {run} is not the current run of {period}", 409)
        if meta.status not in COMMITTING:
            raise CloseError(f"run {run} of {period} is {meta.status}, not approved: no bank file")
        return meta

    def _check_debtor(self) -> None:
        d = self.debtor
        if not valid_iban(d.iban) or (d.bic and not valid_bic(d.bic)):
            raise CloseError(
                f"the program account is not set up: DEBTOR_IBAN {d.iban[:4] or '(empty)'}... / DEBTOR_BIC "
                f"{d.bic or '(none)'} is not a valid IBAN/BIC; no bank file written"
            )

    def bank_files(self, period: str, run: str, manifest: str, now: dt.datetime) -> BankFiles:
        meta = self._meta(period, run)
        self._check_debtor()
        prefix, digest = _prefix(period, run), meta.proposal_digest
        try:
            reviews = list(self.files.verified_reviews(prefix, manifest, digest))
            bank = self.files.verified_bank(prefix, manifest, digest)
        except DigestMismatch as exc:
            raise CloseError(f"not paying {period}: {exc}") from None
        broken = [f"{ln.partner_id}: {p}" for ln in reviews for p in line_problems(ln)]
        if broken:
            raise CloseError(f"not paying {period}: lines that do not add up {broken[:5]}")
        rows = self.files.payments(manifest)
        approved, total = approved_payouts(reviews, meta.exclude or ())
        check_paid(meta, rows, approved, total)
        base = f"payouts/{period}/{run}/"
        if base + XML in self.blobs.keys(base):  # written by an earlier attempt: kept as it is
            emitted = filed_ids(self.blobs.get(base + XML))
            paid = [r for r in rows if end_to_end_id(period, r.partner_id) in emitted]
            return self._done(meta, paid, [base + CSV, base + XML])
        filed = self._filed(period, base)
        todo = [r for r in rows if end_to_end_id(period, r.partner_id) not in filed]
        if not todo:
            return self._done(meta, [], [])
        payments = self._payments(period, todo, bank)
        d = self.debtor
        # requested execution date: the day the file is written (never in the past); a file, once
        # written, is never written again, so a retry never re-dates it
        xml = pain001(payments, run, now, now.date(), d.name, d.iban, d.bic)
        errors = pain001_errors(xml)
        if errors:
            raise CloseError(f"not paying {period}: the pain.001 would be invalid: {errors[:3]}")
        self._put_once(base + CSV, bank_csv(payments), "text/csv")
        self._put_once(base + XML, xml, "application/xml")
        return self._done(meta, todo, [base + CSV, base + XML])

    def _filed(self, period: str, own: str) -> set[str]:
        """EndToEndIds already in a bank file of the period (earlier runs)."""
        out: set[str] = set()
        for key in self.blobs.keys(f"payouts/{period}/"):
            if key.endswith("/" + XML) and not key.startswith(own):
                out |= filed_ids(self.blobs.get(key))
        return out

    def _payments(
        self, period: str, rows: Sequence[PaymentRow], bank: dict[str, BankSnapshot]
    ) -> list[Payment]:
        """Each payment to the bank details finance approved (the proposal's snapshot), never to
        whatever the registry holds now; any doubt fails the run before a file exists."""
        missing = sorted(r.partner_id for r in rows if r.partner_id not in bank)
        if missing:
            raise CloseError(f"not paying {period}: no IBAN for {missing[:10]}; no bank file written")
        out = []
        for r in rows:
            snap = bank[r.partner_id]
            iban = self.store.decrypt_iban(r.partner_id, snap.iban_enc)
            if not iban or bank_fingerprint(r.partner_id, iban, snap.bic) != snap.fingerprint:
                raise CloseError(
                    f"not paying {period}: the bank details of {r.partner_id} do not match their snapshot"
                )
            if r.bank_fp and r.bank_fp != snap.fingerprint:
                raise CloseError(
                    f"not paying {period}: {r.partner_id} was committed with other bank details than "
                    f"the proposal's ({snap.iban_mask}); no bank file written"
                )
            out.append(
                Payment(r.partner_id, r.name, r.amount, iban, snap.bic, end_to_end_id(period, r.partner_id))
            )
        return out

    def _put_once(self, key: str, body: bytes, content_type: str) -> None:
        """Bank files are never overwritten: a file already there must be this very file."""
        if not self.blobs.put_new(key, body, content_type) and self.blobs.get(key) != body:
            raise CloseError(f"{key} exists with other content: bank files are immutable")

    def _done(self, meta: CloseMeta, paid: Sequence[PaymentRow], files: list[str]) -> BankFiles:
        total = sum((p.amount for p in paid), ZERO)
        meta.bank_files, meta.paid_total, meta.payees = files, str(total), len(paid)
        run = meta.run
        meta.status = CloseStatus.PAYING
        self.store.save_close_meta(
            meta, expect=(CloseStatus.APPROVED, CloseStatus.PAYING), expect_run=run, clear_token=True
        )
        return BankFiles(len(paid), total, files)
