"""Notifications the sandbox would have sent (email / SMS with the verification link).

PingOne sends the link itself when a transaction is created with `sendNotification`; the
sandbox sends nothing and keeps the messages here, readable with `Sandbox.notifications()` or
`GET /admin/notifications`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .state import iso, new_id

if TYPE_CHECKING:
    from .box import Box

__all__ = ["notifications", "record_notifications"]


def record_notifications(sandbox: Box, tx: dict[str, Any], link: str) -> None:
    """Keep one message per channel in the transaction's `sendNotification`."""
    for channel, recipient in (tx.get("sendNotification") or {}).items():
        message = {
            "id": new_id(),
            "environment": {"id": tx["env"]},
            "verifyTransaction": {"id": tx["id"]},
            "channel": channel.upper(),
            "to": recipient,
            "message": f"Verify your identity: {link} (code {tx['code']})",
            "link": link,
            "createdAt": sandbox.now(),
        }
        sandbox.store.put("notification", message["id"], message)


def notifications(sandbox: Box, env_id: str | None = None) -> list[dict[str, Any]]:
    """The kept messages, oldest first, optionally of one environment."""
    found = [
        {**n, "createdAt": iso(n["createdAt"])}
        for n in sandbox.store.values("notification")
        if env_id is None or n["environment"]["id"] == env_id
    ]
    return sorted(found, key=lambda n: n["createdAt"])
