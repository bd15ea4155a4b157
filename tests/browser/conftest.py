"""Browser suite: Playwright (Python, sync API) driving Debian's Chromium against a live server on 127.0.0.1.

Never downloads a browser: it launches the system Chromium (`apt-get install chromium`). Without it (or
without the playwright package) the suite is skipped with a message, so `bash bin/test` passes on a bare
machine; under CI (CI=true) a missing browser is an error, never a silent skip.
"""

import json
from pathlib import Path

import pytest
from django.db import connections
from pytest_django import live_server_helper

from .support import (
    ARTIFACTS,
    AXE_PAGES,
    AXE_SEEN,
    CHROMIUM,
    CHROMIUM_ARGS,
    Recorder,
    in_ci,
    sync_playwright,
    unavailable_reason,
)


def pytest_terminal_summary(terminalreporter):
    reason = unavailable_reason()
    if reason and not in_ci():
        terminalreporter.write_line(f"Browser tests (tests/browser) skipped: {reason}.", yellow=True)
    if AXE_PAGES:
        ARTIFACTS.mkdir(exist_ok=True)
        summary = {"pages": AXE_PAGES, "violations": AXE_SEEN}
        (ARTIFACTS / "axe-summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
        terminalreporter.write_line(
            f"axe-core: {len(AXE_PAGES)} pages checked, {len(AXE_SEEN)} violation(s) of any impact "
            f"(details in {ARTIFACTS.name}/axe-summary.json)."
        )


def pytest_collection_modifyitems(config, items):
    """On a machine without the browser, skip the suite before any database set-up (never under CI)."""
    reason = unavailable_reason()
    if reason and not in_ci():
        here = Path(__file__).parent
        skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
        for item in items:
            if here in item.path.parents:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def reference_communes(transactional_db):
    """The reference communes a migration loads, reloaded if an earlier transactional test flushed them.

    The live server needs committed data, so these tests run in transactional mode, where the database is
    emptied after each test. (Serialized rollback would restore it, but clashes with the content types
    that an earlier flush of another module re-creates under new ids.)
    """
    from cases.models import Commune
    from cases.reference import load_communes

    if not Commune.objects.exists():
        load_communes(Commune)


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server, bound to the loopback address rather than 'localhost'."""
    server = live_server_helper.LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_failed = report.failed
    return report


@pytest.fixture
def people(request, transactional_db, live_server):
    """Opens fresh, logged-out browser sessions: `people.open("ts")`. Screenshots are kept on failure.

    One headless Chromium per test, started once the test's database is ready and stopped before it is
    flushed. Playwright's sync API runs an asyncio event loop in the main thread while it is open, which
    changes two things for Django in that thread:
    - it refuses ORM calls (SynchronousOnlyOperation), a guard meant for async code. The tests' own
      set-up and checks are plain sequential code and the live server answers from its own thread, so
      the guard protects nothing here: DJANGO_ALLOW_ASYNC_UNSAFE lifts it exactly while the browser is
      open;
    - asgiref gives the thread a separate set of database connections while a loop runs, which is why
      the browser starts once the database is ready and why the connections opened meanwhile are
      closed before it stops (and the database is flushed).
    """
    reason = unavailable_reason()
    if reason:
        if in_ci():
            pytest.fail(f"CI=true but the browser suite cannot run: {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        recorder = Recorder(browser, live_server.url, request.node.nodeid.split("::", 1)[-1])
        try:
            yield recorder
        finally:
            recorder.write(getattr(request.node, "browser_failed", True))
            recorder.close()
            browser.close()
            connections.close_all()
