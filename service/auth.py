"""Bearer tokens of the service's guarded endpoints (admin reload, feedback).

Each endpoint has its own token setting; a token that is unset disables its endpoint (403), a
missing or wrong `Authorization: Bearer` header is a 401 with `WWW-Authenticate: Bearer` and a
message naming the header to send. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import SecretStr


class Refusal(StrEnum):
    """Why a request to a guarded endpoint was refused (safe to log: no token value)."""

    DISABLED = "disabled"
    MISSING_TOKEN = "missing_token"  # noqa: S105 - a reason, not a secret
    WRONG_TOKEN = "wrong_token"  # noqa: S105 - a reason, not a secret


def refusal(
    configured: SecretStr | None, credentials: HTTPAuthorizationCredentials | None
) -> Refusal | None:
    """Why `credentials` do not match the `configured` token, or None when they do."""
    expected = configured.get_secret_value() if configured else ""
    if not expected:
        return Refusal.DISABLED
    if credentials is None or not credentials.credentials:
        return Refusal.MISSING_TOKEN
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        return Refusal.WRONG_TOKEN
    return None


def refused(reason: Refusal, variable: str, endpoint: str) -> HTTPException:
    """The answer to a refused request: 403 when the endpoint is disabled, else 401."""
    if reason is Refusal.DISABLED:
        return HTTPException(403, f"{endpoint} is disabled: the operator must set {variable}")
    problem = "no bearer token" if reason is Refusal.MISSING_TOKEN else "wrong bearer token"
    return HTTPException(
        401,
        f"{problem}: send header Authorization: Bearer <{variable}>",
        {"WWW-Authenticate": "Bearer"},
    )
