"""Builds the services of one container from its Settings (used by the Lambda handlers)."""

from __future__ import annotations

import datetime as dt

from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.s3sqs import KmsCipher, S3Blobs, SnsNotifier, SqsFifoQueue, StepFunctions
from loyalty.close.approvals import ApprovalService
from loyalty.close.bankfiles import Debtor
from loyalty.close.steps import CloseService
from loyalty.earning.balances import BalanceService
from loyalty.earning.writer import AccrualService, ConfigCache
from loyalty.ingest.dead_letters import DlqService
from loyalty.ingest.finalizer import Finalizer
from loyalty.ingest.splitter import IngestService
from loyalty.program.config import ConfigService
from loyalty.settings import Settings


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        s = settings
        cipher = KmsCipher(s.data_key_id, s.region, s.endpoint_url) if s.data_key_id else None
        self.store = DynamoStore(s.table_name, s.region, s.endpoint_url, cipher)
        self.blobs = S3Blobs(s.bucket, s.region, s.endpoint_url)
        self.notifier = SnsNotifier(s.events_topic_arn, s.region, s.endpoint_url)
        self.ops_notifier = SnsNotifier(s.ops_topic_arn, s.region, s.endpoint_url)
        self.finance_notifier = SnsNotifier(s.finance_topic_arn, s.region, s.endpoint_url)
        self._queue: SqsFifoQueue | None = None
        self._config: ConfigCache | None = None

    @property
    def queue(self) -> SqsFifoQueue:
        if self._queue is None:
            self._queue = SqsFifoQueue(
                self.settings.chunk_queue_url, self.settings.region, self.settings.endpoint_url
            )
        return self._queue

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
        )

    def accruals(self) -> AccrualService:
        if self._config is None:
            self._config = ConfigCache(
                self.store, self.settings.cache_seconds, self.settings.program_currency
            )
        return AccrualService(
            self.store, self.blobs, self._config, Finalizer(self.store, self.blobs, self.notifier)
        )

    def config(self) -> ConfigService:
        return ConfigService(self.store, self.blobs, self.notifier)

    def balances(self) -> BalanceService:
        return BalanceService(self.store)

    def dlq(self) -> DlqService:
        """Poison messages: operators hear of each, partners get the upload report."""
        return DlqService(self.store, self.blobs, self.ops_notifier, self.notifier)

    def workflow(self) -> StepFunctions:
        return StepFunctions(
            self.settings.state_machine_arn, self.settings.region, self.settings.endpoint_url
        )

    def close(self) -> CloseService:
        s = self.settings
        return CloseService(
            self.store,
            self.blobs,
            self.notifier,
            self.finance_notifier,
            Debtor(s.debtor_name, s.debtor_iban, s.debtor_bic),
            batch_size=s.close_batch_size,
        )

    def approvals(self) -> ApprovalService:
        s = self.settings
        return ApprovalService(
            self.store,
            self.blobs,
            self.finance_notifier,
            self.workflow(),
            reminder=dt.timedelta(hours=s.approval_reminder_hours),
            timeout=dt.timedelta(hours=s.approval_timeout_hours),
        )
