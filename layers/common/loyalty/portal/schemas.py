"""The Partner API's request bodies and answers as pydantic models: the OpenAPI document shows
them and every answer is validated against them (`functions/partner_api/app.py`). Answers
allow extra fields (the use cases' dicts carry more than the schema promises)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.i18n import Lang


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class Money(BaseModel):
    amount: str = Field(examples=["1234.56"])
    currency: str = Field(examples=["EUR"])
    text: str = Field(examples=["1 234,56 €"])


class Dated(BaseModel):
    date: str
    text: str


class Period(BaseModel):
    period: str
    text: str


class Error(BaseModel):
    error: str
    details: list[dict[str, Any]] = []


class PartnerInfo(Out):
    partner_id: str
    name: str
    segment: str
    country: str
    tier: str
    distributor_for: list[str]


class MeOut(Out):
    user: str
    email: str
    groups: list[str]
    lang: Lang
    saved_lang: Lang | None
    partner: PartnerInfo | None


class LangIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Lang


EmailKind = Literal[
    "statement_ready",
    "payout_sent",
    "tier_changed",
    "upload_processed",
    "target_reached",
    "points_expiring",
    "all",
]


class EmailPrefsIn(BaseModel):
    """The email kinds the partner turns off (`all`: every kind); the others are on."""

    model_config = ConfigDict(extra="forbid")
    off: list[EmailKind] = Field(default_factory=list, max_length=7)


class EmailPrefsOut(Out):
    partner_id: str
    kinds: list[str]  # every kind a partner may be emailed about
    off: list[str]


class BalanceOut(Out):
    partner_id: str
    as_of: Dated
    last_close: Period | None
    provisional: Money
    held: Money
    payable: Money
    paid: Money
    carried: Money
    minimum_payout: Money
    holding_days: int
    below_minimum: bool
    rule_version: str | None
    explain: dict[str, str]


class LineOut(Out):
    sale_id: str
    sold_at: str
    quantity: int
    amount: Money
    amount_eur: Money
    commission: Money
    tier: str
    rate_pct: str
    rule_version: str
    basis: str
    trace: str


class LinesOut(Out):
    partner_id: str
    month: str | None
    lines: list[LineOut]
    cursor: str | None


class MonthOut(Out):
    period: str
    text: str
    closed: bool
    net_sales: Money
    commission: Money
    bonus: Money
    override: Money
    payout: Money
    points: int


class EarningsOut(Out):
    partner_id: str
    currency: str
    months: list[MonthOut]


class StatementOut(Out):
    period: str
    text: str
    formats: list[str]


class StatementsOut(Out):
    partner_id: str
    statements: list[StatementOut]


class LinkOut(Out):
    url: str
    format: str
    expires_in: int


class TierOut(Out):
    partner_id: str
    tier: str
    next_tier: str | None
    progress: dict[str, str] | None
    text: str


class TargetsOut(Out):
    partner_id: str
    targets: list[dict[str, Any]]


class PointsOut(Out):
    partner_id: str
    balance: int
    pending: int
    expiring_soon: int
    expiring_on: Dated | None
    lifetime: int


class HistoryOut(Out):
    partner_id: str
    moves: list[dict[str, Any]]
    cursor: str | None


class RewardOut(Out):
    reward_id: str
    name: str
    points: int
    available: bool
    refusal: dict[str, str] | None


class CatalogOut(Out):
    partner_id: str
    spendable: int
    rewards: list[RewardOut]


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reward_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(default=1, ge=1, le=1, description="one unit per request (one redemption)")


class RedemptionOut(Out):
    request_id: str
    reward_id: str
    points: int
    state: str


class RedeemOut(Out):
    replayed: bool
    redemption: RedemptionOut


class RedemptionsOut(Out):
    partner_id: str
    redemptions: list[RedemptionOut]
    cursor: str | None


class RankOut(Out):
    partner_id: str
    ranked: bool
    period: str | None
    top: list[dict[str, Any] | None]


class UploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=100)
    size: int = Field(ge=1)


class UploadFormOut(Out):
    upload_id: str
    key: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in: int


class UploadOut(Out):
    upload_id: str
    filename: str
    status: str
    report: dict[str, Any] | None
    errors_url: str | None


class UploadsOut(Out):
    partner_id: str
    uploads: list[UploadOut]
    cursor: str | None
