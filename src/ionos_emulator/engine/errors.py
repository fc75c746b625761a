"""Errors in the IONOS envelope: {"httpStatus": n, "messages": [{"errorCode": "<string>", "message": ".."}]}."""
from __future__ import annotations

# errorCode strings as the real Cloud API uses them (api-behaviour.md §5.1).
CODE_VALIDATION = "100"
CODE_CONFLICT = "200"
CODE_NOT_FOUND = "309"
CODE_UNAUTHORIZED = "315"
CODE_FORBIDDEN = "451"


class ApiError(Exception):
    """Raised anywhere in a handler; the gateway turns it into the error envelope. Nothing is committed."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or {
            400: CODE_VALIDATION, 401: CODE_UNAUTHORIZED, 403: CODE_FORBIDDEN, 404: CODE_NOT_FOUND,
            405: "305", 415: "306", 422: CODE_VALIDATION, 429: "429", 501: "501",
        }.get(status, str(status))
        self.headers = headers or {}

    def body(self) -> dict:
        return {"httpStatus": self.status, "messages": [{"errorCode": self.code, "message": self.message}]}


def not_found(what: str = "Resource does not exist") -> ApiError:
    return ApiError(404, what, CODE_NOT_FOUND)


def unprocessable(message: str, code: str = CODE_VALIDATION) -> ApiError:
    """A business-rule or validation failure, prefixed the way the Cloud API prefixes them."""
    return ApiError(422, message if message.startswith("[VDC-") else f"[VDC-5-1000] {message}", code)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", CODE_UNAUTHORIZED)


def forbidden(message: str = "Access Denied") -> ApiError:
    return ApiError(403, message, CODE_FORBIDDEN)
