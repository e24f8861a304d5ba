"""Finance approvals and manual closes over an API Gateway HTTP API with IAM authorization.

The caller is the IAM identity API Gateway verified (SigV4): people assume the finance or the
operator role with their own user name as the session name, so
`arn:aws:sts::<acct>:assumed-role/<FinanceRole>/alice` is alice holding the finance role.
Routes:
  GET  /closes                      all closes and their status
  GET  /approvals                   closes awaiting a finance decision
  GET  /closes/{period}             proposal summary, status and audit log
  POST /closes                      {"period": "2026-10", "rerun": false} start a manual close
  POST /closes/{period}/approve     {"comment": "...", "exclude": ["P00042"]}
  POST /closes/{period}/reject      {"comment": "..."}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.close.runs import CloseError
from loyalty.kernel.identity import FINANCE, OPERATOR, Caller
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
    comment: str = Field(default="", max_length=2000)
    exclude: list[str] = Field(default_factory=list, max_length=10000)


class RejectBody(BaseModel):
    comment: str = Field(max_length=2000)


def caller() -> Caller:
    """Identity from the IAM authorizer context; roles from the assumed role's name."""
    ctx = app.current_event.request_context.authorizer
    arn = (ctx.iam.user_arn if ctx and ctx.iam else "") or ""
    parts = arn.split(":", 5)[-1].split("/") if arn.startswith("arn:") else []
    if len(parts) != 3 or parts[0] != "assumed-role":
        raise UnauthorizedError("sign the request with the finance or operator role's credentials")
    role, user = parts[1], parts[2]
    s = container.settings
    roles = {FINANCE} if role == s.finance_role_name else set()
    roles |= {OPERATOR} if role == s.operator_role_name else set()
    return Caller(user, frozenset(roles))


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
    body = StartBody.model_validate(app.current_event.json_body or {})
    who = caller()
    result = container.close().start(container.workflow(), body.period, who, body.rerun, now()).to_json()
    logger.info("close start", extra={"user": who.user, **result})
    return result


@app.post("/closes/<period>/approve")
def approve(period: str) -> dict[str, Any]:
    body = ApproveBody.model_validate(app.current_event.json_body or {})
    who = caller()
    result = container.approvals().approve(who, period, body.comment, body.exclude, now()).to_json()
    logger.info("approved", extra={"user": who.user, "period": period, "excluded": len(body.exclude)})
    return result


@app.post("/closes/<period>/reject")
def reject(period: str) -> dict[str, Any]:
    body = RejectBody.model_validate(app.current_event.json_body or {})
    who = caller()
    result = container.approvals().reject(who, period, body.comment).to_json()
    logger.info("rejected", extra={"user": who.user, "period": period})
    return result


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
