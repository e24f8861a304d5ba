"""The what-if simulation use case: replay the stored sales of a window of closed months through
candidate rules, batch by batch, each batch in a world of its own (the real writer and close on
in-memory adapters), and compare with what the live closes committed.

Memory is bounded by a batch (whole sponsor trees of about `batch_size` partners) and its
partners' lines: a batch's world is dropped before the next one is built. Nothing is written to
the live program: `HistorySource` only reads."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from loyalty.close.review import CloseLine
from loyalty.close.runs import FINISHED
from loyalty.kernel.periods import check_period, next_period
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleVersion
from loyalty.simulation.history import PartnerRead, batch_reads, lookback, sim_rules, sponsor_batches
from loyalty.simulation.ports import HistorySource, World, WorldFactory
from loyalty.simulation.replay import close_period, write_period
from loyalty.simulation.report import Figures, PartnerResult, period_differences
from loyalty.simulation.start import BatchStart

BATCH = 200


class SimulationError(Exception):
    """The window or the candidate cannot be simulated (the message says why)."""


def periods(start: str, end: str) -> list[str]:
    out, p = [], start
    while p <= end:
        out.append(p)
        p = next_period(p)
    return out


@dataclass(frozen=True)
class Progress:
    batches_done: int
    batches: int
    partners_done: int
    partners: int


@dataclass(frozen=True)
class Targets:
    """A candidate targets file, loaded into every world as the config loader loads it."""

    name: str
    body: bytes


class Simulator:
    def __init__(self, history: HistorySource, worlds: WorldFactory, batch_size: int = BATCH) -> None:
        self.history = history
        self.worlds = worlds
        self.batch_size = batch_size

    def check(self, start: str, end: str) -> list[str]:
        """The window's periods; every one must have been closed (committed) on the live program."""
        check_period(start)
        check_period(end)
        if end < start:
            raise SimulationError(f"--to {end} is before --from {start}")
        window = periods(start, end)
        committed = {m.period for m in self.history.list_closes() if m.status == FINISHED}
        missing = [p for p in window if p not in committed]
        if missing:
            raise SimulationError(
                f"{', '.join(missing)} not closed (finished) yet: a simulation compares with finished closes"
            )
        return window

    def batches(self) -> list[list[Partner]]:
        """The partners in batches of whole sponsor trees (each batch is one isolated world)."""
        return sponsor_batches(self.history.list_partners(), self.batch_size)

    def run(
        self,
        candidate: RuleVersion,
        start: str,
        end: str,
        targets: Targets | None = None,
        progress: Callable[[Progress], None] | None = None,
        batches: Sequence[Sequence[Partner]] | None = None,
    ) -> Iterator[PartnerResult]:
        """Each partner's result, batch by batch (partners sorted by id within a batch); `batches`:
        only these (a job's step runs one), else every partner."""
        window = self.check(start, end)
        live = self.history.rule_versions()
        rules = sim_rules(live, candidate, start)
        tier_months = lookback([*live, candidate])
        fx = list(self.history.fx_rates())
        book = self.history.target_sets()  # the live targets: each world awards them as the live close did
        closes = [m for m in self.history.list_closes() if m.period < start]
        frozen = {p for p in self.history.frozen_periods() if p < start}
        todo = self.batches() if batches is None else batches
        total = sum(len(b) for b in todo)
        done = 0
        for i, batch in enumerate(todo):
            reads = list(batch_reads(self.history, batch, start, end, tier_months))
            seed = BatchStart(start, rules, fx, closes, frozen, [r.start for r in reads], book)
            world = self._world(seed, targets)
            for period in window:
                lines = [ln for r in reads for ln in r.replay.get(period, [])]
                write_period(world, period, lines)
                close_period(world, period)
            yield from self._compare(world, batch, reads, window)
            del world, reads  # a world holds reference cycles: collected now, one world at a time
            gc.collect()
            done += len(batch)
            if progress is not None:
                progress(Progress(i + 1, len(todo), done, total))

    def _world(self, seed: BatchStart, targets: Targets | None) -> World:
        world = self.worlds()
        world.seed(seed)
        if targets is not None:
            error = world.load_config(f"targets/{targets.name}", targets.body)
            if error:
                raise SimulationError(f"targets file {targets.name}: {error}")
        return world

    def _compare(
        self, world: World, batch: Sequence[Partner], reads: Sequence[PartnerRead], window: Sequence[str]
    ) -> Iterator[PartnerResult]:
        ids = [p.partner_id for p in batch]
        actual: dict[str, dict[str, CloseLine]] = {pid: {} for pid in ids}
        simulated: dict[str, dict[str, CloseLine]] = {pid: {} for pid in ids}
        for period in window:
            for pid, line in self.history.close_lines(period, ids).items():
                actual[pid][period] = line
            for pid, line in world.store.close_lines(period, ids).items():
                simulated[pid][period] = line
        for p, r in zip(batch, reads, strict=True):
            pid = p.partner_id
            before = r.start.history[0] if r.start.history else None
            tier = (
                (before.tier_after if before else "") or r.start.tiers.get(window[0], "") or p.starting_tier
            )
            months = [m for m in world.store.month_totals(pid) if window[0] <= m.month <= window[-1]]
            yield PartnerResult(
                pid,
                p.segment,
                p.cohort,
                Figures.of(actual[pid], r.actual_months, before, tier),
                Figures.of(simulated[pid], months, before, tier),
                period_differences(actual[pid], simulated[pid], window),
                r.approximate,
            )
