"""Helpers of the browser suite: browser sessions with step screenshots, and the axe-core check."""

import os
import re
import shutil
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = expect = None
    PlaywrightError = Exception

CHROMIUM = os.environ.get("PPGDID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
# Screenshots are written on failure; PPGDID_SCREENSHOTS=always writes them for passing tests too.
ALWAYS_SCREENSHOT = os.environ.get("PPGDID_SCREENSHOTS") == "always"
# Generous: CI machines may be slow or busy; a wait ends as soon as its condition holds.
TIMEOUT_MS = 30_000
if expect is not None:
    expect.set_options(timeout=TIMEOUT_MS)
BLOCKING_IMPACTS = ("serious", "critical")

# Every axe violation seen in the run (all impacts), written to test-artifacts/axe-summary.json at the end.
AXE_SEEN: list[dict] = []
# Pages axe has checked, with their violation count (any impact).
AXE_PAGES: dict[str, int] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable_reason() -> str | None:
    if sync_playwright is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    return None


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


class Session:
    """One person at one browser (own cookies). `step()` keeps a screenshot for the failure report."""

    def __init__(self, recorder, context, name):
        self.recorder = recorder
        self.context = context
        self.name = name
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)

    def step(self, label: str):
        self.recorder.snap(self, label)


class Recorder:
    """Opens the browser sessions of one test and writes their step screenshots if the test fails."""

    def __init__(self, browser, base_url, test_name):
        self.browser = browser
        self.base_url = base_url
        self.dir = ARTIFACTS / _safe(test_name)
        self.sessions: list[Session] = []
        self.shots: list[tuple[str, bytes]] = []

    def open(self, name: str) -> Session:
        # bypass_csp: axe is injected as an inline script; the app's own CSP is not what is tested here.
        context = self.browser.new_context(base_url=self.base_url, locale="fr-FR", bypass_csp=True)
        session = Session(self, context, name)
        self.sessions.append(session)
        return session

    def snap(self, session: Session, label: str):
        try:
            image = session.page.screenshot(full_page=True)
        except PlaywrightError:
            return
        self.shots.append((f"{len(self.shots) + 1:02d}-{session.name}-{label}", image))

    def write(self, failed: bool):
        if not (failed or ALWAYS_SCREENSHOT):
            return
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        for name, image in self.shots:
            (self.dir / f"{_safe(name)}.png").write_bytes(image)
        if failed:  # each page as it was when the test failed
            for session in self.sessions:
                try:
                    session.page.screenshot(path=self.dir / f"zz-failure-{_safe(session.name)}.png", full_page=True)
                    (self.dir / f"zz-failure-{_safe(session.name)}.html").write_text(session.page.content())
                except PlaywrightError:
                    pass

    def close(self):
        for session in self.sessions:
            session.context.close()


def check_a11y(session: Session, page_name: str, *, fail: bool = True) -> list[str]:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    With fail=False, return the description of the serious and critical violations instead.
    """
    page = session.page
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = result["violations"]
    AXE_PAGES[page_name] = len(violations)
    for violation in violations:
        AXE_SEEN.append(
            {
                "page": page_name,
                "url": page.url,
                "rule": violation["id"],
                "impact": violation["impact"],
                "targets": [node["target"] for node in violation["nodes"]],
            }
        )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if not blocking:
        return []
    session.step(f"axe-{page_name}")
    lines = [f"axe: {len(blocking)} serious/critical violation(s) on {page_name} ({page.url}):"]
    for violation in blocking:
        lines.append(f"- {violation['id']} [{violation['impact']}] {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    if fail:
        pytest.fail("\n".join(lines), pytrace=False)
    return lines
