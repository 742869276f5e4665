"""Browser fixtures: Debian's chromium driven by Playwright, phone-sized pages on the live server,
the demo brand loaded through ``weishang demo``'s service, and screenshots kept as test artifacts.

Chromium is launched once for all of them, from ``WEISHANG_CHROMIUM`` (default /usr/bin/chromium;
``scripts/ensure-chromium``, run by ``make test``, installs it where it can). Where it is missing,
every test here is skipped with a message that says so (repeated at the end of the run); where
it is there but does not start, they fail. Each test takes its own screenshots (``shot``); a
failing test also leaves a picture of every page it still had open.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

CHROMIUM = os.environ.get("WEISHANG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 780}
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "browser"
TIMEOUT_MS = 15_000
SCREENSHOT_STYLE = "nav.tabs { position: static !important; }"
DEMO_AGENTS = 60  # the smallest demo in which the 特约 login is supplied by the 市代 login


SKIPPED = "browser tests skipped"


class _Chromium:
    """The one chromium the browser tests share. It starts with the first of them and stops after
    the last (pytest-django runs them one after another): Playwright's sync API keeps an event
    loop registered on the main thread while it runs, which no later test should find there."""

    playwright = None
    browser = None
    async_unsafe = None

    def start(self):
        sync_api = pytest.importorskip("playwright.sync_api", reason=f"{SKIPPED}: playwright is not installed")
        # That event loop makes Django's ORM believe it is called from async code; the tests are
        # plain synchronous code (the live server runs in its own thread), so allow the ORM for
        # as long as Playwright runs.
        self.async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        self.playwright = sync_api.sync_playwright().start()
        try:
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception:
            self.stop()
            raise
        return self.browser

    def stop(self):
        if self.playwright is None:
            return
        try:
            if self.browser is not None:
                self.browser.close()
        finally:
            self.playwright.stop()
            self.playwright = self.browser = None
            if self.async_unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self.async_unsafe


_chromium = _Chromium()


def _no_chromium() -> str | None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"{SKIPPED}: no chromium at {CHROMIUM} (run scripts/ensure-chromium, "
        "or set WEISHANG_CHROMIUM to a chromium executable)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Without chromium, skip before anything is set up (the database, the live server)."""
    reason = _no_chromium()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def browser():
    """The shared chromium."""
    reason = _no_chromium()
    if reason:
        pytest.skip(reason)
    return _chromium.browser or _chromium.start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last browser test of a run (its fixtures and database torn down), stop chromium."""
    result = yield
    if nextitem is None or nextitem.get_closest_marker("browser") is None:
        _chromium.stop()
    return result


def pytest_sessionfinish():
    _chromium.stop()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploaded transfer screenshots go to the test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


def _safe(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-")[:80] or "step"


@pytest.fixture
def shot(request) -> Callable:
    """shot(page, "step") saves var/artifacts/browser/<test>/<NN>-<step>.png (the whole page), and
    checks that a phone page (anything outside the console) fits the phone's width: nobody should
    have to scroll sideways."""
    folder = ARTIFACTS / _safe(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = 0

    def save(page, step: str) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{_safe(step)}.png"
        # The whole page, with the phone pages' bottom tab bar drawn where it sits in the page
        # rather than across the middle of the picture.
        page.screenshot(path=str(path), full_page=True, style=SCREENSHOT_STYLE)
        if not urlsplit(page.url).path.startswith(reverse("admin:index")):
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"
        return path

    save.folder = folder
    return save


@pytest.fixture
def phone(browser, live_server, request) -> Iterator[Callable]:
    """phone(locale="zh-CN") -> a new page in its own 360×780 phone context (its own cookies: one
    person each), addressed to the live server. Pages still open when a test fails are saved as
    failed-<N>.png next to the test's screenshots. Anything the Content Security Policy blocked on
    any page fails the test."""
    contexts = []
    refused: list[str] = []  # what the Content Security Policy blocked: a page that breaks in production

    def watch(page) -> None:
        def on_console(message) -> None:
            if message.type == "error" and "Content Security Policy" in message.text:
                refused.append(f"{page.url}: {message.text}")

        page.on("console", on_console)

    def open_page(locale: str = "zh-CN", user_agent: str | None = None):
        extra = {"user_agent": user_agent} if user_agent else {}
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale=locale, base_url=live_server.url, **extra
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", watch)
        contexts.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / _safe(request.node.name)
        folder.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(p for c in contexts for p in c.pages):
            try:
                page.screenshot(path=str(folder / f"failed-{i + 1}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a page that cannot be drawn any more is no reason to hide the failure
                pass
    for context in contexts:
        context.close()
    if refused:
        pytest.fail("The Content Security Policy blocked:\n" + "\n".join(refused[:10]))


@pytest.fixture
def page(phone):
    """A phone in Chinese (zh-CN), the brand's language."""
    return phone("zh-CN")


@pytest.fixture
def page_en(phone):
    """A phone whose browser asks for English."""
    return phone("en-US")


def pytest_terminal_summary(terminalreporter):
    """Say so at the end of the run when the browser tests were skipped (-q hides skip reasons)."""
    reasons = {
        str(report.longrepr[2])
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and SKIPPED in str(report.longrepr[2])
    }
    for reason in sorted(reasons):
        terminalreporter.write_line(reason.removeprefix("Skipped: "), yellow=True, bold=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.fixture
def demo_loader(live_server, transactional_db, fast_hasher, monkeypatch) -> Callable:
    """demo_loader(plan=True) loads the demo brand (焕颜 GLOW) as ``weishang demo --agents 60`` does:
    staff in their roles, a login per level (the 特约 login supplied by the 市代 login), cloud
    stock, and the lawful retail-first plan in force with its rewards (free entry: an approved
    applicant is active at once). With ``plan=False`` it is loaded as where the package has no
    example plans: no plan, so each level's entry order (授权单) is owed before an agent is active."""
    from weishang.channel.models import Agent
    from weishang.demo import services as demo_services

    def load(*, plan: bool = True) -> SimpleNamespace:
        if not plan:
            monkeypatch.setattr(demo_services, "PLAN_FILE", Path("/nonexistent/plan.yaml"))
        demo_services.demo_load(agents=DEMO_AGENTS)
        logins = {
            rank: Agent.objects.select_related("level", "user").get(
                user__phone=demo_services.LOGIN_PHONE.format(rank=rank)
            )
            for rank in range(1, 6)
        }
        return SimpleNamespace(
            url=live_server.url, partner=logins[1], general=logins[2], province=logins[3], city=logins[4], vip=logins[5]
        )

    return load


@pytest.fixture
def demo(demo_loader) -> SimpleNamespace:
    """The demo brand as ``make run`` shows it (see ``demo_loader``)."""
    return demo_loader()
