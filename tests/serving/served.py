"""Serving tests' helpers: a flow API server in a thread on 127.0.0.1, the SDK's requests."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from flowengine_connectors.pingone_sandbox import free_port

from flowengine import VirtualClock

# private: the server's parts are built here the way `flowengine serve` builds them
from flowengine._serving.app import FlowServer

ROOT = Path(__file__).resolve().parents[2]
FORM_FLOW = str(ROOT / "flows" / "examples" / "form.yaml")
REGISTRATION_FLOW = str(ROOT / "flows" / "registration.yaml")
REDIRECT = "http://127.0.0.1:3000/callback"


class Served:
    """A FlowServer on uvicorn in a background thread: `.url`, `.client`, `.server`."""

    def __init__(self, server: FlowServer, clock: VirtualClock | None) -> None:
        self.server = server
        self.clock = clock
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            server.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.uvicorn = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.uvicorn.run, daemon=True)
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.uvicorn.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "no server"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.uvicorn.should_exit = True
        self.thread.join(timeout=10)

    @property
    def env(self) -> str:
        return self.server.config.environment


class PKCE:
    def __init__(self) -> None:
        self.verifier = secrets.token_urlsafe(64)
        digest = hashlib.sha256(self.verifier.encode()).digest()
        self.challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        self.state = secrets.token_hex(16)


SDK_HEADERS = {"x-requested-with": "ping-sdk", "x-requested-platform": "javascript"}


def authorize(served: Served, flow: str, pkce: PKCE, **extra: str) -> httpx.Response:
    """The SDK's start(): discovery, then authorize with pi.flow."""
    well_known = served.client.get(f"/{served.env}/as/.well-known/openid-configuration").json()
    params = {
        "client_id": "flowengine-dev",
        "response_type": "code",
        "scope": "openid profile",
        "redirect_uri": REDIRECT,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": pkce.state,
        "response_mode": "pi.flow",
        "acr_values": flow,
        **extra,
    }
    return served.client.get(
        well_known["authorization_endpoint"],
        params=params,
        headers={**SDK_HEADERS, "content-type": "application/x-www-form-urlencoded"},
    )


def submit(
    served: Served,
    step: dict[str, Any],
    form_data: dict[str, Any] | None = None,
    *,
    event: str = "submit",
    action: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    """The SDK's next() / flow({action}) / poll: POST to _links.next.href with the headers."""
    keys = [f["key"] for f in step["form"]["components"]["fields"] if f["type"] == "SUBMIT_BUTTON"]
    data: dict[str, Any] = {
        "actionKey": action if action is not None else (keys[0] if keys else "")
    }
    if form_data is not None:
        data["formData"] = form_data
    body = {
        "id": step["id"],
        "eventName": step.get("eventName", "continue"),
        "interactionId": step["interactionId"],
        "parameters": {"eventType": event, "data": data},
    }
    headers = {
        **SDK_HEADERS,
        "interactionId": step["interactionId"],
        "interactionToken": token if token is not None else step["interactionToken"],
    }
    return served.client.post(step["_links"]["next"]["href"], json=body, headers=headers)
