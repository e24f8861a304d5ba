"""The composition root of a Lambda container: AWS adapters from its Settings, under the services
of `loyalty.assembly` (used by the Lambda handlers)."""

from __future__ import annotations

from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.dynamo.console import S3Presigner
from loyalty.adapters.dynamo.portal import DynamoPortalRecords
from loyalty.adapters.dynamo.portal_links import S3PortalLinks
from loyalty.adapters.facts_s3 import S3Facts
from loyalty.adapters.memory.simworld import MemorySimWorld
from loyalty.adapters.s3sqs import (
    KmsCipher,
    KmsTokenCipher,
    S3Blobs,
    SnsNotifier,
    SqsFifoQueue,
    StepFunctions,
)
from loyalty.assembly import Services
from loyalty.settings import Settings
from loyalty.simulation.ports import WorldFactory


class Container(Services):
    def __init__(self, settings: Settings) -> None:
        s = settings
        bank_key = s.bank_key_id or s.data_key_id
        cipher = KmsCipher(bank_key, s.region, s.endpoint_url) if bank_key else None
        key = s.approval_token_key
        tokens = KmsTokenCipher(key, s.region, s.endpoint_url) if key else None
        super().__init__(
            settings,
            DynamoStore(s.table_name, s.region, s.endpoint_url, cipher).with_token_cipher(tokens),
            S3Blobs(s.bucket, s.region, s.endpoint_url, s.locked_prefix, s.lock_retention_days),
            SnsNotifier(s.events_topic_arn, s.region, s.endpoint_url),
            SnsNotifier(s.ops_topic_arn, s.region, s.endpoint_url),
            SnsNotifier(s.finance_topic_arn, s.region, s.endpoint_url),
        )
        self._queue: SqsFifoQueue | None = None

    @property
    def queue(self) -> SqsFifoQueue:
        if self._queue is None:
            s = self.settings
            self._queue = SqsFifoQueue(s.chunk_queue_url, s.region, s.endpoint_url)
        return self._queue

    def workflow(self) -> StepFunctions:
        s = self.settings
        return StepFunctions(s.state_machine_arn, s.region, s.endpoint_url)

    def simulation_worlds(self) -> WorldFactory:
        return MemorySimWorld

    def simulation_workflow(self) -> StepFunctions | None:
        s = self.settings
        if not s.simulation_state_machine_arn:
            return None
        return StepFunctions(s.simulation_state_machine_arn, s.region, s.endpoint_url)

    # -- partner portal (issue 12) ----------------------------------------------------------------
    def portal_records(self) -> DynamoPortalRecords:
        s = self.settings
        return DynamoPortalRecords(s.table_name, s.region, s.endpoint_url)

    def portal_links(self) -> S3PortalLinks:
        s = self.settings
        return S3PortalLinks(
            s.bucket, s.region, s.endpoint_url, s.partner_upload_role_arn, s.s3_public_endpoint
        )

    # -- finance console (issue 12) ------------------------------------------------------------
    def presigner(self) -> S3Presigner:
        s = self.settings
        return S3Presigner(s.bucket, s.region, s.endpoint_url, s.s3_public_endpoint)

    # -- program analytics (issue 13) ----------------------------------------------------------
    def facts_files(self) -> S3Facts:
        s = self.settings
        return S3Facts(s.bucket, s.region, s.endpoint_url)

    def program_notifier(self) -> SnsNotifier:
        s = self.settings
        return SnsNotifier(s.program_topic_arn, s.region, s.endpoint_url)
