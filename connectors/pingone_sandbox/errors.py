"""PingOne's error envelope: the exception the sandbox's routes raise and how it is rendered."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from starlette.responses import JSONResponse

__all__ = [
    "ApiError",
    "access_failed",
    "check_range",
    "ensure_unique",
    "error_response",
    "invalid_data",
    "invalid_request",
    "not_found",
    "request_limited",
]

INVALID_DATA_MESSAGE = (
    "The request could not be completed. One or more validation errors were in the request."
)
NOT_FOUND_MESSAGE = "The request could not be completed. The requested resource was not found."


class ApiError(Exception):
    """An error answered in PingOne's envelope: `{id, code, message, details[]}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        super().__init__(f"{status} {code}: {message}")

    def body(self) -> dict[str, Any]:
        """The JSON envelope, with a fresh correlation id."""
        body: dict[str, Any] = {"id": str(uuid.uuid4()), "code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


def error_response(error: ApiError) -> JSONResponse:
    """Render an ApiError; the envelope id doubles as the `Correlation-Id` header."""
    body = error.body()
    headers = {"Correlation-Id": body["id"], **error.headers}
    return JSONResponse(body, status_code=error.status, headers=headers)


def invalid_data(target: str, message: str, code: str = "INVALID_VALUE") -> ApiError:
    """400 INVALID_DATA with one detail naming the offending field (`target`)."""
    detail = {"code": code, "target": target, "message": message}
    return ApiError(400, "INVALID_DATA", INVALID_DATA_MESSAGE, [detail])


def check_range(value: Any, low: int, high: int, target: str) -> None:
    """400 INVALID_DATA (OUT_OF_RANGE) on `target` unless `value` is an integer in [low, high]."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid_data(target, f"must be an integer from {low} to {high}", "OUT_OF_RANGE")


def ensure_unique(
    items: Iterable[dict[str, Any]], key: str, value: str, own_id: str | None
) -> None:
    """400 UNIQUENESS_VIOLATION on `key` when another item has `value` there (any case)."""
    for other in items:
        if other[key].casefold() == value.casefold() and other["id"] != own_id:
            # The field, never the value (an email, a username), as PingOne words it.
            message = f"{key} is unique and cannot have a value that is already in use"
            raise invalid_data(key, message, "UNIQUENESS_VIOLATION")


def invalid_request(message: str, status: int = 400) -> ApiError:
    """400 (or 405, 415) INVALID_REQUEST: the request itself is malformed."""
    return ApiError(status, "INVALID_REQUEST", message)


def not_found(message: str = NOT_FOUND_MESSAGE) -> ApiError:
    """404 NOT_FOUND."""
    return ApiError(404, "NOT_FOUND", message)


def access_failed(message: str, detail_code: str = "INVALID_TOKEN") -> ApiError:
    """401 ACCESS_FAILED for a missing, expired or unknown bearer token."""
    detail = {"code": detail_code, "message": message}
    return ApiError(
        401, "ACCESS_FAILED", "The request could not be completed. " + message, [detail]
    )


def request_limited(retry_after: int) -> ApiError:
    """429 REQUEST_LIMITED with `Retry-After` in seconds."""
    detail = {
        "code": "LIMIT_EXCEEDED",
        "message": "The rate limit was exceeded; retry after the given number of seconds.",
        "innerError": {"retryAfter": retry_after},
    }
    return ApiError(
        429,
        "REQUEST_LIMITED",
        "The request could not be completed. Too many requests.",
        [detail],
        {"Retry-After": str(retry_after)},
    )
