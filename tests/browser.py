"""Shared Playwright fixtures for tests marked `browser`.

Import the fixtures into a test module (`from tests.browser import browser, page  # noqa`)
and serve the app with pytest-django's `live_server` (the test needs
`django_db(transaction=True)` so the server thread sees its rows).

`page` opens at a laptop's viewport; a test that wants a phone asks for it with
`@pytest.mark.parametrize("page", ["phone"], indirect=True)`, or opens a second
page with `new_page(browser, "phone")`.
"""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORTS = {
    "phone": {"width": 360, "height": 640},
    "laptop": {"width": 1280, "height": 800},
}
# Generous enough for a loaded 2-core machine, short enough to fail a broken page quickly.
TIMEOUT_MS = 15_000


# Every module that imports `browser` gets its own session fixture, but the sync API
# allows one Playwright per thread: the fixtures all hand out this one.
_running = {}


def _wait_without_eval():
    """Pages run under a Content-Security-Policy without 'unsafe-eval', and Playwright
    polls a wait_for_function *expression* string with eval, which that policy refuses
    (a function it does not). Every expression is passed on as an arrow function, so the
    tests keep the policy the app really sends."""
    from playwright.sync_api import Page

    original = Page.wait_for_function
    if getattr(original, "_without_eval", False):
        return

    def wait_for_function(self, expression, *args, **kwargs):
        text = expression.strip()
        if not text.startswith(("(", "function", "async")) and "=>" not in text.split("(")[0]:
            expression = f"() => ({text})"
        return original(self, expression, *args, **kwargs)

    wait_for_function._without_eval = True
    Page.wait_for_function = wait_for_function


def _shared_chromium():
    if "chromium" not in _running:
        from playwright.sync_api import sync_playwright

        _wait_without_eval()

        playwright = sync_playwright().start()
        _running["playwright"] = playwright
        _running["chromium"] = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
    return _running["chromium"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    # Playwright's sync API runs an event loop in this thread, and Django refuses
    # ORM calls from a thread with a running loop; the test's own ORM calls are
    # ordinary synchronous code, so it is safe to let them through.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield _shared_chromium()
    # Session fixtures are finished together at the end of the run: the first closes.
    chromium = _running.pop("chromium", None)
    if chromium is not None:
        chromium.close()
        _running.pop("playwright").stop()


def new_page(browser, viewport="laptop", **context_options):
    """A page in a fresh context (own cookies) at the `viewport` named in VIEWPORTS."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def page(browser, request):
    viewport = getattr(request, "param", "laptop")
    page = new_page(browser, viewport)
    yield page
    page.context.close()


def log_in(page, live_server, username, password):
    """Log in through the login form, as a person would."""
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
