"""The plain JSON API as an OpenAPI 3.1 document (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}

_PENDING = {
    "type": ["object", "null"],
    "description": "What the run waits for; null unless status is waiting.",
    "required": ["node", "kind", "data", "token"],
    "properties": {
        "node": {"type": "string"},
        "visit": {"type": "integer"},
        "kind": {"type": "string", "description": "form, qr, message (or a plugin's kind)"},
        "data": {"type": "object"},
        "poll_interval": {"type": ["number", "null"]},
        "since": {"type": "number"},
        "token": {
            "type": "string",
            "description": "The interaction token: continue and cancel need it; bound to this "
            "run and this step.",
        },
    },
}

_RUN = {
    "type": "object",
    "required": ["id", "flow", "status", "pending", "result", "error"],
    "properties": {
        "id": {"type": "string"},
        "flow": {"type": "string"},
        "status": {"type": "string", "enum": ["running", "waiting", "completed", "failed"]},
        "pending": {"$ref": "#/components/schemas/Pending"},
        "result": {},
        "error": {"type": ["object", "null"]},
        "created_at": {"type": "number"},
        "updated_at": {"type": "number"},
        "links": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _body(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A required JSON object body with these properties and no others."""
    schema = {
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
    }
    return {"required": True, "content": _json(schema)}


def _responses(ok: str, ok_status: str = "200", *errors: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        ok_status: {"description": ok, "content": _json({"$ref": "#/components/schemas/Run"})}
    }
    for status in errors:
        out[status] = {
            "description": _WHY[status],
            "content": _json({"$ref": "#/components/schemas/Error"}),
        }
    return out


_WHY = {
    "400": "A malformed body, unknown fields, invalid inputs or an unknown client",
    "401": "The token is not the run's current one (replayed, forged, another run's)",
    "403": "The client may not start this flow",
    "404": "No such flow or run",
    "409": "The run ended, or its step was already continued",
    "413": "The body is over the size limit",
    "429": "The client started too many runs in the last minute",
}

_RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the plain API on `server_url`."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "flowengine flow API",
            "version": "1",
            "description": "Start runs of the served flows, read them, continue them with "
            "responses, cancel them. The pi.flow protocol serves the same runs.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/flows": {
                "get": {
                    "operationId": "listFlows",
                    "summary": "The served flows",
                    "responses": {
                        "200": {
                            "description": "The flows",
                            "content": _json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "flows": {"type": "array", "items": {"type": "object"}}
                                    },
                                }
                            ),
                        }
                    },
                }
            },
            "/api/runs": {
                "post": {
                    "operationId": "startRun",
                    "summary": "Start a run of a flow with inputs",
                    "requestBody": _body(
                        ["flow"],
                        {
                            "flow": {"type": "string"},
                            "inputs": {"type": "object"},
                            "client_id": {"type": "string"},
                        },
                    ),
                    "responses": _responses(
                        "The run, as far as it got", "201", "400", "403", "404", "413", "429"
                    ),
                }
            },
            "/api/runs/{run_id}": {
                "get": {
                    "operationId": "readRun",
                    "summary": "A run: status, pending interaction, result",
                    "parameters": [_RUN_ID],
                    "responses": _responses("The run", "200", "404"),
                }
            },
            "/api/runs/{run_id}/continue": {
                "post": {
                    "operationId": "continueRun",
                    "summary": "Answer the pending interaction",
                    "parameters": [_RUN_ID],
                    "requestBody": _body(
                        ["token"],
                        {
                            "token": {"type": "string"},
                            "response": {
                                "type": "object",
                                "description": "Field values (plus action for another "
                                "button), or {} for a QR code or a message",
                            },
                        },
                    ),
                    "responses": _responses(
                        "The run after the response", "200", "400", "401", "404", "409", "413"
                    ),
                }
            },
            "/api/runs/{run_id}/cancel": {
                "post": {
                    "operationId": "cancelRun",
                    "summary": "Cancel a waiting run",
                    "parameters": [_RUN_ID],
                    "requestBody": _body(["token"], {"token": {"type": "string"}}),
                    "responses": _responses("The cancelled run", "200", "400", "401", "404", "409"),
                }
            },
        },
        "components": {"schemas": {"Run": _RUN, "Pending": _PENDING, "Error": _ERROR}},
    }
