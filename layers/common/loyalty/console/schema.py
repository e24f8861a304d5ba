"""The finance API's request and response bodies (pydantic): what the OpenAPI document shows and
what every answer is validated against before it leaves."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
PARTNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}[A-Za-z0-9]$|^[A-Za-z0-9]$"


class Money(BaseModel):
    amount: str = Field(description="to the cent, `.` decimal separator", examples=["1234.56"])
    currency: str = Field(examples=["EUR"])
    text: str = Field(description="as the caller's language writes it", examples=["1 234,56 €"])


class Moment(BaseModel):
    at: str = Field(description="ISO 8601 instant")
    text: str


class Error(BaseModel):
    error: str
    details: list[dict[str, Any]] | None = None


class GatewayError(BaseModel):
    """401 and 429: API Gateway answers `{"message": "Unauthorized"}` (JWT authorizer) or
    `{"message": "Too Many Requests"}` (throttling) before the function runs; the function itself
    `{"error": ...}` for a token that names no person."""

    message: str | None = None
    error: str | None = None


class CloseHeading(BaseModel):
    period: str
    text: str = Field(description="the month as the caller's language names it")
    status: str
    run: str
    attempt: int
    started_by: str
    started: Moment | None
    requested: Moment | None
    approved_by: str | None
    rejected_by: str | None
    partners: int
    payees: int
    payout: Money
    anomaly_count: int


class CloseList(BaseModel):
    closes: list[CloseHeading]


class ApprovalList(BaseModel):
    approvals: list[CloseHeading]


class Count(BaseModel):
    count: int
    total: Money


class Figures(BaseModel):
    partners: int
    eligible: Count = Field(description="payees: payout above zero")
    held: Count = Field(description="positive balances carried forward (minimum, bank details)")
    negative: Count = Field(description="negative balances carried forward (returns after payout)")
    anomalies: int
    already_committed: int


class Bucket(BaseModel):
    key: str
    partners: int
    payout: Money
    net_sales: Money


class Summary(BaseModel):
    partners: int
    payees: int
    dormant: int
    totals: dict[str, Money]
    by_tier: list[Bucket]
    by_segment: list[Bucket]
    by_cohort: list[Bucket]
    tier_moves: dict[str, int]
    anomaly_count: int
    points: dict[str, int]


class ApprovalView(BaseModel):
    by: str
    at: Moment | None
    comment: str
    exclude: list[str]


class CloseDetail(CloseHeading):
    digest: str = Field(description="the proposal digest an approval must name")
    comment: str | None
    exclude: list[str]
    approvals: list[ApprovalView]
    approvals_required: int
    bank_files: int
    paid_total: Money | None
    may_approve: bool
    may_reject: bool
    figures: Figures | None
    summary: Summary | None


class Row(BaseModel):
    partner_id: str
    name: str
    segment: str
    tier: str
    payout: Money
    carried_in: Money
    matured_now: Money
    carried_out: Money
    reason: str
    anomalies: int


class AnomalyRow(BaseModel):
    partner_id: str
    name: str
    payout: Money
    reason: str


class _Page(BaseModel):
    period: str
    run: str
    digest: str
    total: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class RowPage(_Page):
    items: list[Row]


class AnomalyPage(_Page):
    items: list[AnomalyRow]


class LineView(BaseModel):
    partner_id: str
    name: str
    segment: str
    cohort: str
    state: str
    dormant: bool
    tier_before: str
    tier_after: str
    tier_change: str
    tier_reason: str
    progress: str
    net_sales: Money
    trailing: Money
    carried_in: Money
    matured_now: Money
    bonus: Money
    override: Money
    payout: Money
    carried_out: Money
    payout_reason: str
    anomalies: list[str]
    rule_version: str
    lines: int
    returns: int


class PartnerDetail(BaseModel):
    period: str
    run: str
    digest: str
    proposed: LineView
    committed: LineView | None
    excluded: bool
    why: str


class AuditEntryView(BaseModel):
    at: str
    text: str
    actor: str
    action: str
    detail: dict[str, Any]


class AuditTrail(BaseModel):
    period: str
    run: str
    entries: list[AuditEntryView]


class FileLink(BaseModel):
    key: str
    name: str
    url: str


class BankFiles(BaseModel):
    period: str
    run: str
    files: list[FileLink]


class Download(BaseModel):
    url: str = Field(description="presigned GET, valid 5 minutes, served as an attachment")


class Analytics(BaseModel):
    period: str
    html_url: str = Field(
        description="presigned GET of the report page, valid 15 minutes, shown in the browser"
    )
    key_figures: list[tuple[str, str]] = Field(
        description="the month's key figures: [label, value] in the caller's language"
    )


# -- requests -------------------------------------------------------------------------------------
class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=PERIOD_PATTERN)
    rerun: bool = False


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: str = Field(min_length=1, max_length=64, description="the run finance was shown")
    digest: str = Field(min_length=1, max_length=128, description="the proposal digest finance was shown")
    comment: str = Field(default="", max_length=2000)
    exclude: list[str] = Field(default_factory=list, max_length=10000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=2000)
    run: str | None = Field(default=None, max_length=64)


class StartResult(BaseModel):
    period: str
    run: str
    status: str
    started: bool
    execution: str | None = None


class Decision(BaseModel):
    period: str
    run: str
    status: Literal["approved", "pending_second", "rejected"]
    approved_by: str | None = None
    approved_at: str | None = None
    rejected_by: str | None = None
    comment: str | None = None
    exclude: list[str] | None = None
    approvals: int | None = None
    required: int | None = None
