"""What the browser tests share: the built book served on 127.0.0.1, and Debian's Chromium.

    @pytest.fixture(scope="module")
    def server():
        yield from serve(SITE)           # the site's base URL, "http://127.0.0.1:<port>/"

    @pytest.fixture(scope="module")
    def browser():
        yield from chromium()

The tests route every request that is not to the local server to `abort`: the book must work
offline. Chromium is never downloaded: set BYHAND_CHROMIUM to use another binary.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = os.environ.get("BYHAND_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's hosts at every start.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a page closed or left while loading breaks its connections: not an error here


ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("book", "chapters", "exercises", "solutions", "appendices", "_toc.yml", "_config.yml")


def fail_if_stale(site, fallback=None):
    """Fail with what to run if a file the book is built from is newer than the build in `site`
    (Sphinx writes .buildinfo at the end of every build; else `fallback`'s time; with neither
    the build counts as stale)."""
    built = site / ".buildinfo"
    built = built if built.exists() else fallback
    built = built.stat().st_mtime if built is not None and built.exists() else 0
    sources = [p for name in SOURCES
               for p in ([ROOT / name] if (ROOT / name).is_file() else (ROOT / name).rglob("*"))
               if p.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(p.parts)]
    newest = max(sources, key=lambda p: p.stat().st_mtime)
    if newest.stat().st_mtime > built:
        pytest.fail(f"the built book in _build/html is older than {newest.relative_to(ROOT)}: "
                    "run `make book`")


def serve(site, page="index.html"):
    """Serve the folder `site` on 127.0.0.1 (a generator for a fixture: yields the base URL).

    Fails with what to run if there is no built book, or if the repository's own build
    (_build/html) is older than a file it is built from: a stale site fails in odd places.
    """
    if not (Path(site) / page).exists():
        pytest.fail(f"no built book in {site}: run `make book` first (or set BYHAND_SITE)")
    if Path(site).resolve() == ROOT / "_build" / "html":  # BYHAND_SITE may name another build
        fail_if_stale(Path(site), Path(site) / page)
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


def chromium():
    """Launch Debian's Chromium headless (a generator for a fixture: yields the browser)."""
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


# A promise awaited in the page (the math fonts loading, an axe-core run) has no Playwright
# time limit: if it never settles the test would hang until CI gives up. Each gets this bound.
SETTLE_SECONDS = 120
BOUNDED = """async ([script, arg, seconds, what]) => {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(what + ' did not finish within ' + seconds + ' s')),
                       seconds * 1000);
  });
  try { return await Promise.race([(0, eval)(script)(arg), late]); } finally { clearTimeout(timer); }
}"""


def evaluate_bounded(page, script, arg=None, what="a script", seconds=SETTLE_SECONDS):
    """page.evaluate(script, arg), failing (not hanging) if its promise is not settled in time."""
    return page.evaluate(BOUNDED, [script, arg, seconds, what])


# Chromium's own "network idle" (Playwright's wait_for_load_state("networkidle")) sometimes never
# comes on these pages: a math font request it counts stays open after the page has every file.
# Quiet instead means no new resource for 300 ms, going by the page's own Resource Timing (the
# page has loaded and its fonts are in: nothing it needs is still to come).
QUIET = """async () => {
  const count = () => performance.getEntriesByType('resource').length;
  let seen = -1;
  while (seen !== count()) {
    seen = count();
    await new Promise((r) => setTimeout(r, 300));
  }
  return seen;
}"""


def quiet(page, seconds=SETTLE_SECONDS):
    """Wait until the page has asked for no new file for 300 ms (at most `seconds`)."""
    return evaluate_bounded(page, QUIET, what="the page's requests", seconds=seconds)


def typeset(page, seconds=SETTLE_SECONDS):
    """Wait until the page's formulas are drawn (at most `seconds`): they are MathML written when
    the book is built (book/ext/byhand_math.py), so what remains is loading the math font."""
    evaluate_bounded(page, "() => document.fonts.ready.then(() => true)",
                     what="loading the math fonts", seconds=seconds)


WIDGET_VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]'


def widgets_drawn(page, drawn=".jupyter-widgets", seconds=20):
    """Wait (at most `seconds`) until every stored widget view of the page has an element
    matching `drawn` beside it (the widget manager draws them after the page's load); return
    (views, drawn views)."""
    count = f"""() => [...document.querySelectorAll('{WIDGET_VIEWS}')]
                  .filter(s => s.parentElement.querySelector('{drawn}')).length"""
    views = page.locator(WIDGET_VIEWS).count()
    if views:
        try:
            page.wait_for_function(f"() => ({count})() === {views}", timeout=seconds * 1000)
        except PlaywrightTimeout:
            pass  # the caller says how many were not drawn
    return views, page.evaluate(count)


def only_local(base, blocked):
    """A route handler that lets requests to `base` through and aborts, and records in `blocked`,
    every other one: `page.route("**/*", only_local(server, blocked))`."""

    def route(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    return route
