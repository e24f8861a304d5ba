"""The partner portal's API (PortalApi, JWT authorizer on the user pool): a partner user's own
pages; a distributor reads the partners it is registered for; staff get 403 (they have the
console); another partner's id is 404. Every answer is in the caller's language (`?lang=`, the
saved choice, Accept-Language, the partner's country, English); money is `{amount, currency,
text}`. Use cases: `loyalty.portal.service.PortalService` (docs/portal.md).

  GET  /me                                   who am I (user, partner, tier, language)
  PUT  /me                                   {"lang": "ru"|"en"} save my language
  GET  /partners/{id}/balance                provisional / held / payable / paid / carried
  GET  /partners/{id}/lines?month=&cursor=&limit=   accrual lines with their trace (paged)
  GET  /partners/{id}/earnings?months=12     monthly commission, bonus, override, points
  GET  /partners/{id}/statements             statements and their formats
  GET  /partners/{id}/statements/{period}?format=html|csv|pdf   {"url": presigned GET}
  GET  /partners/{id}/tier                   tier, next tier, progress
  GET  /partners/{id}/targets                targets progress (month to date)
  GET  /partners/{id}/points                 balance, pending, expiring soon, lifetime
  GET  /partners/{id}/points/history?cursor= points moves, newest month first
  GET  /partners/{id}/catalog                rewards, and why not when not redeemable
  POST /partners/{id}/redemptions            Idempotency-Key header, {"reward_id", "quantity": 1}
  GET  /partners/{id}/redemptions            the partner's redemptions (paged)
  GET  /partners/{id}/rank                   place on the segment's latest leaderboard
  POST /partners/{id}/uploads                {filename, content_type, size} -> presigned POST
  GET  /partners/{id}/uploads[/{upload_id}]  uploads and their validation reports
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.kernel.i18n import Lang
from loyalty.kernel.identity import NotAPerson, Principal, jwt_principal
from loyalty.kernel.ids import PARTNER_ID_RE
from loyalty.portal.errors import PortalError
from loyalty.portal.paging import MAX_LIMIT, BadCursor
from loyalty.settings import Settings
from loyalty.wiring import Container
from pydantic import BaseModel, ConfigDict, Field

logger = Logger(service="partner_api")
tracer = Tracer(service="partner_api")
app = APIGatewayHttpResolver(enable_validation=True)
container = Container(Settings.from_env())
portal = container.portal()

PartnerId = Annotated[str, Path(pattern=PARTNER_ID_RE.pattern, max_length=64)]
LangQ = Annotated[Literal["ru", "en"] | None, Query(description="answer in this language")]
Cursor = Annotated[str | None, Query(max_length=1024, description="the cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


# -- models (what the OpenAPI document shows; answers are validated against them) -------------
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


# -- the caller and errors ---------------------------------------------------------------------
def who() -> Principal:
    ctx = app.current_event.request_context.authorizer
    try:
        return jwt_principal(ctx.jwt_claim if ctx else {})
    except NotAPerson as exc:
        raise PortalError(401, str(exc)) from None


def lang_of(p: Principal, lang: str | None) -> Lang:
    return portal.lang(p, lang, app.current_event.headers.get("accept-language"))


def error(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, body)


@app.exception_handler(PortalError)  # type: ignore[untyped-decorator]
def refused(exc: PortalError) -> Response[Any]:
    logger.info("refused", extra={"status": exc.status, "reason": exc.error})
    return error(exc.status, exc.to_json())


@app.exception_handler(BadCursor)  # type: ignore[untyped-decorator]
def bad_cursor(exc: BadCursor) -> Response[Any]:
    return error(400, {"error": str(exc), "details": [{"field": "cursor"}]})


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def invalid(exc: RequestValidationError) -> Response[Any]:
    details = [
        {"field": ".".join(str(x) for x in e.get("loc", ())), "reason": str(e.get("msg", ""))} for e in exc.errors()
    ]
    return error(400, {"error": "invalid request", "details": details})


# -- routes ------------------------------------------------------------------------------------
@app.get("/me", responses={401: {"model": Error}})
def me(lang: LangQ = None) -> MeOut:
    p = who()
    return MeOut.model_validate(portal.me(p, lang_of(p, lang)))


@app.put("/me", responses={400: {"model": Error}})
def save_me(body: LangIn) -> MeOut:
    return MeOut.model_validate(portal.set_lang(who(), body.lang))


@app.get("/partners/<partner_id>/balance")
def balance(partner_id: PartnerId, lang: LangQ = None) -> BalanceOut:
    p = who()
    return BalanceOut.model_validate(portal.balance(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/lines")
def lines(
    partner_id: PartnerId,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    lang: LangQ = None,
) -> LinesOut:
    p = who()
    return LinesOut.model_validate(portal.lines(p, partner_id, month, cursor, limit, lang_of(p, lang)))


@app.get("/partners/<partner_id>/earnings")
def earnings(partner_id: PartnerId, months: Annotated[int, Query(ge=1, le=24)] = 12, lang: LangQ = None) -> EarningsOut:
    p = who()
    return EarningsOut.model_validate(portal.earnings(p, partner_id, months, lang_of(p, lang)))


@app.get("/partners/<partner_id>/statements")
def statements(partner_id: PartnerId, lang: LangQ = None) -> StatementsOut:
    p = who()
    return StatementsOut.model_validate(portal.statements(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/statements/<period>", responses={404: {"model": Error}})
def statement(
    partner_id: PartnerId,
    period: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    format: Annotated[Literal["html", "csv", "pdf"], Query()] = "html",  # noqa: A002
) -> LinkOut:
    return LinkOut.model_validate(portal.statement(who(), partner_id, period, format))


@app.get("/partners/<partner_id>/tier")
def tier(partner_id: PartnerId, lang: LangQ = None) -> TierOut:
    p = who()
    return TierOut.model_validate(portal.tier(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/targets")
def targets(partner_id: PartnerId, lang: LangQ = None) -> TargetsOut:
    p = who()
    return TargetsOut.model_validate(portal.targets(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/points")
def points(partner_id: PartnerId, lang: LangQ = None) -> PointsOut:
    p = who()
    return PointsOut.model_validate(portal.points(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/points/history")
def points_history(partner_id: PartnerId, cursor: Cursor = None, lang: LangQ = None) -> HistoryOut:
    p = who()
    return HistoryOut.model_validate(portal.points_history(p, partner_id, cursor, lang_of(p, lang)))


@app.get("/partners/<partner_id>/catalog")
def catalog(partner_id: PartnerId, lang: LangQ = None) -> CatalogOut:
    p = who()
    return CatalogOut.model_validate(portal.catalog(p, partner_id, lang_of(p, lang)))


@app.post("/partners/<partner_id>/redemptions", responses={409: {"model": Error}, 422: {"model": Error}})
def redeem(
    partner_id: PartnerId,
    body: RedeemIn,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response[RedeemOut]:
    status, out = portal.redeem(who(), partner_id, body.reward_id, idempotency_key)
    logger.info("redeem", extra={"partner": partner_id, "reward": body.reward_id, "status": status})
    return Response(status, content_types.APPLICATION_JSON, RedeemOut.model_validate(out))


@app.get("/partners/<partner_id>/redemptions")
def redemptions(partner_id: PartnerId, cursor: Cursor = None, limit: Limit = 50) -> RedemptionsOut:
    return RedemptionsOut.model_validate(portal.redemptions(who(), partner_id, cursor, limit))


@app.get("/partners/<partner_id>/rank")
def rank(partner_id: PartnerId, lang: LangQ = None) -> RankOut:
    p = who()
    return RankOut.model_validate(portal.rank(p, partner_id, lang_of(p, lang)))


@app.post("/partners/<partner_id>/uploads", responses={400: {"model": Error}})
def start_upload(partner_id: PartnerId, body: UploadIn) -> Response[UploadFormOut]:
    out = portal.start_upload(who(), partner_id, body.filename, body.content_type, body.size)
    logger.info("upload signed", extra={"partner": partner_id, "upload": out["upload_id"]})
    return Response(201, content_types.APPLICATION_JSON, UploadFormOut.model_validate(out))


@app.get("/partners/<partner_id>/uploads")
def uploads(partner_id: PartnerId, cursor: Cursor = None, limit: Annotated[int, Query(ge=1, le=50)] = 20) -> UploadsOut:
    return UploadsOut.model_validate(portal.uploads(who(), partner_id, cursor, limit))


@app.get("/partners/<partner_id>/uploads/<upload_id>", responses={404: {"model": Error}})
def upload(
    partner_id: PartnerId, upload_id: Annotated[str, Path(pattern=r"^[0-9]{14}-[0-9a-f]{8}$")]
) -> UploadOut:
    return UploadOut.model_validate(portal.upload(who(), partner_id, upload_id))


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
