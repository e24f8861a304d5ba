"""Points items on the single table (docs/points.md, key table in `models.py`).

A partner's points live in the partition `POINTS#<pid>`: the head (`HEAD`, counters and `rev`),
lots (`LOT#<lot_id>`, with `remaining` and `state` as attributes the conditions read), moves
(`MOVE#<period>#<move_id>`) with one id marker each (`MOVEID#<move_id>`, so `has_move` is one
read and a move is written once), courses awarded (`COURSE#<person>#<course>`), redemptions
(`REDEEM#<request_id>`, gsi1 `REDEMPTIONS#<period>`), limit counters (`LIMIT#<reward>#<period>`)
and ledger postings (`LEDGER#<period>#<entry_id>`, gsi1 `PLEDGER#<period>`). Rewards are
`CATALOG` / `REWARD#<id>` with their `taken` count. `commit_points` is one TransactWriteItems."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from loyalty.adapters.dynamo.models import Gsi1, Item, Tables, bind
from loyalty.points.model import Lot, Move, PointsHead, PointsTx, Posting, Redemption, Reward, StockTake

CATALOG = "CATALOG"


class PointItem(Item):
    """Every points item but postings (those are `LedgerItem`s, like the close's entries)."""

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_list = Gsi1()
    data = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    remaining = NumberAttribute(null=True)
    rev = NumberAttribute(null=True)
    n = NumberAttribute(null=True)
    taken = NumberAttribute(null=True)


def enc(part: str) -> str:
    """A key part with `%` and `#` percent-encoded (so `#` separates parts)."""
    return part.replace("%", "%25").replace("#", "%23")


def dec(part: str) -> str:
    return part.replace("%23", "#").replace("%25", "%")


def pk_of(partner_id: str) -> str:
    return f"POINTS#{partner_id}"


def _and(a: Condition | None, b: Condition) -> Condition:
    return b if a is None else a & b


def _dump(d: dict[str, Any]) -> str:
    return json.dumps(d, separators=(",", ":"), sort_keys=True)


class PointsTables(Tables):
    _points_model: type[PointItem] | None = None

    @property
    def pt(self) -> type[PointItem]:
        """The points item class bound to this store's table."""
        if self._points_model is None:
            meta: Any = self.m.Doc.Meta
            self._points_model = bind(PointItem, meta.table_name, meta.region, getattr(meta, "host", None))
        return self._points_model

    # -- reads ------------------------------------------------------------------------------
    def points_head(self, partner_id: str) -> PointsHead | None:
        try:
            it = self.pt.get(pk_of(partner_id), "HEAD", consistent_read=True)
        except self.pt.DoesNotExist:
            return None
        return PointsHead.from_json(json.loads(it.data or "{}"))

    def points_heads(self, partner_ids: Sequence[str]) -> dict[str, PointsHead]:
        if not partner_ids:
            return {}
        keys = [(pk_of(p), "HEAD") for p in dict.fromkeys(partner_ids)]
        heads = (
            PointsHead.from_json(json.loads(it.data or "{}"))
            for it in self.pt.batch_get(keys, consistent_read=True)
        )
        return {h.partner_id: h for h in heads}

    def _query(self, partner_id: str, prefix: str) -> Iterable[PointItem]:
        P = self.pt
        return P.query(pk_of(partner_id), P.sk.startswith(prefix), consistent_read=True)

    def lots(self, partner_id: str) -> list[Lot]:
        got = [
            Lot.from_json(
                {**json.loads(it.data or "{}"), "remaining": int(it.remaining or 0), "state": it.state}
            )
            for it in self._query(partner_id, "LOT#")
        ]
        return sorted(got, key=lambda lot: (lot.expires_on, lot.lot_id))

    def moves(self, partner_id: str, period: str | None = None) -> list[Move]:
        prefix = f"MOVE#{period}#" if period is not None else "MOVE#"
        got = [Move.from_json(json.loads(it.data or "{}")) for it in self._query(partner_id, prefix)]
        return sorted(got, key=lambda m: (m.period, m.at, m.move_id))

    def has_move(self, partner_id: str, move_id: str) -> bool:
        try:
            self.pt.get(
                pk_of(partner_id), f"MOVEID#{move_id}", consistent_read=True, attributes_to_get=["pk"]
            )
        except self.pt.DoesNotExist:
            return False
        return True

    def awarded_courses(self, partner_id: str) -> set[tuple[str, str]]:
        out = set()
        for it in self._query(partner_id, "COURSE#"):
            person, course = it.sk[len("COURSE#") :].split("#", 1)
            out.add((dec(person), dec(course)))
        return out

    def points_postings(self, partner_id: str | None = None, period: str | None = None) -> list[Posting]:
        L = self.m.Ledger
        if partner_id is not None:
            prefix = f"LEDGER#{period}#" if period is not None else "LEDGER#"
            items: Iterable[Any] = L.query(pk_of(partner_id), L.sk.startswith(prefix), consistent_read=True)
        elif period is not None:
            items = L.by_period.query(f"PLEDGER#{period}")
        else:
            raise ValueError("points_postings needs a partner or a period")
        return [
            Posting(it.sk.rsplit("#", 1)[1], it.period, it.debit, it.credit, it.amount, it.memo, it.reverses)
            for it in items
        ]

    # -- redemption book --------------------------------------------------------------------
    def redemption(self, partner_id: str, request_id: str) -> Redemption | None:
        try:
            it = self.pt.get(pk_of(partner_id), f"REDEEM#{request_id}", consistent_read=True)
        except self.pt.DoesNotExist:
            return None
        return Redemption.from_json(json.loads(it.data or "{}"))

    def redemptions(self, period: str) -> list[Redemption]:
        got = [
            Redemption.from_json(json.loads(it.data or "{}"))
            for it in self.pt.by_list.query(f"REDEMPTIONS#{period}")
        ]
        return sorted(got, key=lambda r: (r.partner_id, r.request_id))

    def partner_redemptions(self, partner_id: str) -> list[Redemption]:
        got = [Redemption.from_json(json.loads(it.data or "{}")) for it in self._query(partner_id, "REDEEM#")]
        return sorted(got, key=lambda r: r.request_id)

    def limit_used(self, partner_id: str, reward_id: str, period: str) -> int:
        try:
            it = self.pt.get(pk_of(partner_id), f"LIMIT#{enc(reward_id)}#{period}", consistent_read=True)
        except self.pt.DoesNotExist:
            return 0
        return int(it.n or 0)

    # -- catalog ----------------------------------------------------------------------------
    def put_reward(self, reward: Reward) -> bool:
        P = self.pt
        cur = self.reward(reward.reward_id)
        definition = {**reward.to_json(), "taken": 0}
        if cur is not None and {**cur.to_json(), "taken": 0} == definition:
            return False
        data = _dump({k: v for k, v in definition.items() if k != "taken"})
        P(CATALOG, f"REWARD#{reward.reward_id}").update(actions=[P.data.set(data), P.taken.set(P.taken | 0)])
        return True

    def _reward(self, it: PointItem) -> Reward:
        return Reward.from_json({**json.loads(it.data or "{}"), "taken": int(it.taken or 0)})

    def rewards(self) -> list[Reward]:
        P = self.pt
        got = [self._reward(it) for it in P.query(CATALOG, P.sk.startswith("REWARD#"), consistent_read=True)]
        return sorted(got, key=lambda r: r.reward_id)

    def reward(self, reward_id: str) -> Reward | None:
        try:
            return self._reward(self.pt.get(CATALOG, f"REWARD#{reward_id}", consistent_read=True))
        except self.pt.DoesNotExist:
            return None

    # -- the one write ----------------------------------------------------------------------
    def commit_points(self, tx: PointsTx) -> bool:
        if tx.head.rev != tx.expect_rev + 1:
            return False
        digest = hashlib.sha256(repr(tx).encode()).hexdigest()
        first = tx.moves[0].move_id if tx.moves else ""
        token = hashlib.sha256(f"{tx.partner_id}|{tx.expect_rev}|{first}|{digest}".encode()).hexdigest()[:36]
        try:
            with TransactWrite(connection=self._conn, client_request_token=token) as w:
                self._write_points(w, tx)
            return True
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise

    def _write_points(self, w: TransactWrite, tx: PointsTx) -> None:
        P, L = self.pt, self.m.Ledger
        pk = pk_of(tx.partner_id)
        new = P.pk.does_not_exist()
        head_cond = new if tx.expect_rev == 0 else P.rev == tx.expect_rev
        w.save(P(pk, "HEAD", data=_dump(tx.head.to_json()), rev=tx.head.rev), condition=head_cond)
        for lot in tx.new_lots:
            item = P(
                pk, f"LOT#{lot.lot_id}", data=_dump(lot.to_json()), remaining=lot.remaining, state=lot.state
            )
            w.save(item, condition=new)
        for ch in tx.lot_changes:
            w.update(
                P(pk, f"LOT#{ch.lot_id}"),
                actions=[P.remaining.set(ch.remaining), P.state.set(ch.state)],
                condition=(P.remaining == ch.expect_remaining) & (P.state == ch.expect_state),
            )
        for m in tx.moves:
            w.save(P(pk, f"MOVE#{m.period}#{m.move_id}", data=_dump(m.to_json())), condition=new)
            w.save(P(pk, f"MOVEID#{m.move_id}", state=m.period), condition=new)
        for person, course in tx.courses:
            w.save(P(pk, f"COURSE#{enc(person)}#{enc(course)}"), condition=new)
        for p in tx.postings:
            w.save(self.ledger_item(pk, tx.partner_id, "PLEDGER#", p), condition=L.pk.does_not_exist())
        if tx.redemption is not None:
            r = tx.redemption
            cond = new if tx.redemption_expect_state is None else P.state == tx.redemption_expect_state
            item = P(
                pk,
                f"REDEEM#{r.request_id}",
                data=_dump(r.to_json()),
                state=r.state,
                gsi1pk=f"REDEMPTIONS#{r.period}",
                gsi1sk=f"{tx.partner_id}#{r.request_id}",
            )
            w.save(item, condition=cond)
        if tx.stock is not None:
            self._take(w, pk, tx.stock)

    def _take(self, w: TransactWrite, pk: str, s: StockTake) -> None:
        """The reward's `taken` and the partner's limit counter move by `units`, each kept within
        0..stock / 0..limit by the conditions (DynamoDB cannot add in a condition: the bounds are
        shifted by `units` instead)."""
        P = self.pt
        cond: Condition = P.pk.exists()
        if s.units < 0:
            cond &= P.taken >= -s.units
        if s.stock is not None:
            cond &= P.taken <= s.stock - s.units
        w.update(P(CATALOG, f"REWARD#{s.reward_id}"), actions=[P.taken.add(s.units)], condition=cond)
        bound: Condition | None = None
        if s.units < 0:
            bound = P.n >= -s.units
        if s.limit is not None:
            bound = _and(bound, P.n <= s.limit - s.units)
        fresh_ok = s.units >= 0 and (s.limit is None or s.units <= s.limit)
        limit_cond: Condition | None
        if bound is None:
            limit_cond = None
        elif fresh_ok:
            limit_cond = bound | P.n.does_not_exist()
        else:
            limit_cond = bound & P.n.exists()
        w.update(
            P(pk, f"LIMIT#{enc(s.reward_id)}#{s.period}"),
            actions=[P.n.add(s.units)],
            condition=limit_cond,
        )
