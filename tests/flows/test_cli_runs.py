"""`flowengine run` on the registration flow: what a user sees in the terminal, exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flow_helpers import FLOWS
from flowengine_connectors.pingone_sandbox import Sandbox

# private: tests the CLI through its click group
from flowengine._cli import main


def run_registration(answers: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(FLOWS / "registration.yaml"),
            "--answers",
            str(FLOWS / "registration" / f"{answers}.yaml"),
            "--store",
            "memory:",
        ],
    )
    return result.exit_code, result.output


@pytest.mark.usefixtures("sandbox")
def test_success_run_draws_the_qr_code_and_ends_with_the_verified_data() -> None:
    code, output = run_registration("success")
    assert code == 0, output
    assert "== Verify your identity ==" in output
    assert "\u2584" in output or "\u2580" in output  # the QR code, drawn with half blocks
    assert "verify-webapp/index.html?txnid=" in output
    assert "== Identity verification: SUCCESS ==" in output
    assert "Biographic match: given_name HIGH, family_name HIGH, birth_date HIGH" in output
    assert '"status": "VERIFIED"' in output and '"firstName": "JOHN"' in output
    assert "completed" in output


@pytest.mark.usefixtures("sandbox")
def test_document_authentication_failure_exits_1_with_the_reason() -> None:
    code, output = run_registration("document-authentication-failure")
    assert code == 1, output
    assert "== Identity verification: FAIL ==" in output
    assert "government ID expired on 2024-03-31" in output
    assert "failed" in output


def test_sandbox_fixture_is_fresh(sandbox: Sandbox) -> None:
    # Guards the fixture the CLI tests rely on: the embedded sandbox is this test's own.
    from flowengine_connectors.pingone_sandbox import default_sandbox

    assert default_sandbox() is sandbox
