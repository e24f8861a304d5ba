"""Sign-in for the portal's pages: `POST /auth/login` {username, password} and `POST /auth/refresh`
{refresh_token} answer the user pool's id token (the bearer token of every other route; the
HTTP API's JWT authorizer verifies it). Public routes: the user pool is the authority, and a
wrong name or password gets one 401 whichever was wrong."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty.adapters.cognito import SignInChallenge, SignInRefused, SignInThrottled, Tokens, UserPoolSignIn
from loyalty.settings import Settings
from pydantic import BaseModel, Field

logger = Logger(service="auth")
app = APIGatewayHttpResolver(enable_validation=True)
settings = Settings.from_env()
pool = UserPoolSignIn(settings.user_pool_client_id, settings.region, settings.endpoint_url)


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


class RefreshBody(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenAnswer(BaseModel):
    id_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    refresh_token: str | None = None


class AuthError(BaseModel):
    error: str


def _answer(tokens: Tokens) -> TokenAnswer:
    return TokenAnswer(
        id_token=tokens.id_token, expires_in=tokens.expires_in, refresh_token=tokens.refresh_token
    )


@app.exception_handler(SignInRefused)  # type: ignore[untyped-decorator]
def refused(exc: SignInRefused) -> Response[Any]:
    return Response(401, content_types.APPLICATION_JSON, {"error": str(exc)})


@app.exception_handler(SignInThrottled)  # type: ignore[untyped-decorator]
def throttled(exc: SignInThrottled) -> Response[Any]:
    return Response(429, content_types.APPLICATION_JSON, {"error": str(exc)})


@app.exception_handler(SignInChallenge)  # type: ignore[untyped-decorator]
def challenged(exc: SignInChallenge) -> Response[Any]:
    return Response(
        409,
        content_types.APPLICATION_JSON,
        {"error": f"the user pool asks for {exc.challenge}: finish it with your administrator"},
    )


@app.post(
    "/auth/login",
    responses={
        200: {"description": "signed in", "content": {"application/json": {"model": TokenAnswer}}},
        401: {
            "description": "wrong user name or password",
            "content": {"application/json": {"model": AuthError}},
        },
    },
)
def login(body: LoginBody) -> TokenAnswer:
    tokens = pool.sign_in(body.username, body.password)
    logger.info("signed in", extra={"user": body.username.lower()})
    return _answer(tokens)


@app.post(
    "/auth/refresh",
    responses={
        200: {"description": "a new id token", "content": {"application/json": {"model": TokenAnswer}}},
        401: {
            "description": "the refresh token is no longer valid",
            "content": {"application/json": {"model": AuthError}},
        },
    },
)
def refresh(body: RefreshBody) -> TokenAnswer:
    return _answer(pool.refresh(body.refresh_token))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
