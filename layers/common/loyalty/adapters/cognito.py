"""Signing in to the user pool (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH) for the portal's
`/auth/*` routes: the browser never talks to Cognito itself, so the pages work the same behind
API Gateway on AWS and behind the local cloud's HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3


class SignInRefused(Exception):
    """Wrong user name or password, or a refresh token that is no longer valid (one message for
    both: which of the two was wrong is not revealed)."""


class SignInThrottled(Exception):
    pass


class SignInChallenge(Exception):
    """The pool asks for more than a password (a new password, MFA): `challenge` names it."""

    def __init__(self, challenge: str) -> None:
        super().__init__(challenge)
        self.challenge = challenge


@dataclass(frozen=True)
class Tokens:
    id_token: str
    expires_in: int
    refresh_token: str | None


class UserPoolSignIn:
    def __init__(self, client_id: str, region: str, endpoint_url: str | None = None) -> None:
        self.client_id = client_id
        self._idp: Any = boto3.client("cognito-idp", region_name=region, endpoint_url=endpoint_url)

    def _auth(self, flow: str, params: dict[str, str]) -> Tokens:
        idp = self._idp
        try:
            out = idp.initiate_auth(ClientId=self.client_id, AuthFlow=flow, AuthParameters=params)
        except (idp.exceptions.NotAuthorizedException, idp.exceptions.UserNotFoundException):
            raise SignInRefused("wrong user name or password") from None
        except idp.exceptions.TooManyRequestsException:
            raise SignInThrottled("too many sign-in attempts: try again in a minute") from None
        if "ChallengeName" in out:
            raise SignInChallenge(str(out["ChallengeName"]))
        res = out["AuthenticationResult"]
        return Tokens(str(res["IdToken"]), int(res.get("ExpiresIn", 3600)), res.get("RefreshToken"))

    def sign_in(self, username: str, password: str) -> Tokens:
        return self._auth("USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password})

    def refresh(self, refresh_token: str) -> Tokens:
        return self._auth("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})
