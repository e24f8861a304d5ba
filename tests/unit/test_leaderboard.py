"""Leaderboards: order, competition ranks, exclusion, the partner of the month, around()."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.recognition.leaderboard import (
    ON_HOLD,
    OPT_OUT,
    Leaderboard,
    Place,
    Standing,
    build,
    exclusion,
    partner_of_the_month,
)

P = "2026-03"


def s(
    pid: str, value: str, net: str | None = None, lines: int = 1, seg: str = "smb", why: str = ""
) -> Standing:
    return Standing(
        pid, f"Name {pid}", seg, Decimal(value), Decimal(net if net is not None else value), lines, why
    )


def test_order_value_then_net_then_lines_then_id() -> None:
    board = build(
        P,
        [
            s("P4", "100", "50", 3),
            s("P3", "100", "50", 3),
            s("P2", "100", "60", 1),
            s("P1", "100", "50", 9),
            s("P5", "200"),
        ],
        "units",
    )["smb"]
    assert [p.partner_id for p in board.places] == ["P5", "P2", "P1", "P3", "P4"]
    assert [p.rank for p in board.places] == [1, 2, 2, 2, 2]


def test_competition_ranking_skips_after_a_tie() -> None:
    board = build(P, [s("A", "10"), s("B", "7"), s("C", "7"), s("D", "3")], "net_sales")["smb"]
    assert [(p.partner_id, p.rank) for p in board.places] == [("A", 1), ("B", 2), ("C", 2), ("D", 4)]


def test_excluded_are_counted_not_ranked() -> None:
    boards = build(
        P,
        [
            s("A", "10", why=OPT_OUT),
            s("B", "5"),
            s("C", "1", why=ON_HOLD),
            s("X", "1", seg="ent", why=OPT_OUT),
        ],
        "net_sales",
    )
    assert [p.partner_id for p in boards["smb"].places] == ["B"]
    assert boards["smb"].excluded == 2
    assert boards["ent"].places == [] and boards["ent"].excluded == 1
    assert boards["smb"].rank_of("A") is None
    assert partner_of_the_month(boards["smb"]) == Place(1, "B", "Name B", Decimal("5"))


def test_exclusion_reason() -> None:
    assert exclusion(True, True) == OPT_OUT
    assert exclusion(False, True) == ON_HOLD
    assert exclusion(False, False) == ""


def test_no_partner_of_the_month_without_a_positive_value() -> None:
    board = build(P, [s("A", "0"), s("B", "-5")], "net_sales")["smb"]
    assert [p.rank for p in board.places] == [1, 2]  # ranked all the same
    assert partner_of_the_month(board) is None
    assert partner_of_the_month(Leaderboard(P, "smb", "net_sales", [], 0)) is None


def test_tie_for_first_is_decided_by_the_order() -> None:
    board = build(P, [s("B", "9", "100"), s("A", "9", "100"), s("C", "9", "120")], "units")["smb"]
    potm = partner_of_the_month(board)
    assert potm is not None and potm.partner_id == "C" and potm.rank == 1


def test_a_partner_stands_once_and_metric_and_period_are_checked() -> None:
    with pytest.raises(ValueError, match="more than once"):
        build(P, [s("A", "1"), s("A", "2", seg="ent")], "net_sales")
    with pytest.raises(ValueError, match="unknown leaderboard metric"):
        build(P, [s("A", "1")], "profit")
    with pytest.raises(ValueError, match="YYYY-MM"):
        build("2026-13", [s("A", "1")], "net_sales")


def test_top_around_and_json_round_trip() -> None:
    board = build(P, [s(f"P{i}", str(10 - i)) for i in range(5)], "net_sales")["smb"]
    assert [p.partner_id for p in board.top(2)] == ["P0", "P1"]
    assert board.top(0) == [] and len(board.top(50)) == 5
    above, me, below = board.around("P2")
    assert (above and above.partner_id, me and me.rank, below and below.partner_id) == ("P1", 3, "P3")
    assert board.around("P0")[0] is None and board.around("P4")[2] is None
    assert board.around("nobody") == (None, None, None)
    back = Leaderboard.from_json(board.to_json())
    assert back == board and back.rank_of("P3") == board.rank_of("P3")


# -- properties --------------------------------------------------------------------------------

values = st.decimals(min_value=-50, max_value=50, places=0, allow_nan=False, allow_infinity=False)
standing = st.builds(
    Standing,
    partner_id=st.text("ABCDEFGH", min_size=1, max_size=3),
    name=st.text(min_size=0, max_size=5),
    segment=st.sampled_from(["smb", "ent", "pub"]),
    value=values,
    net_eur=values,
    lines=st.integers(0, 3),
    excluded_reason=st.sampled_from(["", "", "", OPT_OUT, ON_HOLD]),
)
unique_standings = st.lists(standing, max_size=40, unique_by=lambda x: x.partner_id)


@settings(max_examples=200, deadline=None)
@given(unique_standings, st.randoms(use_true_random=False))
def test_ranking_properties(standings: list[Standing], rnd: object) -> None:
    boards = build(P, standings, "net_sales")
    shuffled = list(standings)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert build(P, shuffled, "net_sales") == boards  # input order never matters
    by_id = {x.partner_id: x for x in standings}
    for seg, board in boards.items():
        mine = [x for x in standings if x.segment == seg]
        assert board.excluded == sum(1 for x in mine if x.excluded_reason)
        assert {p.partner_id for p in board.places} == {x.partner_id for x in mine if not x.excluded_reason}
        keys = [by_id[p.partner_id].order_key() for p in board.places]
        assert keys == sorted(keys)
        for i, p in enumerate(board.places):
            # competition rank: 1 + how many rank strictly better
            assert p.rank == 1 + sum(1 for q in board.places if q.value > p.value)
            assert p.rank <= i + 1
            above, me, below = board.around(p.partner_id)
            assert me == p and board.rank_of(p.partner_id) == p
            assert above == (board.places[i - 1] if i else None)
            assert below == (board.places[i + 1] if i + 1 < len(board.places) else None)
        potm = partner_of_the_month(board)
        if any(p.value > 0 for p in board.places):
            assert potm == board.places[0] and potm.value == max(p.value for p in board.places)
        else:
            assert potm is None
        assert Leaderboard.from_json(board.to_json()) == board
    assert set(boards) == {x.segment for x in standings}
