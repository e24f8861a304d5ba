"""The services of one container, built over whatever adapters it is given: `loyalty.wiring`
gives it AWS adapters (a Lambda container), `loyalty.adapters.memory.container` in-memory ones
(service tests, benchmarks, isolated runs). One place says how each service is put together."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from loyalty.analytics.ports import FactsFiles
from loyalty.close.approvals import ApprovalService
from loyalty.close.bankfiles import Debtor
from loyalty.close.bankrun import BankFileService
from loyalty.close.batches import RunFiles
from loyalty.close.ports import CloseBlobs, CloseStore, Workflow
from loyalty.close.steps import CloseService
from loyalty.console.ports import Presigner
from loyalty.console.service import FinanceConsole
from loyalty.earning.balances import BalanceService
from loyalty.earning.ports import WriterStore
from loyalty.earning.writer import AccrualService, ConfigCache
from loyalty.incentives.engine import Incentives
from loyalty.incentives.overrides import OverrideBonuses, downlines, override_depth
from loyalty.incentives.ports import RecruitNets
from loyalty.incentives.targets import TargetBonuses
from loyalty.ingest.dead_letters import DlqService
from loyalty.ingest.finalizer import Finalizer
from loyalty.ingest.ports import ChunkQueue, SplitterStore
from loyalty.ingest.splitter import IngestService
from loyalty.kernel.ports import Notifier
from loyalty.points.catalog import CatalogLoader
from loyalty.points.ports import PointsStore
from loyalty.portal.ports import PortalLinks, PortalRecords
from loyalty.portal.service import PortalService
from loyalty.program.config import ConfigService, FileLoader
from loyalty.program.ports import ProgramStore
from loyalty.program.registry import Partner
from loyalty.settings import Settings
from loyalty.simulation.jobs import JobStarter, SimulationJobs
from loyalty.simulation.ports import WorldFactory
from loyalty.training.loader import TrainingLoader
from loyalty.training.ports import TrainingStore

if TYPE_CHECKING:  # DuckDB: only the analytics function loads these
    from loyalty.analytics.publish import AnalyticsPublisher, Published


class Store(
    WriterStore, SplitterStore, ProgramStore, CloseStore, RecruitNets, TrainingStore, PointsStore, Protocol
):
    """Every context's ports on one store (`DynamoStore`, `MemoryStore`)."""


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class Services(ABC):
    """Builds each service from the container's ports and its `Settings`; subclasses provide the
    chunk queue and the workflow engine (built lazily on AWS: not every function has them)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        blobs: CloseBlobs,
        notifier: Notifier,
        ops_notifier: Notifier,
        finance_notifier: Notifier,
        today: Callable[[], dt.date] = utc_today,
    ) -> None:
        self.settings = settings
        self.store = store
        self.blobs = blobs
        self.notifier = notifier
        self.ops_notifier = ops_notifier
        self.finance_notifier = finance_notifier
        self.today = today
        self._config: ConfigCache | None = None

    @property
    @abstractmethod
    def queue(self) -> ChunkQueue:
        """Where the splitter sends chunks."""

    @abstractmethod
    def workflow(self) -> Workflow:
        """The engine that runs the close and takes finance's callbacks."""

    def ingest(self) -> IngestService:
        s = self.settings
        return IngestService(
            self.store,
            self.blobs,
            self.queue,
            self.notifier,
            max_upload_bytes=s.max_upload_bytes,
            chunk_rows=s.chunk_rows,
            chunk_groups=s.chunk_groups,
            today=self.today,
        )

    def config_cache(self) -> ConfigCache:
        """Rules, FX and partners for a warm container (one per container, refreshed by age)."""
        if self._config is None:
            s = self.settings
            self._config = ConfigCache(self.store, s.cache_seconds, s.program_currency)
        return self._config

    def finalizer(self) -> Finalizer:
        return Finalizer(self.store, self.blobs, self.notifier)

    def accruals(self) -> AccrualService:
        return AccrualService(self.store, self.blobs, self.config_cache(), self.finalizer())

    def config(self) -> ConfigService:
        flow = self.simulation_workflow()
        loaders: dict[str, FileLoader] = {
            "training/": TrainingLoader(self.store, self.store, self.blobs, self.today),
            "catalog/": CatalogLoader(self.store, self.blobs, self._tier_names),
        }
        return ConfigService(
            self.store, self.blobs, self.notifier, JobStarter(flow) if flow else None, loaders=loaders
        )

    def _tier_names(self) -> list[str]:
        """Every tier name of every rule version (a catalog's minimum tier must be one)."""
        return sorted({t.name for v in self.store.rule_versions() for t in v.tiers})

    def balances(self) -> BalanceService:
        return BalanceService(self.store)

    def dlq(self) -> DlqService:
        """Poison messages: operators hear of each, partners get the upload report."""
        return DlqService(self.store, self.blobs, self.ops_notifier, self.notifier)

    def incentives(self) -> Incentives:
        """What the close accrues beyond commission: target bonuses (the stored target sets) and
        multi-level overrides (the recruits' month nets)."""
        return Incentives([TargetBonuses(self.store.target_sets()), OverrideBonuses(self.store)])

    def downline(self, partners: Sequence[Partner]) -> Mapping[str, Sequence[tuple[str, int]]]:
        """Each sponsor's recruits by level, as deep as any rules version pays overrides (the
        whole registry: a recruit may sit in another batch than its sponsor)."""
        depth = override_depth(self.store.rule_versions())
        return downlines({p.partner_id: p.sponsor_id for p in partners}, depth)

    def close(self) -> CloseService:
        s = self.settings
        return CloseService(
            self.store,
            self.blobs,
            self.notifier,
            self.finance_notifier,
            batch_size=s.close_batch_size,
            incentives=self.incentives(),
            downline=self.downline,
        )

    def bank_files(self) -> BankFileService:
        """The BankFiles step: its Lambda is the only one that decrypts bank details."""
        s = self.settings
        return BankFileService(self.store, self.blobs, Debtor(s.debtor_name, s.debtor_iban, s.debtor_bic))

    def approvals(self) -> ApprovalService:
        s = self.settings
        return ApprovalService(
            self.store,
            self.blobs,
            self.finance_notifier,
            self.workflow(),
            reminder=dt.timedelta(hours=s.approval_reminder_hours),
            timeout=dt.timedelta(hours=s.approval_timeout_hours),
            dual_above_eur=s.dual_approval_eur,
        )

    def simulation_worlds(self) -> WorldFactory:
        """The fresh world each simulated batch runs in (`loyalty.wiring` gives
        `MemorySimWorld`); a container that runs no simulation does not override it."""
        raise NotImplementedError(f"{type(self).__name__} runs no simulations")

    def simulation_workflow(self) -> Workflow | None:
        """The workflow that runs simulation jobs (None: this container starts none)."""
        return None

    def simulation_jobs(self) -> SimulationJobs:
        """What-if jobs: the live store is the (read-only) history, every batch runs in its own
        world, the job's files go to `simulations/<job>/` in the bucket."""
        return SimulationJobs(self.store, self.simulation_worlds(), self.blobs)

    # -- partner portal (issue 12) ----------------------------------------------------------------
    def now(self) -> dt.datetime:
        """The current instant on this container's day (a test container's day is fixed)."""
        real = dt.datetime.now(dt.UTC)
        return real if self.today is utc_today else dt.datetime.combine(self.today(), real.timetz())

    def portal_records(self) -> PortalRecords:
        """The portal's own items (profiles, signed uploads) and its paged reads."""
        raise NotImplementedError(f"{type(self).__name__} serves no portal")

    def portal_links(self) -> PortalLinks:
        """Presigned links to the bucket."""
        raise NotImplementedError(f"{type(self).__name__} serves no portal")

    def portal(self) -> PortalService:
        return PortalService(
            self.store,
            self.blobs,
            self.portal_records(),
            self.portal_links(),
            self.now,
            self.settings.max_upload_bytes,
            self.notifier,
        )

    # -- finance console (issue 12) ------------------------------------------------------------
    def presigner(self) -> Presigner:
        """Presigned downloads (`loyalty.wiring` gives S3's; the memory container its own)."""
        raise NotImplementedError(f"{type(self).__name__} presigns no downloads")

    def console(self) -> FinanceConsole:
        """What finance and operations read of the closes (decisions: `approvals`)."""
        return FinanceConsole(self.store, self.blobs, self.presigner(), self.settings.dual_approval_eur)

    # -- program analytics (issue 13) --------------------------------------------------------
    def facts_files(self) -> FactsFiles:
        """The bucket's analytics/ objects (listed and deleted, unlike the other blobs)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no analytics")

    def program_notifier(self) -> Notifier:
        """The program managers' topic."""
        raise NotImplementedError(f"{type(self).__name__} has no program managers' topic")

    def analytics(self) -> AnalyticsPublisher:
        """The close's Analytics step. DuckDB is imported here, on use: only the analytics
        function's layers ship it."""
        from loyalty.analytics.html import render_report_html
        from loyalty.analytics.publish import AnalyticsPublisher
        from loyalty.analytics.report import build_report, key_figures

        return AnalyticsPublisher(
            self.facts_files(),
            self.program_notifier(),
            lambda engine, period, versions, at: build_report(engine, period, versions, at).to_json(),
            render_report_html,
            key_figures,
            workdir=None,
            memory_limit=self.settings.analytics_memory_limit,
        )

    def publish_analytics(self, period: str, run: str, manifest: str, now: dt.datetime) -> Published:
        """Facts, report and announcement of a finished close (the batches' fact rows were
        written by its Statements step)."""
        files = RunFiles(self.blobs)
        batches = (files.facts(batch) for batch in files.batches(manifest))
        return self.analytics().publish(period, run, batches, self.store.rule_versions(), now)
