"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

Never downloads a browser. Without /usr/bin/chromium the tests are skipped locally, but fail
in CI (`CI` set), where `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SHOUHU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without Chromium, browser tests are skipped on a developer's machine; in CI they run
    (and fail if `.ci/run` could not install it)."""
    if chromium_path() or os.environ.get("CI"):
        return
    missing = pytest.mark.skipif(True, reason="Debian's chromium is not installed")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(missing)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    if not path:
        raise RuntimeError("Chromium is required: install Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def serialise_requests(live_server: Any) -> None:
    """Let the live server handle one request at a time.

    On SQLite the test database lives in memory, so the server's request threads share the
    test's single connection. A browser loads a page, its favicon and a redirect target in
    parallel; two threads on one SQLite connection fail with "cannot commit transaction -
    SQL statements in progress". Serialising the application (the server still accepts
    connections on many threads) keeps every request on the connection alone.
    """
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    if getattr(app, "serialised", False):
        return
    lock = threading.Lock()

    def serialised_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with lock:
            return app(environ, start_response)  # type: ignore[no-any-return]

    serialised_app.serialised = True  # type: ignore[attr-defined]
    httpd.set_app(serialised_app)


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """A fresh phone-sized browser context (360 px wide) per test."""
    serialise_requests(live_server)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", base_url=live_server.url
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_world(transactional_db):  # type: ignore[no-untyped-def]
    """The shared persona world, committed so the live server's thread can see it."""
    from tests.conftest import ensure_places
    from tests.world import build_world

    ensure_places()
    return build_world()
