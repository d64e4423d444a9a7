"""Pages opened as a person would: Debian's chromium, headless, driven by Playwright (never a
browser of Playwright's own), a fresh profile per test, a screenshot of what was seen."""

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# Where the screenshots stay after the tests, for a person to look at (reports/ is ignored by git).
SHOTS = Path(__file__).resolve().parents[1] / "reports" / "selftest-screenshots"


@pytest.fixture(scope="session")
def playwright():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run 'make deps' (Debian's chromium is in the package list)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright, tmp_path):
    profile = tmp_path / "chromium-profile"
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1360, "height": 900})
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(browser, path, shots, name):
    """Open a file in the browser, screenshot the whole page into shots/name.png and SHOTS/name.png."""
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    # One self-contained file: nothing is fetched from anywhere but the page itself.
    page.on("request", lambda req: None if req.url == Path(path).resolve().as_uri() or req.url.startswith(
        ("data:", "about:")) else errors.append(f"the page fetched {req.url}"))
    page.goto(Path(path).resolve().as_uri())
    page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(shots) / f"{name}.png", SHOTS / f"{name}.png")
    assert not errors, errors
    return page


def box(locator):
    b = locator.bounding_box()
    assert b is not None, f"{locator} is not rendered"
    return b
