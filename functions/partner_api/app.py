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
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.adapters.dynamo.notify import NotifierTables
from loyalty.kernel.http import not_json
from loyalty.kernel.i18n import Lang
from loyalty.kernel.identity import NotAPerson, Principal, jwt_principal
from loyalty.kernel.ids import PARTNER_ID_RE
from loyalty.notify.model import KINDS, Prefs
from loyalty.portal.errors import PortalError
from loyalty.portal.paging import MAX_LIMIT, BadCursor
from loyalty.portal.schemas import (
    BalanceOut,
    CatalogOut,
    EarningsOut,
    EmailPrefsIn,
    EmailPrefsOut,
    Error,
    HistoryOut,
    LangIn,
    LinesOut,
    LinkOut,
    MeOut,
    PointsOut,
    RankOut,
    RedeemIn,
    RedeemOut,
    RedemptionsOut,
    StatementsOut,
    TargetsOut,
    TierOut,
    UploadFormOut,
    UploadIn,
    UploadOut,
    UploadsOut,
)
from loyalty.settings import Settings
from loyalty.wiring import Container
from pydantic import BaseModel

logger = Logger(service="partner_api")
tracer = Tracer(service="partner_api")
app = APIGatewayHttpResolver(enable_validation=True)
container = Container(Settings.from_env())
portal = container.portal()
mail_prefs = NotifierTables(
    container.settings.table_name, container.settings.region, container.settings.endpoint_url
)

PartnerId = Annotated[str, Path(pattern=PARTNER_ID_RE.pattern, max_length=64)]
LangQ = Annotated[Literal["ru", "en"] | None, Query(description="answer in this language")]
Cursor = Annotated[str | None, Query(max_length=1024, description="the cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


# -- the caller and errors ---------------------------------------------------------------------
WHY = {
    400: "bad input (field and reason in details)",
    401: "no person in the token",
    403: "not a partner user (staff), or a distributor writing for its downline",
    404: "no such partner for this caller (another partner's id), or nothing there",
    409: "the Idempotency-Key was used for another request",
    422: "refused by a business rule (code and numbers in details)",
    415: "the body is not JSON",
}


def answers(model: type[BaseModel], status: int = 200, *extra: int) -> dict[int, OpenAPIResponse]:
    """A route's answers: `model` with `status`, and the errors (every route: 400, 401, 403, 404;
    and `extra`)."""
    out: dict[int, OpenAPIResponse] = {
        status: {
            "description": "OK" if status == 200 else "Created",
            "content": {"application/json": {"model": model}},
        }
    }
    for c in (400, 401, 403, 404, *extra):
        out[c] = {"description": WHY[c], "content": {"application/json": {"model": Error}}}
    return out


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
        {"field": ".".join(str(x) for x in e.get("loc", ())), "reason": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    return error(400, {"error": "invalid request", "details": details})


@app.not_found  # type: ignore[untyped-decorator]
def unknown(_: Exception) -> Response[Any]:
    return error(404, {"error": "no such route"})


# -- routes ------------------------------------------------------------------------------------
@app.get("/me", responses=answers(MeOut, 200))
def me(lang: LangQ = None) -> MeOut:
    p = who()
    return MeOut.model_validate(portal.me(p, lang_of(p, lang)))


@app.put("/me", responses=answers(MeOut, 200, 415))
def save_me(body: LangIn) -> MeOut:
    return MeOut.model_validate(portal.set_lang(who(), body.lang))


@app.get("/partners/<partner_id>/balance", responses=answers(BalanceOut, 200))
def balance(partner_id: PartnerId, lang: LangQ = None) -> BalanceOut:
    p = who()
    return BalanceOut.model_validate(portal.balance(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/lines", responses=answers(LinesOut, 200))
def lines(
    partner_id: PartnerId,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    lang: LangQ = None,
) -> LinesOut:
    p = who()
    return LinesOut.model_validate(portal.lines(p, partner_id, month, cursor, limit, lang_of(p, lang)))


@app.get("/partners/<partner_id>/earnings", responses=answers(EarningsOut, 200))
def earnings(
    partner_id: PartnerId, months: Annotated[int, Query(ge=1, le=24)] = 12, lang: LangQ = None
) -> EarningsOut:
    p = who()
    return EarningsOut.model_validate(portal.earnings(p, partner_id, months, lang_of(p, lang)))


@app.get("/partners/<partner_id>/statements", responses=answers(StatementsOut, 200))
def statements(partner_id: PartnerId, lang: LangQ = None) -> StatementsOut:
    p = who()
    return StatementsOut.model_validate(portal.statements(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/statements/<period>", responses=answers(LinkOut, 200))
def statement(
    partner_id: PartnerId,
    period: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    format: Annotated[Literal["html", "csv", "pdf"], Query()] = "html",
) -> LinkOut:
    return LinkOut.model_validate(portal.statement(who(), partner_id, period, format))


@app.get("/partners/<partner_id>/tier", responses=answers(TierOut, 200))
def tier(partner_id: PartnerId, lang: LangQ = None) -> TierOut:
    p = who()
    return TierOut.model_validate(portal.tier(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/targets", responses=answers(TargetsOut, 200))
def targets(partner_id: PartnerId, lang: LangQ = None) -> TargetsOut:
    p = who()
    return TargetsOut.model_validate(portal.targets(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/points", responses=answers(PointsOut, 200))
def points(partner_id: PartnerId, lang: LangQ = None) -> PointsOut:
    p = who()
    return PointsOut.model_validate(portal.points(p, partner_id, lang_of(p, lang)))


@app.get("/partners/<partner_id>/points/history", responses=answers(HistoryOut, 200))
def points_history(partner_id: PartnerId, cursor: Cursor = None, lang: LangQ = None) -> HistoryOut:
    p = who()
    return HistoryOut.model_validate(portal.points_history(p, partner_id, cursor, lang_of(p, lang)))


@app.get("/partners/<partner_id>/catalog", responses=answers(CatalogOut, 200))
def catalog(partner_id: PartnerId, lang: LangQ = None) -> CatalogOut:
    p = who()
    return CatalogOut.model_validate(portal.catalog(p, partner_id, lang_of(p, lang)))


@app.post(
    "/partners/<partner_id>/redemptions",
    responses={**answers(RedeemOut, 201, 409, 415, 422), **answers(RedeemOut, 200)},
)
def redeem(
    partner_id: PartnerId,
    body: RedeemIn,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response[RedeemOut]:
    status, out = portal.redeem(who(), partner_id, body.reward_id, idempotency_key)
    logger.info("redeem", extra={"partner": partner_id, "reward": body.reward_id, "status": status})
    return Response(status, content_types.APPLICATION_JSON, RedeemOut.model_validate(out))


@app.get("/partners/<partner_id>/redemptions", responses=answers(RedemptionsOut, 200))
def redemptions(partner_id: PartnerId, cursor: Cursor = None, limit: Limit = 50) -> RedemptionsOut:
    return RedemptionsOut.model_validate(portal.redemptions(who(), partner_id, cursor, limit))


@app.get("/partners/<partner_id>/rank", responses=answers(RankOut, 200))
def rank(partner_id: PartnerId, lang: LangQ = None) -> RankOut:
    p = who()
    return RankOut.model_validate(portal.rank(p, partner_id, lang_of(p, lang)))


@app.post("/partners/<partner_id>/uploads", responses=answers(UploadFormOut, 201, 415))
def start_upload(partner_id: PartnerId, body: UploadIn) -> Response[UploadFormOut]:
    out = portal.start_upload(who(), partner_id, body.filename, body.content_type, body.size)
    logger.info("upload signed", extra={"partner": partner_id, "upload": out["upload_id"]})
    return Response(201, content_types.APPLICATION_JSON, UploadFormOut.model_validate(out))


# -- email preferences (the notifier reads them: docs/emails.md) ---------------------------------
def email_prefs(partner_id: str, prefs: Prefs) -> EmailPrefsOut:
    return EmailPrefsOut(partner_id=partner_id, kinds=list(KINDS), off=sorted(prefs.off))


@app.get("/partners/<partner_id>/email", responses=answers(EmailPrefsOut, 200))
def get_email(partner_id: PartnerId) -> EmailPrefsOut:
    portal.check(who(), partner_id)
    return email_prefs(partner_id, mail_prefs.prefs(partner_id))


@app.put("/partners/<partner_id>/email", responses=answers(EmailPrefsOut, 200, 415))
def put_email(partner_id: PartnerId, body: EmailPrefsIn) -> EmailPrefsOut:
    portal.check(who(), partner_id, write=True)
    kept = mail_prefs.prefs(partner_id)  # the language chosen for the emails stays
    prefs = Prefs(partner_id, frozenset(body.off), kept.lang)
    mail_prefs.put_prefs(prefs)
    logger.info("email preferences", extra={"partner": partner_id, "off": sorted(prefs.off)})
    return email_prefs(partner_id, prefs)


@app.get("/partners/<partner_id>/uploads", responses=answers(UploadsOut, 200))
def uploads(
    partner_id: PartnerId, cursor: Cursor = None, limit: Annotated[int, Query(ge=1, le=50)] = 20
) -> UploadsOut:
    return UploadsOut.model_validate(portal.uploads(who(), partner_id, cursor, limit))


@app.get("/partners/<partner_id>/uploads/<upload_id>", responses=answers(UploadOut, 200))
def upload(
    partner_id: PartnerId, upload_id: Annotated[str, Path(pattern=r"^[0-9]{14}-[0-9a-f]{8}$")]
) -> UploadOut:
    return UploadOut.model_validate(portal.upload(who(), partner_id, upload_id))


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return not_json(event) or app.resolve(event, context)
