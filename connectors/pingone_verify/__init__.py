"""The PingOne Verify connector: the 19 capabilities of the DaVinci PingOne Verify connector.

Each capability maps its documented inputs to one PingOne Verify API call (more when it reads
list pages, looks a policy or selfie up first, or is Read User Data; none for Create Response
for External Client) and returns the documented output:
`<key>`, `rawResponse`, `headers` and `statusCode`. Every capability's outcomes are `success`
and `error`; a flow branches on a transaction's status with a switch on
`nodes.<read>.output.transaction.transactionStatus.status` (SUCCESS / FAIL / anything else
means "not decided yet": show the QR code again), as flows/registration.yaml does.
"""

from __future__ import annotations

from typing import Any

from flowengine_connectors.pingone_verify import (
    _documents,
    _policies,
    _transactions,
    _verified_data,
)
from flowengine_connectors.pingone_verify._common import connector

from flowengine import hookimpl

__all__ = ["connector", "register_connectors"]

# Importing the modules added their capabilities to `connector`; keep the names referenced.
_MODULES = (_documents, _policies, _transactions, _verified_data)


@hookimpl
def register_connectors(register: Any) -> None:
    """Register the `pingone_verify` connector."""
    register(connector)
