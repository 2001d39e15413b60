"""The verification page in a real browser (headless Chromium): a person's upload, end to end.

Skipped when no chromium is installed (`apt-get install chromium`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from cdp_support import Browser
from sandbox_support import API, make_tx, make_user, token_for

from connectors.pingone.sandbox import Sandbox
from connectors.pingone.sandbox.server import ServerThread
from connectors.pingone.sandbox.verification.personas import documents_for, requirements_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.mark.parametrize("processing_seconds", [0, 1])
async def test_person_verifies_in_the_browser(tmp_path: Path, processing_seconds: int) -> None:
    """With a processing delay the page shows IN_PROGRESS and polls until the decision."""
    assert CHROMIUM is not None
    sandbox = Sandbox(config={"processing_seconds": processing_seconds})
    with ServerThread(sandbox) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            user_id = await make_user(client)
            tx = await make_tx(
                client,
                user_id,
                requirements=requirements_for("success"),
                redirect={"url": "https://app.example.com/done", "message": "Back to the shop"},
            )
        # The person picks the photos; the barcode travels inside the back image (as on a card),
        # so the "Driver License Code" text box stays empty, as it would for a person.
        files = {}
        for doc_type, data in documents_for("success"):
            if isinstance(data, bytes):
                path = tmp_path / f"{doc_type.replace(' ', '_')}.jpg"
                path.write_bytes(data)
                files[doc_type] = str(path)
        browser = Browser(CHROMIUM, tmp_path / "profile")
        try:
            browser.call("Page.navigate", url=tx["webVerificationUrl"])
            status = "document.getElementById('status').textContent"
            assert browser.wait_for(f"{status} === 'REQUESTED' && {status}")
            browser.evaluate("document.getElementById('begin').click()")
            browser.wait_for(f"{status} === 'INITIATED'")
            assert set(files) == {"Driver License Front", "Driver License Back", "Selfie"}
            for doc_type, path in files.items():
                browser.set_files(f'[data-type="{doc_type}"]', [path])
            browser.evaluate("document.getElementById('send').click()")
            assert browser.wait_for(f"{status} === 'SUCCESS' && {status}") == "SUCCESS"
            link = browser.evaluate("document.getElementById('redirect').href")
            assert link == "https://app.example.com/done"
            assert browser.evaluate("document.getElementById('redirect').textContent") == (
                "Back to the shop"
            )
        finally:
            browser.close()
        async with httpx.AsyncClient(base_url=url) as client:
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            tx_url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
            assert (await client.get(tx_url)).json()["transactionStatus"]["status"] == "SUCCESS"
            docs = (await client.get(f"{tx_url}/documents")).json()["_embedded"]["documents"]
            assert {d["source"]["provider"] for d in docs} == {"END_USER"}
            sources = await client.get(f"{tx_url}/verifiedData", params={"type": "END_USER_CLIENT"})
            [item] = sources.json()["_embedded"]["verifiedData"]
            agents = [source["userAgent"] for source in item["data"]["sources"]]
            assert any("HeadlessChrome" in agent for agent in agents)
