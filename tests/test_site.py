"""The built web book in a real browser, offline.

Serves _build/html on 127.0.0.1, drives Debian's Chromium with Playwright, blocks every request
that is not to that server, and checks each page as a reader would see it: no JavaScript errors,
no missing file, every formula typeset by MathJax, every widget rendered, light enough to load,
solutions hidden until asked for, and the overflow explorer responding to its slider.

Run `make book` first (`make test` does). Set BYHAND_CHROMIUM to use another Chromium binary.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent.parent / "_build" / "html"
CHROMIUM = os.environ.get("BYHAND_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Uncompressed bytes one page loads (HTML, CSS, JS, fonts, images), by what it contains.
BUDGET = {"plain": 1_000_000, "math": 2_500_000, "widgets": 4_000_000}

PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if p.relative_to(SITE).parts[0] not in {"_static", "_sources", "vendor"}
    and p.name != "index.html"  # a redirect to the root page; checked on its own below
) if SITE.is_dir() else []


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail("no built book in _build/html: run `make book` first")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's package (`apt-get install chromium`) "
            "or set BYHAND_CHROMIUM; the tests never download a browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


class Visit:
    """One page load, with everything that went wrong on the way."""

    def __init__(self, browser, base, path):
        self.page = browser.new_page()
        self.errors, self.blocked, self.missing = [], [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.missing.append(r.url))

        def only_local(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:
                self.blocked.append(route.request.url)
                route.abort()

        self.page.route("**/*", only_local)
        self.page.goto(base + path, wait_until="load")
        self.page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        self.page.wait_for_load_state("networkidle")

    def count(self, selector):
        return self.page.locator(selector).count()

    def bytes_loaded(self):
        return self.page.evaluate(
            """() => performance.getEntriesByType('navigation')[0].decodedBodySize +
                   performance.getEntriesByType('resource').reduce((n, e) => n + e.decodedBodySize, 0)"""
        )


@pytest.fixture
def visit(browser, server):
    visits = []

    def open_page(path):
        visits.append(Visit(browser, server, path))
        return visits[-1]

    yield open_page
    for v in visits:
        v.page.close()


def test_the_book_has_its_pages():
    assert "intro.html" in PAGES
    assert any(p.startswith("chapters/") for p in PAGES)


def test_the_site_root_leads_to_the_book(browser, server):
    page = browser.new_page()
    page.goto(server + "index.html")
    page.wait_for_url("**/intro.html", timeout=5000)
    assert page.locator("h1").first.inner_text().startswith("Backprop by Hand")
    page.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_works_offline(visit, path):
    page = visit(path)
    assert page.blocked == [], f"requests to other hosts: {page.blocked}"
    assert page.missing == [], f"files the page asked for and did not get: {page.missing}"
    assert page.errors == [], f"JavaScript errors: {page.errors}"

    # Every formula typeset: each Sphinx math element holds MathJax's output, and no TeX is left.
    math = page.count("span.math, div.math")
    assert page.count("span.math mjx-container, div.math mjx-container") == math
    assert page.count("mjx-merror") == 0, "MathJax reports a TeX error"

    # Every widget rendered from its stored state.
    views = page.count('script[type="application/vnd.jupyter.widget-view+json"]')
    if views:
        page.page.wait_for_selector(".jupyter-widgets", timeout=15000)
    rendered = page.page.evaluate(
        """() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
              .filter(s => s.parentElement.querySelector('.jupyter-widgets, .widget-container, .widget-inline-hbox'))
              .length"""
    )
    assert rendered == views, f"{views - rendered} of {views} widgets did not render"
    for label in page.page.locator(".widget-label").all_inner_texts():
        assert "\\(" not in label and "$" not in label, f"untypeset TeX in a widget label: {label!r}"

    kind = "widgets" if views else "math" if math else "plain"
    loaded = page.bytes_loaded()
    assert loaded <= BUDGET[kind], f"{path} loads {loaded:,} bytes; a {kind} page may load {BUDGET[kind]:,}"


@pytest.mark.parametrize("path", [p for p in PAGES if p.startswith("chapters/")])
def test_solutions_stay_hidden_until_clicked(visit, path):
    page = visit(path)
    solutions = page.page.locator("details.solution, div.solution.dropdown, .solution.toggle")
    if solutions.count() == 0:
        pytest.skip("no in-text solutions on this page")
    first = solutions.first
    body = first.locator(".solution-content, section, p").last
    assert not body.is_visible(), "a solution is visible before the reader asks for it"
    first.locator("summary, .toggle-button, button").first.click()
    body.wait_for(state="visible", timeout=5000)


def test_overflow_explorer_responds_to_its_slider(visit):
    page = visit("chapters/02_logsumexp.html")
    explorer = page.page.locator(".byhand-explorer").first
    explorer.wait_for(timeout=15000)
    views = explorer.locator(".widget-html-content")

    def shown():
        return " | ".join(t for t in views.all_inner_texts() if t.strip())

    before = shown()
    assert before, "the explorer shows nothing"
    handle = explorer.locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    page.page.wait_for_function(
        "([el, old]) => [...el.querySelectorAll('.widget-html-content')].map(e => e.innerText)"
        ".filter(t => t.trim()).join(' | ') !== old",
        arg=[explorer.element_handle(), before], timeout=5000,
    )
    after = shown()
    assert after != before
    # and back again: the view depends on the slider alone
    handle.press("ArrowLeft")
    page.page.wait_for_timeout(300)
    assert shown() == before
