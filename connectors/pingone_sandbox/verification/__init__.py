"""The sandbox's verification domain: pure, deterministic decisions on submitted documents.

The sandbox's HTTP layer stores documents and calls these functions; nothing here does I/O
except `personas.make_documents`. The rules are listed in docs/sandbox.md ("Decision rules").
"""

from __future__ import annotations

from ._jpeg import DocumentError
from .decide import Evaluation, evaluate, missing_documents
from .documents import SubmittedDocument, accepted_types, check_document
from .images import background_request, qr_png, replace_background
from .matching import MatchInputError, identity_record_matching

__all__ = [
    "DocumentError",
    "Evaluation",
    "MatchInputError",
    "SubmittedDocument",
    "accepted_types",
    "background_request",
    "check_document",
    "evaluate",
    "identity_record_matching",
    "missing_documents",
    "qr_png",
    "replace_background",
]
