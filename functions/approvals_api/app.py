"""Finance approvals and manual closes over an API Gateway HTTP API with IAM authorization.

The caller is the IAM identity API Gateway verified (SigV4): people assume the finance or the
operator role with their user name as source identity and session name (the roles' trust
policies require both and tie them together), so
`arn:aws:sts::<acct>:assumed-role/<FinanceRole>/alice` is alice holding the finance role. The
request context carries `userArn`, `userId` and `callerId`, not the source identity: the person
is the session name, which must be a canonical user name (`loyalty.kernel.identity`).
Routes:
  GET  /closes                      all closes and their status
  GET  /approvals                   closes awaiting a finance decision
  GET  /closes/{period}             proposal summary, status and audit log
  POST /closes                      {"period": "2026-10", "rerun": false} start a manual close
  POST /closes/{period}/approve     {"run": "...", "digest": "...", "comment": "...", "exclude": ["P00042"]}
                                    (the run and proposal digest finance was shown)
  POST /closes/{period}/reject      {"comment": "...", "run": "..."}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.close.approvals import require_finance, require_operator
from loyalty.close.runs import CloseError
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller, NotAPerson, session_caller
from loyalty.settings import Settings
from loyalty.wiring import Container
from pydantic import BaseModel, Field, ValidationError

logger = Logger(service="approvals")
tracer = Tracer(service="approvals")
app = APIGatewayHttpResolver()
container = Container(Settings.from_env())


class StartBody(BaseModel):
    period: str
    rerun: bool = False


class ApproveBody(BaseModel):
    run: str = Field(max_length=64)  # what finance was shown (`loyalty approvals show`)
    digest: str = Field(max_length=128)
    comment: str = Field(default="", max_length=2000)
    exclude: list[str] = Field(default_factory=list, max_length=10000)


class RejectBody(BaseModel):
    comment: str = Field(max_length=2000)
    run: str | None = Field(default=None, max_length=64)


def caller() -> Caller:
    """The person and roles of the IAM identity API Gateway verified (see the module docstring)."""
    ctx = app.current_event.request_context.authorizer
    iam = ctx.iam if ctx else None
    s = container.settings
    roles = {n: r for n, r in ((s.finance_role_name, FINANCE), (s.operator_role_name, OPERATOR)) if n}
    try:
        return session_caller((iam.user_arn if iam else "") or "", (iam.user_id if iam else "") or "", roles)
    except NotAPerson as exc:
        raise CloseError(str(exc), 403) from None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@app.exception_handler(CloseError)  # type: ignore[untyped-decorator]
def refused(exc: CloseError) -> Response[Any]:
    logger.info("refused", extra={"reason": str(exc), "status": exc.status})
    return Response(exc.status, content_types.APPLICATION_JSON, {"error": str(exc)})


@app.exception_handler(ValidationError)  # type: ignore[untyped-decorator]
def invalid(exc: ValidationError) -> Response[Any]:
    return Response(
        400,
        content_types.APPLICATION_JSON,
        {"error": "invalid request body", "details": exc.errors(include_url=False)},
    )


@app.get("/closes")
def list_closes() -> dict[str, Any]:
    return {"closes": [m.to_json() for m in container.approvals().closes(caller())]}


@app.get("/approvals")
def pending() -> dict[str, Any]:
    return {"approvals": [m.to_json() for m in container.approvals().pending(caller())]}


@app.get("/closes/<period>")
def show(period: str) -> dict[str, Any]:
    return container.approvals().show(caller(), period).to_json()


@app.post("/closes")
def start() -> dict[str, Any]:
    who = caller()  # who is asking, and may they, comes before what they ask
    require_operator(who)
    body = StartBody.model_validate(app.current_event.json_body or {})
    result = container.close().start(container.workflow(), body.period, who, body.rerun, now()).to_json()
    logger.info("close start", extra={"user": who.user, **result})
    return result


@app.post("/closes/<period>/approve")
def approve(period: str) -> dict[str, Any]:
    who = caller()  # who is asking, and may they, comes before what they ask
    require_finance(who)
    body = ApproveBody.model_validate(app.current_event.json_body or {})
    result = (
        container.approvals()
        .approve(who, period, body.comment, body.exclude, now(), run=body.run, digest=body.digest)
        .to_json()
    )
    logger.info(
        "approved",
        extra={"user": who.user, "period": period, "status": result["status"], "excluded": len(body.exclude)},
    )
    return result


@app.post("/closes/<period>/reject")
def reject(period: str) -> dict[str, Any]:
    who = caller()  # who is asking, and may they, comes before what they ask
    require_finance(who)
    body = RejectBody.model_validate(app.current_event.json_body or {})
    result = container.approvals().reject(who, period, body.comment, run=body.run).to_json()
    logger.info("rejected", extra={"user": who.user, "period": period})
    return result


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
