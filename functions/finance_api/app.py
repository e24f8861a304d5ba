"""Finance and operations API on the portal's HTTP API (JWT authorizer on the user pool).

The caller is the person of the verified token (`loyalty.kernel.identity.jwt_principal`) with the
user pool's staff groups: finance decides, operators start closes, both read everything of a close,
program managers read the closes' aggregate figures; partner users get 403. Decisions go through
the close's approvals service (maker-checker, the run and proposal digest finance was shown, the
audit trail) exactly as the IAM-signed approvals API does; reads through `loyalty.console`.
Money is `{"amount", "currency", "text"}` with the text in the caller's language (`?lang=`, else
Accept-Language, else English)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.close.approvals import require_finance, require_operator
from loyalty.close.runs import CloseError
from loyalty.console import schema as s
from loyalty.console.exports import KINDS, csv_chunks, export_name
from loyalty.console.index import MAX_LIMIT
from loyalty.console.service import SUMMARY_READERS, Sort, require
from loyalty.kernel.http import not_json
from loyalty.kernel.i18n import Lang, accept_language, choose_lang
from loyalty.kernel.identity import Caller, NotAPerson, Principal, jwt_principal
from loyalty.settings import Settings
from loyalty.wiring import Container
from pydantic import BaseModel

logger = Logger(service="finance-api")
tracer = Tracer(service="finance-api")
app = APIGatewayHttpResolver(enable_validation=True)
container = Container(Settings.from_env())

Period = Annotated[str, Path(pattern=s.PERIOD_PATTERN, description="YYYY-MM", examples=["2026-10"])]
PartnerId = Annotated[str, Path(pattern=s.PARTNER_PATTERN, max_length=64)]
LangQ = Annotated[Literal["ru", "en"] | None, Query(alias="lang", description="language of the texts")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def answers(model: type[BaseModel] | None, *codes: int) -> dict[int, OpenAPIResponse]:
    """The route's documented answers: 200 with its model, and its errors (400, 401, 403 always)."""
    ok: dict[int, OpenAPIResponse] = (
        {200: {"description": "OK", "content": {"application/json": {"model": model}}}} if model else {}
    )
    return {**ok, **_errors(*codes)}


def _errors(*codes: int) -> dict[int, OpenAPIResponse]:
    what = {
        400: "bad input (field and reason)",
        401: "no verified token",
        403: "not in a group that may do this",
        404: "no such close or partner",
        409: "the close is not in a state that allows it",
        415: "the body is not JSON",
        429: "throttled (API Gateway)",
        422: "refused by a business rule",
    }
    return {
        c: {
            "description": what[c],
            "content": {"application/json": {"model": s.GatewayError if c in {401, 429} else s.Error}},
        }
        for c in (400, 401, 403, 429, *codes)
    }


def principal() -> Principal:
    claims = app.current_event.request_context.authorizer.jwt_claim
    if not claims:
        raise CloseError("sign in: the request carries no verified token", 401)
    try:
        return jwt_principal(claims)
    except NotAPerson as exc:
        raise CloseError(str(exc), 401) from None


def caller(who: Principal) -> Caller:
    """The close's caller (user name and roles) of a staff member."""
    try:
        return who.caller()
    except NotAPerson as exc:
        raise CloseError(str(exc), 403) from None


def lang(query: str | None) -> Lang:
    return choose_lang(query, accept_language(app.current_event.headers.get("accept-language")))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"error": message}
    if details is not None:
        body["details"] = details
    return Response(status, content_types.APPLICATION_JSON, body)


def gate() -> None:
    """Who is asking, and may they, comes before what they ask (a bad body from a partner user is
    a 403, not a 400): the group a request's route needs."""
    who = principal()
    method, path = app.current_event.http_method, app.current_event.path
    if method == "POST" and path.endswith(("/approve", "/reject")):
        require_finance(caller(who))
    elif method == "POST":
        require_operator(caller(who))
    else:
        require(who, SUMMARY_READERS, "closes")


@app.exception_handler(CloseError)  # type: ignore[untyped-decorator]
def refused(exc: CloseError) -> Response[Any]:
    logger.info("refused", extra={"reason": str(exc), "status": exc.status})
    return _error(exc.status, str(exc))


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def invalid(exc: RequestValidationError) -> Response[Any]:
    try:
        gate()
    except CloseError as refusal:
        return _error(refusal.status, str(refusal))
    details = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p not in {"body", "query", "path"})
            or "body",
            "reason": str(e.get("msg", "")),
        }
        for e in exc.errors()
    ]
    return _error(400, "invalid request", details)


@app.not_found  # type: ignore[untyped-decorator]
def unknown(_: Exception) -> Response[Any]:
    return _error(404, "no such route")


# -- closes ------------------------------------------------------------------------------------------
@app.get("/finance/closes", responses=answers(s.CloseList), tags=["finance"])
def list_closes(lang_: LangQ = None) -> s.CloseList:
    return s.CloseList.model_validate({"closes": container.console().closes(principal(), lang(lang_))})


@app.get("/finance/approvals", responses=answers(s.ApprovalList), tags=["finance"])
def pending(lang_: LangQ = None) -> s.ApprovalList:
    return s.ApprovalList.model_validate({"approvals": container.console().pending(principal(), lang(lang_))})


@app.get("/finance/closes/<period>", responses=answers(s.CloseDetail, 404, 409), tags=["finance"])
def show(period: Period, lang_: LangQ = None) -> s.CloseDetail:
    return s.CloseDetail.model_validate(container.console().close(principal(), period, lang(lang_)))


@app.get("/finance/closes/<period>/payouts", responses=answers(s.RowPage, 404, 409), tags=["finance"])
def payouts(
    period: Period,
    cursor: Cursor = None,
    limit: Limit = 50,
    sort: Annotated[Sort, Query()] = "amount",
    lang_: LangQ = None,
) -> s.RowPage:
    page = container.console().payouts(principal(), period, cursor, limit, sort, lang(lang_))
    return s.RowPage.model_validate(page)


@app.get("/finance/closes/<period>/held", responses=answers(s.RowPage, 404, 409), tags=["finance"])
def held(period: Period, cursor: Cursor = None, limit: Limit = 50, lang_: LangQ = None) -> s.RowPage:
    return s.RowPage.model_validate(container.console().held(principal(), period, cursor, limit, lang(lang_)))


@app.get("/finance/closes/<period>/anomalies", responses=answers(s.AnomalyPage, 404, 409), tags=["finance"])
def anomalies(period: Period, cursor: Cursor = None, limit: Limit = 50, lang_: LangQ = None) -> s.AnomalyPage:
    page = container.console().anomalies(principal(), period, cursor, limit, lang(lang_))
    return s.AnomalyPage.model_validate(page)


@app.get(
    "/finance/closes/<period>/partners/<partner_id>",
    responses=answers(s.PartnerDetail, 404, 409),
    tags=["finance"],
)
def partner(period: Period, partner_id: PartnerId, lang_: LangQ = None) -> s.PartnerDetail:
    got = container.console().partner(principal(), period, partner_id, lang(lang_))
    return s.PartnerDetail.model_validate(got)


@app.get("/finance/closes/<period>/audit", responses=answers(s.AuditTrail, 404), tags=["finance"])
def audit(period: Period, lang_: LangQ = None) -> s.AuditTrail:
    return s.AuditTrail.model_validate(container.console().audit(principal(), period, lang(lang_)))


@app.get("/finance/closes/<period>/bank-files", responses=answers(s.BankFiles, 404, 409), tags=["finance"])
def bank_files(period: Period) -> s.BankFiles:
    return s.BankFiles.model_validate(container.console().bank_files(principal(), period))


@app.get(
    "/finance/closes/<period>/statements/<partner_id>", responses=answers(s.Download, 404), tags=["finance"]
)
def statement(
    period: Period,
    partner_id: PartnerId,
    format_: Annotated[Literal["html", "csv", "pdf"], Query(alias="format")] = "html",
) -> s.Download:
    return s.Download.model_validate(container.console().statement(principal(), period, partner_id, format_))


@app.get("/finance/closes/<period>/analytics", responses=answers(s.Analytics, 404), tags=["finance"])
def analytics(period: Period, lang_: LangQ = None) -> s.Analytics:
    """The month's program analytics: a link to the report page and its key figures (404 until
    the close's analytics step wrote them)."""
    return s.Analytics.model_validate(container.console().analytics(principal(), period, lang(lang_)))


@app.get(
    "/finance/closes/<period>/export.csv",
    responses={
        200: {"description": "the CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}},
        **_errors(404, 409),
    },
    tags=["finance"],
)
def export(
    period: Period, kind: Annotated[Literal["payouts", "anomalies", "excluded"], Query()]
) -> Response[str]:
    assert kind in KINDS
    index, rows = container.console().export_rows(principal(), period, kind)
    body = "".join(csv_chunks(kind, rows))
    name = export_name(period, index.run, kind)
    return Response(
        200,
        "text/csv; charset=utf-8",
        body,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- decisions and starts (the close's own services) ----------------------------------------------------
@app.post("/finance/closes", responses=answers(s.StartResult, 409, 415), tags=["operations"])
def start(body: s.StartBody) -> s.StartResult:
    who = caller(principal())
    require_operator(who)
    result = container.close().start(container.workflow(), body.period, who, body.rerun, now()).to_json()
    logger.info("close start", extra={"user": who.user, **result})
    return s.StartResult.model_validate(result)


@app.post("/finance/closes/<period>/approve", responses=answers(s.Decision, 404, 409, 415), tags=["finance"])
def approve(period: Period, body: s.ApproveBody) -> s.Decision:
    who = caller(principal())
    require_finance(who)
    result = (
        container.approvals()
        .approve(who, period, body.comment, body.exclude, now(), run=body.run, digest=body.digest)
        .to_json()
    )
    logger.info(
        "approved",
        extra={"user": who.user, "period": period, "status": result["status"], "excluded": len(body.exclude)},
    )
    return s.Decision.model_validate(result)


@app.post("/finance/closes/<period>/reject", responses=answers(s.Decision, 404, 409, 415), tags=["finance"])
def reject(period: Period, body: s.RejectBody) -> s.Decision:
    who = caller(principal())
    require_finance(who)
    result = container.approvals().reject(who, period, body.comment, run=body.run).to_json()
    logger.info("rejected", extra={"user": who.user, "period": period})
    return s.Decision.model_validate(result)


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return not_json(event) or app.resolve(event, context)
