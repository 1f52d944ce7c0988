"""The staff console end to end in a real browser: Debian's Chromium, headless, driven by Playwright.

The app runs under uvicorn on a free loopback port. Screenshots go to ``$NPCENGINE_SCREENSHOTS``
(or the test's ``tmp_path``). Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``;
``scripts/test.sh`` installs it when it can); never ``playwright install``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from npc_engine.server import create_app
from tests.server.conftest import ConsoleWorld, build_world

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: run `apt-get install -y chromium` (Debian) for the browser tests"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ConsoleWorld]:
    world = build_world(tmp_path)
    yield world
    world.engine.close()


@pytest.fixture
def base_url(world: ConsoleWorld) -> Iterator[str]:
    """The real app, served by uvicorn in a thread on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(world.engine), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, name="console-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("NPCENGINE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_staff_work_a_ticket_from_queue_to_resolution(
    world: ConsoleWorld, base_url: str, screenshots: Path
) -> None:
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    billing = world.open("p-billing", age_s=40 * 60, priority="high", category="billing")
    world.open("p-bug", age_s=2 * 86400, priority="low", category="bugs")
    shots = {name: screenshots / f"console-{name}.png" for name in ("queue", "ticket", "resolved")}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)

            page.goto(f"{base_url}/console/")
            expect(page).to_have_url(f"{base_url}/console/login")  # no session yet
            page.get_by_label("Staff key").fill(world.keys["a-staff"])
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_test_id("staff-name")).to_have_text("Alice Agent")

            page.get_by_label("Category", exact=True).fill("billing")
            page.get_by_label("Age", exact=True).select_option("lt1d")
            page.get_by_role("button", name="Filter").click()
            rows = page.locator("tbody tr[data-ticket]")
            expect(rows).to_have_count(1)
            expect(rows.first).to_have_attribute("data-ticket", billing.ticket_id)
            page.screenshot(path=str(shots["queue"]), full_page=True)

            page.get_by_role("link", name=billing.ticket_id).click()
            expect(page.get_by_test_id("summary")).to_contain_text("charged twice")
            reply = page.get_by_label("Reply to the player")
            expect(reply).to_have_value("Sorry about that! I have asked billing to refund the second charge.")
            page.screenshot(path=str(shots["ticket"]), full_page=True)
            reply.fill("We refunded the second charge; it shows in 3-5 days.")
            page.get_by_role("button", name="Send reply").click()
            expect(page.get_by_role("status")).to_contain_text("Reply sent")

            page.get_by_label("Resolution").fill("Duplicate charge refunded.")
            expect(page.get_by_label("also send to the player")).to_be_checked()
            page.get_by_role("button", name="Resolve").click()
            expect(page.get_by_role("status")).to_contain_text("Ticket resolved")
            expect(page.get_by_test_id("resolution")).to_have_text("Duplicate charge refunded.")
            page.screenshot(path=str(shots["resolved"]), full_page=True)

            audit = page.get_by_test_id("audit")
            for action in ("viewed", "replied", "resolved"):
                row = audit.locator("tr", has_text=action).last
                expect(row.locator("td").nth(1)).to_have_text("Alice Agent")
        finally:
            browser.close()

    for path in shots.values():
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, path
