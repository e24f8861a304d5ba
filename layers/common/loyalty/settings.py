"""Runtime settings: one pydantic model, read once per container from the environment that
template.yaml sets on each function."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(alias="TABLE_NAME")
    bucket: str = Field(alias="UPLOAD_BUCKET")
    chunk_queue_url: str = Field(default="", alias="CHUNK_QUEUE_URL")
    events_topic_arn: str = Field(default="", alias="EVENTS_TOPIC_ARN")
    ops_topic_arn: str = Field(default="", alias="OPS_TOPIC_ARN")
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")
    max_upload_bytes: int = Field(default=1024**3, alias="MAX_UPLOAD_BYTES")
    chunk_rows: int = Field(default=500, alias="CHUNK_ROWS", ge=10, le=5000)
    chunk_groups: int = Field(default=64, alias="CHUNK_GROUPS", ge=1, le=1000)
    program_currency: str = Field(default="EUR", alias="PROGRAM_CURRENCY")
    cache_seconds: int = Field(default=60, alias="CONFIG_CACHE_SECONDS")
    data_key_id: str = Field(default="", alias="DATA_KEY_ID")
    # bank details are encrypted with their own key when set (template: BankDetailsKey)
    bank_key_id: str = Field(default="", alias="BANK_KEY_ID")
    # objects written under this prefix get an Object Lock GOVERNANCE retention (bank files)
    locked_prefix: str = Field(default="", alias="LOCKED_PREFIX")
    lock_retention_days: int = Field(default=0, alias="LOCK_RETENTION_DAYS", ge=0)
    # monthly close
    state_machine_arn: str = Field(default="", alias="CLOSE_STATE_MACHINE_ARN")
    # what-if simulations (rules uploaded with simulate_first: the config loader starts them)
    simulation_state_machine_arn: str = Field(default="", alias="SIMULATION_STATE_MACHINE_ARN")
    finance_topic_arn: str = Field(default="", alias="FINANCE_TOPIC_ARN")
    approval_reminder_hours: float = Field(default=24, alias="APPROVAL_REMINDER_HOURS", gt=0)
    approval_timeout_hours: float = Field(default=72, alias="APPROVAL_TIMEOUT_HOURS", gt=0, le=94)
    finance_role_name: str = Field(default="", alias="FINANCE_ROLE_NAME")
    operator_role_name: str = Field(default="", alias="OPERATOR_ROLE_NAME")
    close_batch_size: int = Field(default=500, alias="CLOSE_BATCH_SIZE", ge=1, le=5000)
    debtor_name: str = Field(default="Partner Program", alias="DEBTOR_NAME")
    debtor_iban: str = Field(default="", alias="DEBTOR_IBAN")
    debtor_bic: str = Field(default="", alias="DEBTOR_BIC")
    # approvals: finance callback tokens are encrypted with this key (empty: DATA_KEY_ID's);
    # above this payout total (EUR) two different finance people must approve a close
    token_key_id: str = Field(default="", alias="TOKEN_KEY_ID")
    dual_approval_eur: Decimal = Field(default=Decimal(100_000), alias="DUAL_APPROVAL_EUR", ge=0)
    # partner portal: the role whose per-partner sessions sign the presigned uploads
    partner_upload_role_arn: str = Field(default="", alias="PARTNER_UPLOAD_ROLE_ARN")
    # portal: the user pool client people sign in with; where a browser reaches S3 for presigned
    # URLs (unset on AWS: the regional S3 endpoint; the local cloud's server sets its own address)
    user_pool_client_id: str = Field(default="", alias="USER_POOL_CLIENT_ID")
    s3_public_endpoint: str | None = Field(default=None, alias="S3_PUBLIC_ENDPOINT")
    # program analytics (issue 13): the program managers' topic; DuckDB's memory cap ("" = its
    # default, 80 % of the machine: the function's memory on Lambda)
    program_topic_arn: str = Field(default="", alias="PROGRAM_TOPIC_ARN")
    analytics_memory_limit: str = Field(
        default="", alias="ANALYTICS_MEMORY_LIMIT", pattern=r"^(\d+(MB|GB))?$"
    )

    @property
    def approval_token_key(self) -> str:
        """The KMS key of the approval callback tokens: TOKEN_KEY_ID, else DATA_KEY_ID."""
        return self.token_key_id or self.data_key_id

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        src = dict(os.environ if env is None else env)
        if not src.get("AWS_REGION") and src.get("AWS_DEFAULT_REGION"):
            src["AWS_REGION"] = src["AWS_DEFAULT_REGION"]
        known = {f.alias for f in cls.model_fields.values() if f.alias}
        return cls.model_validate({k: v for k, v in src.items() if k in known and v != ""})
