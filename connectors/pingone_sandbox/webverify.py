"""The user's side: the QR image, the web verification page and the endpoints it posts to.

Mirrors PingOne's web app: `webVerificationUrl` opens `/verify-webapp/index.html?txnid=...&url=
...&code=...`; the page talks to `<url>/<txnid>` with the 6-digit code instead of a bearer token.
"""

from __future__ import annotations

import secrets
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .documents import submit_document
from .errors import ApiError, access_failed, not_found
from .http import base_url, json_body, json_response
from .machine import (
    TERMINAL,
    accepted_types,
    missing,
    process,
    record_event,
    transaction_status,
)
from .state import iso
from .transactions import WEB_PATH, policy_of, web_urls

if TYPE_CHECKING:
    from .box import Box

__all__ = ["MAX_CODE_ATTEMPTS", "ROUTES"]

_STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}


def _transaction(sandbox: Box, request: Request) -> dict[str, Any]:
    tx = sandbox.store.get("tx", request.path_params["txId"])
    if tx is None:
        raise not_found("This verification link is not valid (unknown transaction).")
    return tx


MAX_CODE_ATTEMPTS = 5
"""Wrong verification codes a transaction's link takes before it is locked for good."""


def _check_code(sandbox: Box, tx: dict[str, Any], code: Any) -> None:
    """Accept the right code; count a wrong one; refuse everything once the link is locked."""
    failures = int(tx.get("codeFailures", 0))
    if failures >= MAX_CODE_ATTEMPTS:
        raise _locked()
    if isinstance(code, str) and secrets.compare_digest(code.encode(), tx["code"].encode()):
        return
    failures += 1
    tx["codeFailures"] = failures
    sandbox.store.put("tx", tx["id"], tx)
    if failures >= MAX_CODE_ATTEMPTS:
        raise _locked()
    left = MAX_CODE_ATTEMPTS - failures
    raise access_failed(
        f"The verification code does not match this transaction; {left} more wrong "
        f"code{'s' if left != 1 else ''} will lock the link",
        "INVALID_VALUE",
    )


def _locked() -> ApiError:
    """403: too many wrong codes; even the right one is refused now."""
    message = (
        f"This verification link is locked after {MAX_CODE_ATTEMPTS} wrong verification codes; "
        "start a new verification transaction to get a new link and code"
    )
    detail = {"code": "TOO_MANY_ATTEMPTS", "target": "code", "message": message}
    return ApiError(
        403, "ACCESS_FAILED", "The request could not be completed. " + message, [detail]
    )


def _state(sandbox: Box, tx: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: status, documents needed and accepted, redirect."""
    policy = policy_of(sandbox, tx)
    status = transaction_status(sandbox, tx, policy)
    body: dict[str, Any] = {
        "id": tx["id"],
        "transactionStatus": status,
        "acceptedDocuments": accepted_types(tx, policy),
        "expiresAt": iso(tx["expiresAt"]),
    }
    if status["status"] not in TERMINAL and tx.get("final") is None:
        body["missingDocuments"] = missing(sandbox, tx, policy)
    if tx.get("redirect"):
        body["redirect"] = tx["redirect"]
    return body


def _client(request: Request) -> dict[str, str]:
    """The END_USER_CLIENT source of a request: IP address and user agent."""
    return {
        "ipAddress": request.client.host if request.client else "127.0.0.1",
        "userAgent": request.headers.get("user-agent", ""),
    }


async def qr(sandbox: Box, request: Request) -> Response:
    """GET .../{txId}/qr: a PNG QR code of the web verification URL."""
    from .verification import qr_png

    tx = _transaction(sandbox, request)
    url = web_urls(base_url(request), tx)["webVerificationUrl"]
    return Response(qr_png(url), media_type="image/png", headers={"Cache-Control": "no-store"})


async def read_state(sandbox: Box, request: Request) -> Response:
    """GET .../{txId}?code=: what the page shows."""
    tx = _transaction(sandbox, request)
    _check_code(sandbox, tx, request.query_params.get("code"))
    return json_response(_state(sandbox, tx))


async def _posted(sandbox: Box, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The transaction and the JSON body of a POST from the page, its code checked."""
    tx = _transaction(sandbox, request)
    body = await json_body(request)
    _check_code(sandbox, tx, body.get("code"))
    return tx, body


async def begin(sandbox: Box, request: Request) -> Response:
    """The user pressed "Start" on the web page: INITIATED, and the client is recorded."""
    tx, _ = await _posted(sandbox, request)
    if tx.get("initiatedAt") is None:
        tx["initiatedAt"] = sandbox.now()
        record_event(tx, tx["initiatedAt"], "VERIFICATION_STARTED")
    client = _client(request)
    if client not in tx["clients"]:
        tx["clients"].append(client)
    sandbox.store.put("tx", tx["id"], tx)
    return json_response(_state(sandbox, tx))


async def upload(sandbox: Box, request: Request) -> Response:
    """A captured document; when the last required one arrives the data is processed."""
    tx, body = await _posted(sandbox, request)
    if tx.get("initiatedAt") is None:
        raise ApiError(400, "REQUEST_FAILED", "Begin the verification before sending documents.")
    submit_document(sandbox, tx, body, "END_USER", _client(request))
    policy = policy_of(sandbox, tx)
    if not missing(sandbox, tx, policy):
        process(sandbox, tx, policy)
    return json_response(_state(sandbox, tx), 201)


async def static(sandbox: Box, request: Request) -> Response:
    """GET /verify-webapp/{name}: the page's HTML and script."""
    name = request.path_params["name"]
    if name not in _STATIC:
        raise not_found()
    return Response(_static_text(name), media_type=_STATIC[name])


@cache
def _static_text(name: str) -> str:
    """A file of the page (read once: package resources do not change while serving)."""
    return resources.files(__package__).joinpath("webapp", name).read_text(encoding="utf-8")


ROUTES = [
    (WEB_PATH + "/{txId}/qr", qr, ["GET"]),
    (WEB_PATH + "/{txId}", read_state, ["GET"]),
    (WEB_PATH + "/{txId}/sessions", begin, ["POST"]),
    (WEB_PATH + "/{txId}/documents", upload, ["POST"]),
    ("/verify-webapp/{name}", static, ["GET"]),
]
