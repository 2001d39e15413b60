"""document-review and account-maintenance run end to end, asserting what users and operators see.

Each test gets a fresh embedded sandbox (tests/flows/conftest.py); what the flows did to
PingOne (documents deleted or replaced, a user renamed or erased) is read back from the
sandbox's API, as an administrator would.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
from flow_helpers import RunFlow, admin_request, answers_of
from flowengine_connectors.pingone_sandbox import Sandbox, documents_for

from flowengine import Run

LICENCE = ["Driver License Front", "Driver License Back", "Driver License Code"]


def screens(run: Run, node: str) -> list[dict[str, Any]]:
    """What `node` showed each time it asked (the form's data: fields, values, errors)."""
    waiting = [e for e in run.trace if e["node"] == node and e["outcome"] == "waiting"]
    return [e["output"]["data"] for e in waiting]


def error_of(run: Run) -> dict[str, Any]:
    """The error a failed run ended with."""
    assert run.status == "failed" and run.error is not None, (run.status, run.path)
    return run.error


def persona_document(persona: str, doc_type: str) -> str:
    """A sandbox persona's document as a form would carry it (base64 or barcode text)."""
    value = dict(documents_for(persona))[doc_type]
    return value if isinstance(value, str) else base64.b64encode(value).decode("ascii")


async def api(sandbox: Sandbox, path: str) -> httpx.Response:
    """An administrator's GET on the sandbox's API (what the PingOne console would show)."""
    return await admin_request(sandbox, "GET", path)


def document_path(run: Run) -> str:
    """The API path of the run's transaction's documents."""
    user = run.nodes["create_user"]["output"]["user"]["id"]
    tx = run.nodes["create_verify_transaction"]["output"]["transaction"]["id"]
    return f"users/{user}/verifyTransactions/{tx}/documents"


# --- document-review ----------------------------------------------------------------------


async def test_document_review_success_deletes_the_mistake_and_replaces_the_selfie(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    run = await run_flow("document-review", "success")
    assert run.status == "completed", run.error
    result = run.result["result"]
    assert result["status"] == "VERIFIED"
    assert result["processed"] == [*LICENCE, "Selfie"]
    assert result["verifiedUserData"]["firstName"] == "JOHN"
    assert result["verifiedUserData"]["lastName"] == "DOE"
    assert set(result["checks"].values()) == {"SUCCESS"}

    # What the operator saw at each review: all five, without the passport, with the new selfie.
    reviews = screens(run, "review_documents")
    assert [[o["value"] for o in r["fields"][0]["options"]] for r in reviews] == [
        [*LICENCE, "Passport Front", "Selfie"],
        [*LICENCE, "Selfie"],
        [*LICENCE, "Selfie"],
    ]
    assert reviews[0]["description"].startswith(
        "Collected: Driver License Front (COLLECTED), Driver License Back (COLLECTED), "
        "Driver License Code (COLLECTED), Passport Front (COLLECTED), Selfie (COLLECTED)."
    )
    assert [s["title"] for s in screens(run, "document_decision")] == ["Passport Front", "Selfie"]

    # The applicant was asked for the selfie again, with the operator's note.
    [retake] = screens(run, "retake_document")
    assert retake["title"] == "Please send your Selfie again"
    assert retake["description"] == "This selfie is not of the person on the driver licence."
    assert retake["fields"][0]["label"] == "Selfie"

    # Update Collected Data kept the selfie's id and replaced its value with John's own selfie.
    selfie_id = run.nodes["read_collected_data"]["output"]["document"]["id"]
    updated = run.nodes["update_collected_data"]["output"]["document"]
    assert updated["id"] == selfie_id
    assert updated["value"] == persona_document("success", "Selfie")
    assert updated["value"] != persona_document("passport", "Selfie")

    listed = (await api(sandbox, document_path(run))).json()["_embedded"]["documents"]
    assert sorted(d["type"] for d in listed) == sorted([*LICENCE, "Selfie"])
    [deleted] = [e["input"] for e in run.trace if e["node"] == "delete_collected_data"]
    first_read = next(e for e in run.trace if e["node"] == "read_collected_data")
    assert first_read["output"]["document"]["type"] == "Passport Front"
    assert deleted["documentId"] == first_read["output"]["document"]["id"]
    gone = await api(sandbox, f"{document_path(run)}/{deleted['documentId']}")
    assert gone.status_code == 404


async def test_document_review_selfie_of_someone_else_fails_facial_comparison(
    run_flow: RunFlow,
) -> None:
    run = await run_flow("document-review", "selfie-mismatch")
    error = error_of(run)
    assert error["code"] == "VERIFICATION_FAILED"
    assert error["message"].startswith("Document verification failed: selfie does not match")
    checks = {d["code"]: d["status"] for d in error["details"]}
    assert checks["FACIAL_COMPARISON"] == "FAIL"
    assert checks["DOCUMENT_AUTHENTICATION"] == "SUCCESS"
    # The operator opened the selfie and kept it: nothing was replaced or deleted.
    [decision] = screens(run, "document_decision")
    assert decision["title"] == "Selfie"
    assert decision["description"].startswith("COLLECTED, sent by AUTHENTICATED_CLIENT at ")
    assert re.search(r": a JPEG of about \d\d KB\.$", decision["description"])
    assert "update_collected_data" not in run.path
    assert "delete_collected_data" not in run.path
    processed = run.nodes["process_all_data_collected"]["output"]["documents"]
    assert [d["type"] for d in processed["_embedded"]["documents"]] == [*LICENCE, "Selfie"]


async def test_document_review_without_a_selfie_is_not_processed(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    run = await run_flow("document-review", "incomplete")
    error = error_of(run)
    assert error["code"] == "DOCUMENTS_INCOMPLETE"
    assert error["message"] == (
        "The documents could not be processed: "
        "Not every required document was submitted; missing: Selfie"
    )
    assert "return_verify_result" not in run.path
    listed = (await api(sandbox, document_path(run))).json()["_embedded"]["documents"]
    assert [d["type"] for d in listed] == ["Passport Front"]
    tx = (await api(sandbox, document_path(run).removesuffix("/documents"))).json()
    assert tx["transactionStatus"]["status"] not in ("SUCCESS", "FAIL")


async def test_document_review_rejected_by_the_operator(run_flow: RunFlow) -> None:
    answers = answers_of(
        "document-review",
        "selfie-mismatch",
        applicant_details={
            "given_name": "John",
            "family_name": "Doe",
            "email": "john.review-rejected@example.com",
            "birthdate": "1985-04-01",
        },
        review_documents=[{"action": "reject"}],
    )
    run = await run_flow("document-review", answers)
    error = error_of(run)
    assert error["code"] == "APPLICATION_REJECTED"
    assert error["message"].endswith("(4 documents collected).")
    assert "process_all_data_collected" not in run.path


async def test_document_review_opening_without_choosing_asks_again(run_flow: RunFlow) -> None:
    answers = answers_of(
        "document-review",
        "selfie-mismatch",
        review_documents=[
            {},
            {"document": "Passport Front"},
            {"document": "Driver License Code"},
            {"action": "process"},
        ],
    )
    run = await run_flow("document-review", answers)
    shown = screens(run, "review_documents")
    assert shown[1]["errors"] == {"document": "Document is required"}
    # A type the transaction does not hold is not one of the options either.
    assert shown[2]["errors"]["document"].startswith("Document must be one of: Driver License")
    assert run.nodes["read_collected_data"]["visits"] == 1
    [decision] = screens(run, "document_decision")
    # The barcode field is a textarea: its text is sent whole, "\n\r" at the end included.
    barcode = persona_document("selfie_mismatch", "Driver License Code")
    assert decision["title"] == "Driver License Code"
    assert decision["description"].endswith(f": text, {len(barcode)} characters.")


# --- account-maintenance ------------------------------------------------------------------


async def test_account_maintenance_updates_the_name_to_the_verified_one(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    run = await run_flow("account-maintenance", "name-updated")
    assert run.status == "completed", run.error
    result = run.result["result"]
    assert result["status"] == "PROFILE_UPDATED"
    assert result["newAccount"] is True
    assert result["previousName"] == {"given": "Jon", "family": "Doe"}
    assert result["name"] == {"given": "John", "middle": "Q", "family": "Doe"}
    user = (await api(sandbox, f"users/{result['userId']}")).json()
    assert user["name"] == {"given": "John", "middle": "Q", "family": "Doe"}
    assert user["username"] == "jon.maintenance"
    assert user["email"] == "jon.maintenance@example.com"  # what was not changed is kept


async def test_account_maintenance_leaves_a_matching_name_alone(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    run = await run_flow("account-maintenance", "up-to-date")
    assert run.status == "completed", run.error
    result = run.result["result"]
    assert result["status"] == "PROFILE_UP_TO_DATE"
    assert result["name"] == {"given": "Maria", "family": "Garcia"}
    assert "update_user" not in run.path
    user = (await api(sandbox, f"users/{result['userId']}")).json()
    assert user["name"] == {"given": "Maria", "family": "Garcia"}


async def test_account_maintenance_erases_a_new_account_that_failed(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    run = await run_flow("account-maintenance", "failed")
    error = error_of(run)
    assert error["code"] == "ACCOUNT_ERASED"
    assert "government ID expired on 2024-03-31" in error["message"]
    [detail] = error["details"]
    assert detail["code"] == "USER_DELETED" and detail["statusCode"] == 204
    assert (await api(sandbox, f"users/{detail['userId']}")).status_code == 404
    found = await api(sandbox, 'users?filter=username eq "john.maintenance-expired"')
    assert found.json()["_embedded"]["users"] == []


async def test_account_maintenance_erases_an_abandoned_new_account(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    run = await run_flow("account-maintenance", "abandoned")
    error = error_of(run)
    assert error["code"] == "ACCOUNT_ERASED"
    assert "expired before the verification was completed" in error["message"]
    assert run.nodes["show_qr_code"]["visits"] == 2
    [detail] = error["details"]
    assert (await api(sandbox, f"users/{detail['userId']}")).status_code == 404


async def test_account_maintenance_updates_an_existing_account(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    registered = await run_flow("registration", "success")
    assert registered.status == "completed", registered.error
    answers = answers_of(
        "account-maintenance", "name-updated", sign_in={"username": "john.doe@example.com"}
    )
    run = await run_flow("account-maintenance", answers)
    assert run.status == "completed", run.error
    result = run.result["result"]
    assert result["userId"] == registered.result["result"]["userId"]
    assert result["newAccount"] is False
    assert result["previousName"] == {"given": "John", "family": "Doe"}
    assert result["name"] == {"given": "John", "middle": "Q", "family": "Doe"}
    assert "enrol_details" not in run.path


async def test_account_maintenance_keeps_an_existing_account_that_failed(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    registered = await run_flow("registration", "success")
    user_id = registered.result["result"]["userId"]
    answers = answers_of(
        "account-maintenance",
        "failed",
        sign_in={"username": "john.doe@example.com"},
        show_qr_code=[{"do": "phone", "persona": "selfie_mismatch"}],
    )
    run = await run_flow("account-maintenance", answers)
    error = error_of(run)
    assert error["code"] == "VERIFICATION_FAILED"
    assert error["message"].startswith("Your identity could not be verified (selfie does not")
    assert error["message"].endswith("your account and its profile are unchanged.")
    assert "delete_user" not in run.path
    user = (await api(sandbox, f"users/{user_id}")).json()
    assert user["name"] == {"given": "John", "family": "Doe"}
