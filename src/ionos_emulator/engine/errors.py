"""The one error vocabulary of every API, answered in the IONOS envelope
{"httpStatus": n, "messages": [{"errorCode": "<string>", "message": ".."}]}.

Handlers raise what went wrong (`invalid`, `unprocessable`, `not_found`, `conflict`, `forbidden`,
`limit_exceeded`, ...); the API's `ErrorStyle` decides how it is spelled: the Cloud API prefixes its
messages with a "[VDC-x-y]" code and uses its own numeric errorCodes, the product APIs do neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# errorCode strings as the real Cloud API uses them (api-behaviour.md §5.1).
CODE_VALIDATION = "100"
CODE_CONFLICT = "200"
CODE_NOT_FOUND = "309"
CODE_UNAUTHORIZED = "315"
CODE_FORBIDDEN = "451"

_COMMON_CODES = {
    400: CODE_VALIDATION,
    401: CODE_UNAUTHORIZED,
    403: CODE_FORBIDDEN,
    404: CODE_NOT_FOUND,
    405: "305",
    415: "306",
    422: CODE_VALIDATION,
    429: "429",
    501: "501",
}


@dataclass(frozen=True)
class ErrorStyle:
    """How one API spells an error: errorCode per status, and whether messages carry their [VDC-x-y] code."""

    codes: Mapping[int, str] = field(default_factory=dict)
    vdc_prefix: bool = False
    # OpenAI's {"error": {message, type, param, code}} instead of the IONOS envelope (the AI Model Hub's
    # OpenAI-compatible API, which OpenAI clients read)
    openai: bool = False


CLOUD = ErrorStyle(_COMMON_CODES, vdc_prefix=True)
PRODUCT = ErrorStyle({**_COMMON_CODES, 404: "404", 409: "409"})
# OpenAI's error types by status (its published API reference)
OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
}
OPENAI = ErrorStyle({**_COMMON_CODES, 404: "model_not_found"}, openai=True)


class ApiError(Exception):
    """Raised anywhere in a handler; the gateway turns it into the error envelope. Nothing is committed."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        vdc: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.explicit_code = code
        self.vdc = vdc  # the Cloud API's "[VDC-x-y]" code, shown only where the API's style has one
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def code(self) -> str:
        return self.code_in(CLOUD)

    def code_in(self, style: ErrorStyle) -> str:
        return self.explicit_code or style.codes.get(self.status) or str(self.status)

    def text_in(self, style: ErrorStyle) -> str:
        if style.vdc_prefix and self.vdc and not self.message.startswith("[VDC-"):
            return f"[{self.vdc}] {self.message}"
        return self.message

    def body(self, style: ErrorStyle = CLOUD) -> dict[str, Any]:
        if style.openai:
            kind = OPENAI_TYPES.get(self.status, "invalid_request_error" if self.status < 500 else "server_error")
            return {"error": {"message": self.message, "type": kind, "param": None, "code": self.explicit_code}}
        return {
            "httpStatus": self.status,
            "messages": [{"errorCode": self.code_in(style), "message": self.text_in(style)}],
        }


def bad_request(message: str) -> ApiError:
    """A request the API cannot read at all (no body, not JSON)."""
    return ApiError(400, message)


def invalid(attr: str, message: str, *, vdc: str = "VDC-1-1") -> ApiError:
    """A 422 that names the attribute, as every API answers a bad value."""
    return ApiError(422, f"attribute '{attr}' {message}", vdc=vdc)


def unprocessable(message: str, code: str = CODE_VALIDATION, vdc: str = "VDC-5-1000") -> ApiError:
    """A business rule the request breaks (a 422 that is not about one attribute's form)."""
    return ApiError(422, message, code, vdc=vdc)


def limit_exceeded(message: str, vdc: str = "VDC-5-1005") -> ApiError:
    """A contract limit or product quota the request would exceed."""
    return ApiError(422, message, vdc=vdc)


def not_found(what: str = "Resource does not exist") -> ApiError:
    return ApiError(404, what)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", CODE_UNAUTHORIZED)


def forbidden(message: str = "Access Denied") -> ApiError:
    return ApiError(403, message, CODE_FORBIDDEN)


def too_many(message: str, retry_after: int) -> ApiError:
    """A 429: the caller must wait `retry_after` seconds (Retry-After) before trying again."""
    return ApiError(429, message, headers={"Retry-After": str(retry_after)})


def unavailable(message: str = "The service is temporarily unavailable; try again shortly") -> ApiError:
    """A 503: the emulator's database is away; nothing was changed, and the same request can be retried."""
    return ApiError(503, message, "503", headers={"Retry-After": "1"})


def not_implemented(message: str) -> ApiError:
    return ApiError(501, message)


def internal_error() -> ApiError:
    """An exception nobody expected: a 500, still in the envelope."""
    return ApiError(500, "An unexpected error occurred", "500", vdc="VDC-5-0")


def too_large(limit: int) -> ApiError:
    """A request body over the emulator's limit (--max-body-bytes), refused before it is read."""
    return ApiError(413, f"The request body is larger than the limit of {limit} bytes", "413")
