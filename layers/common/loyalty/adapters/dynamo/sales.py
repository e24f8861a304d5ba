"""Earning items: accrual lines, month totals, frozen periods."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from loyalty.adapters.dynamo.models import LinkItem, MonthItem, SaleItem, Tables, failed_condition
from loyalty.adapters.dynamo.month_figures import figure_update, known_categories, read_figures
from loyalty.earning.records import MonthDelta, MonthTotals, SaleRecord, SaleRef, StoredSale, sale_ref

ORIGINAL = "original-sale"
FINAL_BATCH = 90  # lines per final-rate transaction (plus their month totals: at most 100 items)
Rerate = tuple[SaleRecord, SaleRecord, str]  # (line as read, final line, holding day)


def link_part(value: str) -> str:
    """An id inside a link key: `%` and `#` percent-encoded, so prefixes cannot collide."""
    return value.replace("%", "%25").replace("#", "%23")


def link_keys(r: SaleRecord) -> list[tuple[str, str, int]]:
    """The link items of a line, as (sk, ref, units): a sale under its SKU; a return priced at
    its sale's rate under that sale."""
    if r.quantity > 0:
        return [(f"SKU#{link_part(r.sku)}#{r.sold_at}#{link_part(r.sale_id)}", r.sale_id, r.quantity)]
    orig = r.matched or r.original_sale_id
    if r.quantity < 0 and r.rate_basis == ORIGINAL and orig:
        return [(f"RET#{link_part(orig)}#{link_part(r.sale_id)}", r.sale_id, -r.quantity)]
    return []


def reverses(r: SaleRecord, sale_id: str) -> bool:
    """Is the line a return priced at the rate of `sale_id`?"""
    return r.quantity < 0 and r.rate_basis == ORIGINAL and (r.matched or r.original_sale_id) == sale_id


class SalesTables(Tables):
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
                "anchor",
                "status",
                "cat",
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
                it.anchor or "",
                it.status or "provisional",
                it.cat or "",
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
                        anchor=r.anchor,
                        match=r.matched,
                    )
                )
                for sk, ref, units in link_keys(r):  # the returns' lookups (bounded items)
                    batch.save(self.m.Link(f"PARTNER#{r.partner_id}", sk, ref=ref, units=units))

    def apply_month_delta(self, partner_id: str, month: str, chunk_id: str, delta: MonthDelta) -> bool:
        """Apply a chunk's delta once, keeping every item bounded (issue 9, point 19).

        One transaction: a marker item `APPLIED#<month>#<chunk>` (condition: not there yet), the
        month total's `ADD`s (with `newc`, the customers first seen in this month) and, when a late
        file shows a customer earlier than its first month so far, `newc - 1` on that month. The
        customers' items (`CUST#<id>`: first month) are written after it: a crash in between is
        repaired by the redelivery, which finds its marker (nothing counted twice) and writes them.
        No set on any item grows with the number of chunks or customers."""
        pk = f"PARTNER#{partner_id}"
        M, D = self.m.Month, self.m.Marker
        seen = self._first_months(pk, delta.customers)
        firsts = [c for c in sorted(delta.customers) if c not in seen or seen[c] > month]
        moved = Counter(seen[c] for c in firsts if c in seen)
        actions: list[Action] = [
            M.net.add(delta.net_eur),
            M.comm.add(delta.commission),
            M.lines.add(delta.lines),
            M.returns.add(delta.returns),
        ]
        if firsts:
            actions.append(M.newc.add(len(firsts)))
        actions += [getattr(M, f"c{day:02d}").add(amount) for day, amount in sorted(delta.by_day.items())]
        known: set[str] | None = None  # the month's categories, read only when near the bound
        while True:
            figures, room = figure_update(M, delta, known)
            try:
                with TransactWrite(connection=self._conn) as tx:
                    tx.save(D(pk, f"APPLIED#{month}#{chunk_id}"), condition=D.pk.does_not_exist())
                    tx.update(M(pk, f"MONTH#{month}"), actions=actions + figures, condition=room)
                    for old, n in sorted(moved.items()):
                        tx.update(M(pk, f"MONTH#{old}"), actions=[M.newc.add(-n)])
                applied = True
            except TransactWriteError as exc:
                if not failed_condition(exc) and failed_condition(exc, 1) and known is None:
                    known = known_categories(M, pk, f"MONTH#{month}")
                    continue
                if not failed_condition(exc):
                    raise
                applied = False
            break
        self._set_first_months(pk, month, firsts, seen)
        return applied

    def _first_months(self, pk: str, customers: Iterable[str]) -> dict[str, str]:
        """customer -> first month, for those already known (one consistent batch read)."""
        C = self.m.Customer
        keys = [(pk, f"CUST#{c}") for c in sorted(set(customers))]
        if not keys:
            return {}
        return {
            it.sk[len("CUST#") :]: it.first
            for it in C.batch_get(keys, consistent_read=True, attributes_to_get=["pk", "sk", "first"])
        }

    def _set_first_months(self, pk: str, month: str, firsts: Sequence[str], seen: Mapping[str, str]) -> None:
        """New customers in batch writes (a partner's chunks are written one at a time, in its
        FIFO message group); an earlier month for a known one by a conditional update."""
        C = self.m.Customer
        with C.batch_write() as batch:
            for c in firsts:
                if c not in seen:
                    batch.save(C(pk, f"CUST#{c}", first=month))
        for c in firsts:
            if c in seen:
                try:
                    C(pk, f"CUST#{c}").update(actions=[C.first.set(month)], condition=C.first > month)
                except UpdateError as exc:
                    if exc.cause_response_code != "ConditionalCheckFailedException":
                        raise

    def month_totals(self, partner_id: str) -> list[MonthTotals]:
        M = self.m.Month
        return [
            self._month(partner_id, it) for it in M.query(f"PARTNER#{partner_id}", M.sk.startswith("MONTH#"))
        ]

    @staticmethod
    def _month(partner_id: str, it: MonthItem) -> MonthTotals:
        return MonthTotals(
            partner_id,
            it.sk[len("MONTH#") :],
            it.net or Decimal(0),
            it.comm or Decimal(0),
            int(it.lines or 0),
            int(it.returns or 0),
            {d: getattr(it, f"c{d:02d}") for d in range(1, 32) if getattr(it, f"c{d:02d}") is not None},
            int(it.newc or 0),
            int(it.units or 0),
            *read_figures(getattr(it, "figures", {})),
        )

    # -- product master -----------------------------------------------------------------------
    def put_products(self, products: Mapping[str, str]) -> None:
        with self.m.Doc.batch_write() as batch:
            for sku, category in products.items():
                batch.save(self.m.Doc(f"PRODUCT#{sku}", "MASTER", data=category))

    def product_categories(self, skus: Sequence[str]) -> dict[str, str]:
        keys = [(f"PRODUCT#{s}", "MASTER") for s in sorted(set(skus))]
        if not keys:
            return {}
        return {it.pk[len("PRODUCT#") :]: str(it.data) for it in self.m.Doc.batch_get(keys)}

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
            yield self._record(partner_id, it)

    @staticmethod
    def _record(partner_id: str, it: SaleItem) -> SaleRecord:
        return SaleRecord(
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
            anchor=it.anchor or "",
            matched=it.match or "",
        )

    # -- final rates (the month's close) ----------------------------------------------------
    def finalize_sales(self, changes: Sequence[Rerate]) -> int:
        """Each line's final rate and commission, unless it changed since it was read (another
        version or commission), with its month total on its holding day moved by the difference.
        Up to `FINAL_BATCH` lines and their month totals per transaction, so each difference is
        applied exactly once; a batch refused because one of its lines changed is retried line by
        line (the changed one is skipped). Returns how many lines were made final."""
        done = 0
        for i in range(0, len(changes), FINAL_BATCH):
            part = changes[i : i + FINAL_BATCH]
            if self._finalize(part):
                done += len(part)
            elif len(part) > 1:
                done += sum(self._finalize([c]) for c in part)
        return done

    def _finalize(self, changes: Sequence[Rerate]) -> bool:
        S, M = self.m.Sale, self.m.Month
        moves: dict[tuple[str, str], dict[int, Decimal]] = {}
        for old, new, day in changes:
            by_day = moves.setdefault((old.partner_id, day[:7]), {})
            by_day[int(day[8:10])] = by_day.get(int(day[8:10]), Decimal(0)) + new.commission - old.commission
        try:
            with TransactWrite(connection=self._conn) as tx:
                for old, new, _ in changes:
                    tx.update(
                        S(f"PARTNER#{old.partner_id}", f"SALE#{old.sale_id}"),
                        actions=[
                            S.tier.set(new.tier),
                            S.rate.set(new.rate),
                            S.rules.set(new.rule_version),
                            S.comm.set(new.commission),
                            S.status.set(new.status),
                        ],
                        condition=(S.ver == old.version) & (S.comm == old.commission),
                    )
                for (pid, month), by_day in sorted(moves.items()):
                    actions: list[Action] = [M.comm.add(sum(by_day.values(), Decimal(0)))]
                    actions += [getattr(M, f"c{d:02d}").add(v) for d, v in sorted(by_day.items())]
                    tx.update(M(f"PARTNER#{pid}", f"MONTH#{month}"), actions=actions)
            return True
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise

    # -- returns' lookups (issue 9, point 14) ----------------------------------------------
    def _lines(self, partner_id: str, sale_ids: Sequence[str]) -> dict[str, SaleRecord]:
        """The current lines of `sale_ids` (links are checked against them: a line corrected
        since its link was written leaves a stale link behind, which is skipped)."""
        if not sale_ids:
            return {}
        return {s.sale_id: s for s in self._get_lines(partner_id, sale_ids)}

    def _get_lines(self, partner_id: str, sale_ids: Sequence[str]) -> Iterator[SaleRecord]:
        keys = [(f"PARTNER#{partner_id}", f"SALE#{s}") for s in dict.fromkeys(sale_ids)]
        for it in self.m.Sale.batch_get(keys, consistent_read=True):
            yield self._record(partner_id, it)

    def earlier_sales(self, partner_id: str, sku: str, until: str, limit: int) -> list[SaleRef]:
        """Reads the SKU's links latest first, a page of `limit` at a time, until `limit` current
        sales are found (a stale link, left by a corrected line, is skipped)."""
        L = self.m.Link
        prefix = f"SKU#{link_part(sku)}#"
        links = L.query(
            f"PARTNER#{partner_id}",
            L.sk.between(prefix, f"{prefix}{until}~"),
            scan_index_forward=False,
            page_size=limit,
            consistent_read=True,
        )
        out: list[SaleRef] = []
        page: list[LinkItem] = []
        for it in links:
            page.append(it)
            if len(page) == limit:
                out += self._current(partner_id, sku, prefix, page)
                page = []
                if len(out) >= limit:
                    break
        out += self._current(partner_id, sku, prefix, page)
        return out[:limit]

    def _current(self, partner_id: str, sku: str, prefix: str, links: Sequence[LinkItem]) -> list[SaleRef]:
        lines = self._lines(partner_id, [it.ref for it in links])
        out: list[SaleRef] = []
        for it in links:
            r = lines.get(it.ref)
            if r is None or r.quantity <= 0 or r.sku != sku or not it.sk.startswith(f"{prefix}{r.sold_at}#"):
                continue
            out.append(sale_ref(r))
        return out

    def returned_units(self, partner_id: str, sale_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        L = self.m.Link
        out: dict[str, dict[str, int]] = {}
        for sid in dict.fromkeys(sale_ids):
            refs = [
                it.ref
                for it in L.query(
                    f"PARTNER#{partner_id}", L.sk.startswith(f"RET#{link_part(sid)}#"), consistent_read=True
                )
            ]
            lines = self._lines(partner_id, refs)
            got = {ref: -lines[ref].quantity for ref in refs if ref in lines and reverses(lines[ref], sid)}
            if got:
                out[sid] = got
        return out
