"""The flow library run end to end against a fresh embedded sandbox, asserting what users see.

The golden traces (tests/cli/test_golden.py over flows/**/*.trace) pin each run's path; these
tests check the values: verified data, per-field confidence, reasons, images, statuses.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest
from flow_helpers import FLOWS, RunFlow, admin_request, answers_of
from flowengine_connectors.pingone_sandbox import Sandbox, documents_for, use_sandbox
from PIL import Image

from flowengine import (
    Engine,
    MemoryStore,
    Registry,
    Run,
    VirtualClock,
    check_flow,
    drive,
    load_flow,
)

FLOW_FILES = sorted(FLOWS.glob("*.yaml"))


def trace_input(run: Run, node: str) -> dict[str, Any]:
    """The rendered input of the last visit of `node` (as the screen showed it)."""
    return [e for e in run.trace if e["node"] == node and e.get("input")][-1]["input"]


def error_of(run: Run) -> dict[str, Any]:
    """The error a failed run ended with."""
    assert run.status == "failed" and run.error is not None, run.status
    return run.error


def details(run: Run) -> dict[str, str]:
    return {d["code"]: d["status"] for d in error_of(run)["details"]}


# --- the library as a whole ------------------------------------------------------------------


@pytest.mark.parametrize("flow", FLOW_FILES, ids=[f.stem for f in FLOW_FILES])
def test_flow_validates_without_any_diagnostic(flow: Path, registry: Registry) -> None:
    spec, diagnostics = check_flow(flow, registry)
    assert spec is not None
    assert [str(d) for d in diagnostics] == []
    assert flow.read_text().startswith(
        "# yaml-language-server: $schema=../schemas/flow.schema.json"
    )


@pytest.mark.parametrize("flow", FLOW_FILES, ids=[f.stem for f in FLOW_FILES])
def test_flow_has_answers_files_each_with_a_golden_trace(flow: Path) -> None:
    answers = sorted((FLOWS / flow.stem).glob("*.yaml"))
    assert answers, f"{flow.name} has no answers files in flows/{flow.stem}/"
    for a in answers:
        trace = a.with_suffix(".trace")
        assert trace.exists(), f"{a} has no golden trace"
        assert f"# answers: {a.name}" in trace.read_text()


def test_answers_files_use_distinct_usernames_and_emails() -> None:
    # The golden traces run in one process against one embedded sandbox: a username used
    # twice would make the second Create User fail.
    values = [
        value
        for a in FLOWS.glob("*/*.yaml")
        if "examples" not in a.parts
        for value in {m[2] for m in re.finditer(r"\b(username|email):\s*([^,}\s]+)", a.read_text())}
    ]
    assert len(values) > 20
    assert len(values) == len(set(values)), sorted(values)


# --- registration: the documented example ----------------------------------------------------


async def test_registration_success_shows_verified_data_and_high_matches(run_flow: RunFlow) -> None:
    run = await run_flow("registration", "success")
    assert run.status == "completed", run.error
    result = run.result["result"]
    assert result["status"] == "VERIFIED"
    assert (result["verifiedData"]["firstName"], result["verifiedData"]["lastName"]) == (
        "JOHN",
        "DOE",
    )
    assert result["verifiedData"]["birthDate"] == "1985-04-01"
    assert result["biographicMatch"] == {
        "given_name": "HIGH",
        "family_name": "HIGH",
        "birth_date": "HIGH",
    }
    assert sorted(result["collectedDocuments"]) == [
        "Driver License Back",
        "Driver License Code",
        "Driver License Front",
        "Selfie",
    ]
    shown = trace_input(run, "display_user_data")
    assert shown["title"] == "Identity verification: SUCCESS"
    assert (
        "Biographic match: given_name HIGH, family_name HIGH, birth_date HIGH" in shown["message"]
    )
    assert "LIVENESS SUCCESS" in shown["message"]


async def test_registration_follows_the_documented_walk_through(
    run_flow: RunFlow, registry: Registry, sandbox: Sandbox
) -> None:
    """Node for node: the verify status is enabled with the transaction, and Success and Fail
    both continue to Read Government ID, Return All Collected and Read Metadata."""
    spec = load_flow(FLOWS / "registration.yaml", registry)
    nodes = spec.nodes
    assert nodes["create_user"].routes["success"] == "enable_verify_status"
    assert nodes["enable_verify_status"].use == "verify.setVerifyStatus"
    assert nodes["enable_verify_status"].inputs["verifyStatus"] == "ENABLED"
    assert nodes["enable_verify_status"].routes["success"] == "create_verify_transaction"
    check = nodes["check_transaction_status"].routes
    assert check["Success"] == check["Fail"] == "read_results"
    assert check["No match"] == "show_qr_code"
    branches = {b.title: b.use for b in nodes["read_results"].branches.values()}
    assert branches == {
        "Read Government ID": "verify.readGovernmentID",
        "Return All Collected": "verify.readDocuments",
        "Read Metadata": "verify.readMetaData",
    }
    run = await run_flow("registration", "success")
    assert run.status == "completed", run.error
    assert run.path.index("enable_verify_status") < run.path.index("create_verify_transaction")
    user_id = run.result["result"]["userId"]
    status = await admin_request(sandbox, "GET", f"users/{user_id}/verifyStatus")
    assert status.status_code == 200, status.text
    assert status.json()["verifyStatus"] == "ENABLED"


async def test_registration_with_a_passport(run_flow: RunFlow) -> None:
    run = await run_flow("registration", "passport")
    assert run.status == "completed", run.error
    data = run.result["result"]["verifiedData"]
    assert (data["firstName"], data["lastName"], data["idType"]) == (
        "MARIA",
        "GARCIA",
        "PassportPicturePage",
    )
    assert set(run.result["result"]["biographicMatch"].values()) == {"HIGH"}


async def test_registration_document_authentication_failure(run_flow: RunFlow) -> None:
    run = await run_flow("registration", "document-authentication-failure")
    assert run.status == "failed"
    assert error_of(run)["node"] == "error_response"
    assert error_of(run)["code"] == "VERIFICATION_FAILED"
    assert "government ID expired on 2024-03-31" in error_of(run)["message"]
    assert details(run)["DOCUMENT_AUTHENTICATION"] == "FAIL"
    # Fail still reads the results, as the documented flow does.
    assert {"read_government_id", "return_all_collected", "read_metadata"} <= set(run.path)


async def test_registration_biographic_mismatch_shows_low_confidence(run_flow: RunFlow) -> None:
    run = await run_flow("registration", "biographic-mismatch")
    assert run.status == "failed"
    shown = trace_input(run, "display_user_data")
    assert "given_name LOW, family_name LOW, birth_date HIGH" in shown["message"]
    found = details(run)
    assert found["BIOGRAPHIC_MATCH"] == "FAIL"
    assert (found["BIOGRAPHIC_MATCH_GIVEN_NAME"], found["BIOGRAPHIC_MATCH_FAMILY_NAME"]) == (
        "LOW",
        "LOW",
    )


async def test_registration_late_scan_shows_the_qr_code_three_times(run_flow: RunFlow) -> None:
    run = await run_flow("registration", "late-scan")
    assert run.status == "completed", run.error
    assert run.nodes["show_qr_code"]["visits"] == 3
    statuses = [e["outcome"] for e in run.trace if e["node"] == "check_transaction_status"]
    assert statuses == ["No match", "No match", "Success"]


async def test_registration_expired_transaction(run_flow: RunFlow) -> None:
    run = await run_flow("registration", "expired")
    assert run.status == "failed"
    status = run.nodes["return_verify_result"]["output"]["transaction"]["transactionStatus"]
    assert status["status"] == "FAIL"
    assert "TRANSACTION_TIMED_OUT" in status["verificationStatus"].values()
    assert "expired" in error_of(run)["message"]
    assert trace_input(run, "display_user_data")["message"].startswith("Verified data: none\n")


async def test_registration_approved_by_an_administrator_while_the_qr_code_shows(
    registry: Registry, sandbox: Sandbox
) -> None:
    flow = load_flow(FLOWS / "registration.yaml", registry)
    form = answers_of("registration", "success").responses["get_user_details"]
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        run = await engine.start(flow)
        run = await engine.resume(run, {**form, "email": "approved@example.com"}, flow=flow)
        assert run.waiting is not None and run.waiting["node"] == "show_qr_code"
        user_id = run.nodes["create_user"]["output"]["user"]["id"]
        tx_id = run.nodes["create_verify_transaction"]["output"]["transaction"]["id"]
        await _admin(
            sandbox,
            "PUT",
            f"users/{user_id}/verifyTransactions/{tx_id}",
            {"transactionStatus": {"status": "APPROVED_NO_REQUEST"}},
        )
        run = await engine.resume(run, {}, flow=flow)  # the poll after the approval
        run = await drive(engine, run, flow, registry=registry)
    assert run.status == "completed", run.error
    assert run.nodes["check_transaction_status"]["outcome"] == "Success"
    assert run.result["result"]["status"] == "VERIFIED"
    assert run.result["result"]["verifiedData"] == {}  # approved: nothing was verified


async def test_registration_without_a_scan_fails_at_the_visit_limit(run_flow: RunFlow) -> None:
    answers = answers_of("registration", "success", show_qr_code=[])
    run = await run_flow("registration", answers)
    assert run.status == "failed"
    assert "show_qr_code" in error_of(run)["message"]
    assert run.nodes["show_qr_code"]["visits"] == 60  # settings.max_node_visits


# --- the other flows -------------------------------------------------------------------------


async def test_mobile_app_gets_a_continue_link_then_a_last_response(run_flow: RunFlow) -> None:
    run = await run_flow("mobile-app", "success")
    assert run.status == "completed", run.error
    first = run.nodes["create_client_response"]["output"]
    last = run.nodes["final_client_response"]["output"]
    challenge = run.nodes["create_verify_transaction"]["output"]["challenge"]
    assert first["continueLink"].startswith(f"/runs/{run.id}/continue")
    assert challenge in first["continueLink"]
    assert "continueLink" not in last
    assert run.result["result"]["challenge"] == challenge
    assert (run.result["result"]["firstName"], run.result["result"]["status"]) == (
        "MARIA",
        "SUCCESS",
    )


@pytest.mark.parametrize(
    ("answers", "confidence", "end", "status"),
    [
        ("high", "HIGH", "account_recovered", "completed"),
        ("medium", "MEDIUM", "stepped_up", "completed"),
        ("medium-failed", "MEDIUM", "recovery_refused", "failed"),
        ("low", "LOW", "recovery_refused", "failed"),
    ],
)
async def test_identity_matching_branches(
    run_flow: RunFlow, answers: str, confidence: str, end: str, status: str
) -> None:
    run = await run_flow("identity-matching", answers)
    assert run.status == status
    assert run.nodes["check_confidence"]["outcome"] == confidence
    assert run.path[-1] == end
    stepped_up = "create_verify_transaction" in run.path
    assert stepped_up == (confidence == "MEDIUM")


async def test_identity_matching_unknown_account_is_refused(run_flow: RunFlow) -> None:
    answers = answers_of("identity-matching", "high")
    probe = dict(answers.responses["recovery_details"], email="nobody@example.com")
    run = await run_flow(
        "identity-matching", answers_of("identity-matching", "high", recovery_details=probe)
    )
    assert (
        error_of(run)["message"]
        == "We could not confirm your identity (record match: no such account)."
    )
    assert run.nodes["find_account"]["outcome"] == "not_found"
    assert "identity_record_matching" not in run.path


def _pixel_near(pixel: Any, rgb: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(pixel, rgb, strict=False))


@pytest.mark.parametrize(
    ("colour", "rgb"), [(None, (0x1E, 0x4D, 0x8C)), ("#C8102E", (0xC8, 0x10, 0x2E))]
)
async def test_badge_photo_background_and_aspect_ratio(
    run_flow: RunFlow, colour: str | None, rgb: tuple[int, int, int]
) -> None:
    inputs = {"badge_colour": colour} if colour else {}
    run = await run_flow("badge-photo", "success", inputs)
    assert run.status == "completed", run.error
    photo = run.result["result"]["photo"]
    assert photo["format"] == "JPEG"
    image = Image.open(io.BytesIO(base64.b64decode(photo["image"]))).convert("RGB")
    assert image.format is None or image.format == "JPEG"
    assert abs(image.width / image.height - 3 / 4) < 0.02
    assert _pixel_near(image.getpixel((2, 2)), rgb)
    assert not _pixel_near(image.getpixel((image.width // 2, image.height // 2)), rgb)


async def test_badge_photo_refused_after_a_replayed_selfie(run_flow: RunFlow) -> None:
    run = await run_flow("badge-photo", "liveness-replay")
    assert run.status == "failed"
    assert "liveness failed" in error_of(run)["message"]
    assert "replace_background" not in run.path


@pytest.mark.parametrize(
    ("answers", "documents", "images"),
    [
        (
            "success",
            ["Driver License Front", "Driver License Back", "Driver License Code", "Selfie"],
            ["BACK_IMAGE", "CROPPED_PORTRAIT", "FRONT_IMAGE"],
        ),
        ("passport", ["Passport Front", "Selfie"], ["CROPPED_PORTRAIT", "FRONT_IMAGE"]),
    ],
)
async def test_document_verification_submits_each_document(
    run_flow: RunFlow, answers: str, documents: list[str], images: list[str]
) -> None:
    run = await run_flow("document-verification", answers)
    assert run.status == "completed", run.error
    result = run.result["result"]
    assert result["documents"] == documents
    assert sorted(result["documentImages"]) == images
    assert run.nodes["submit_collected_data"]["visits"] == len(documents)
    assert set(result["checks"].values()) == {"SUCCESS"}
    assert "phone" not in str(run.trace)  # no QR code, no phone: server side only


@pytest.mark.parametrize(
    ("processing_seconds", "status", "waits"),
    [(12, "completed", 3), (600, "failed", 12)],  # polled at 0, 5, 10 s; done at 15 s
)
async def test_document_verification_polls_while_pingone_processes(
    registry: Registry, processing_seconds: int, status: str, waits: int
) -> None:
    clock = VirtualClock()  # one clock for the engine's waits and the sandbox's decisions
    sandbox = Sandbox(clock=clock, config={"processing_seconds": processing_seconds})
    spec = load_flow(FLOWS / "document-verification.yaml", registry)
    try:
        with use_sandbox(sandbox):
            async with Engine(registry, store=MemoryStore(), clock=clock) as engine:
                started = await engine.start(spec)
                answers = answers_of("document-verification", "success")
                run = await drive(engine, started, spec, answers=answers, registry=registry)
    finally:
        sandbox.close()
    assert run.status == status, run.error
    assert run.nodes["wait_for_processing"]["visits"] == waits
    assert run.nodes["return_verify_result"]["visits"] == waits + 1
    if status == "completed":
        assert run.result["result"]["status"] == "VERIFIED"
    else:  # a minute of polls, then the flow says so instead of looping on
        assert error_of(run)["code"] == "VERIFICATION_PENDING"
        assert "IN_PROGRESS" in error_of(run)["message"]


async def test_document_verification_bad_mrz(run_flow: RunFlow) -> None:
    run = await run_flow("document-verification", "bad-mrz")
    assert run.status == "failed"
    assert "check digit for document number" in error_of(run)["message"]
    assert details(run)["DOCUMENT_AUTHENTICATION"] == "FAIL"


# --- policy-driven: policies made through the sandbox's API ----------------------------------


async def _admin(sandbox: Sandbox, method: str, path: str, body: dict[str, Any]) -> Any:
    """An administrator's call that must succeed; its JSON answer."""
    response = await admin_request(sandbox, method, path, body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _create_policy(sandbox: Sandbox, body: dict[str, Any]) -> str:
    return str((await _admin(sandbox, "POST", "verifyPolicies", body))["id"])


def _form_fields(run: Run) -> list[str]:
    """The fields the upload form asked for (the form's own trace input is redacted)."""
    return [d["field"] for d in run.vars["requested"]]


async def test_policy_driven_default_policy_asks_for_id_and_selfie(run_flow: RunFlow) -> None:
    run = await run_flow("policy-driven", "default-policy")
    assert run.status == "completed", run.error
    assert _form_fields(run) == [
        "driver_license_front", "driver_license_back", "driver_license_code", "selfie",
    ]  # fmt: skip
    assert run.result["result"]["documents"][-1] == "Selfie"


async def test_policy_driven_id_only_policy_asks_for_no_selfie(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    policy_id = await _create_policy(
        sandbox,
        {
            "name": "ID only",
            "governmentId": {"verify": "REQUIRED"},
            "facialComparison": {"verify": "DISABLED", "threshold": "MEDIUM"},
            "liveness": {"verify": "DISABLED", "threshold": "MEDIUM"},
        },
    )
    answers = answers_of("policy-driven", "default-policy", applicant_details={
        "given_name": "John", "family_name": "Doe", "email": "john.id-only@example.com",
    })  # fmt: skip
    run = await run_flow("policy-driven", answers, {"policy_id": policy_id})
    assert run.status == "completed", run.error
    assert _form_fields(run) == [
        "driver_license_front", "driver_license_back", "driver_license_code",
    ]  # fmt: skip
    assert run.result["result"]["policy"] == "ID only"
    assert "Selfie" not in run.result["result"]["documents"]


async def test_policy_driven_policy_with_nothing_to_collect(
    run_flow: RunFlow, sandbox: Sandbox
) -> None:
    policy_id = await _create_policy(
        sandbox,
        {
            "name": "Nothing",
            "governmentId": {"verify": "DISABLED"},
            "facialComparison": {"verify": "DISABLED", "threshold": "MEDIUM"},
            "liveness": {"verify": "DISABLED", "threshold": "MEDIUM"},
        },
    )
    run = await run_flow("policy-driven", None, {"policy_id": policy_id})
    assert run.status == "completed", run.error
    assert run.result["result"] == {"status": "NOTHING_TO_COLLECT", "policy": "Nothing"}


# --- re-verification of users the registration flow made ------------------------------------


async def test_reverification_of_a_verified_user_needs_no_new_transaction(
    run_flow: RunFlow,
) -> None:
    registered = await run_flow("registration", "success")
    assert registered.status == "completed"
    answers = answers_of("reverification", "new-user", sign_in={"username": "john.doe@example.com"})
    run = await run_flow("reverification", answers)
    assert run.status == "completed", run.error
    assert run.path[-1] == "already_verified"
    assert run.result["result"]["userId"] == registered.result["result"]["userId"]
    assert run.result["result"]["latestTransaction"] == registered.result["result"]["transactionId"]
    assert "create_verify_transaction" not in run.path


async def test_reverification_after_a_failed_verification(run_flow: RunFlow) -> None:
    failed = await run_flow("registration", "document-authentication-failure")
    assert failed.status == "failed"
    answers = answers_of(
        "reverification",
        "new-user",
        sign_in={"username": "john.expired"},
        show_qr_code=[{"do": "phone", "persona": "success"}],
    )
    run = await run_flow("reverification", answers)
    assert run.status == "completed", run.error
    assert run.result["result"]["previousStatus"] == "FAIL"
    assert run.result["result"]["verifyStatus"] == "ENABLED"
    assert "enrol_details" not in run.path


async def test_registration_failure_names_the_failed_step(run_flow: RunFlow) -> None:
    first = await run_flow("registration", "success")
    assert first.status == "completed"
    again = await run_flow("registration", "success")  # the same username a second time
    error = error_of(again)
    assert error["code"] == "REGISTRATION_FAILED"
    assert error["message"] == "Registration could not be completed. Please try again later."
    [detail] = error["details"]
    assert detail["node"] == "create_user"
    assert detail["code"] == again.nodes["create_user"]["error"]["code"]
    assert "create_verify_transaction" not in again.path


async def test_policy_driven_unknown_policy_fails_naming_the_step(run_flow: RunFlow) -> None:
    run = await run_flow("policy-driven", None, {"policy_id": "no-such-policy"})
    error = error_of(run)
    assert error["code"] == "FLOW_FAILED"
    [detail] = error["details"]
    assert detail["node"] == "read_verify_policy"
    assert detail["code"] == run.nodes["read_verify_policy"]["error"]["code"]


@pytest.mark.parametrize(
    ("flow", "answers"),
    [
        ("document-verification", "success"),
        ("document-review", "success"),
        ("policy-driven", "default-policy"),
    ],
)
async def test_barcode_text_reaches_create_document_exactly_as_scanned(
    run_flow: RunFlow, flow: str, answers: str
) -> None:
    # AAMVA text starts "@\n\x1e\r" and ends "\n\r": a stripping form field would cut both.
    barcode = dict(documents_for("success"))["Driver License Code"]
    assert isinstance(barcode, str) and barcode != barcode.strip()
    run = await run_flow(flow, answers)
    assert run.status == "completed", run.error
    sent = [
        e["input"]["documentValue"]
        for e in run.trace
        if isinstance(e["input"], dict)
        and e["input"].get("documentTypeName") == "Driver License Code"
    ]
    assert sent == [barcode]
