"""The built web book in a real browser, offline.

Serves _build/html on 127.0.0.1, drives Debian's Chromium with Playwright, blocks every request
that is not to that server, and checks each page as a reader would see it: no JavaScript errors,
no missing file, every formula MathML (written at build time, by Temml in Node), every widget
rendered, light enough to load, solutions hidden until asked for, and the overflow explorer
responding to its slider. On every notebook page, the launch buttons (JupyterLite, Binder, Colab)
and the .ipynb download point where they should; and the JupyterLite app, served from the same
folder, opens a chapter's notebook.

Run `make book` first (`make test` does). Set BYHAND_CHROMIUM to use another Chromium binary.
"""

import json
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browser import chromium, only_local, quiet, serve, typeset, widgets_drawn
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_notebooks import JUPYTER_NOTE

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
# Uncompressed bytes one page loads (HTML, CSS, JS, fonts, images), by what it contains.
# Bytes a page may load, by kind. A plain page is mostly the theme's scripts and styles (about
# 0.85 MB); search.html adds the search index (0.15 MB in 2026-12). A page with explorers adds
# the widget manager (1.8 MB) to its math; the typeset formulas are most of a chapter's HTML
# (chapter 5, the largest: 461 formulas, 0.6 MB of its 1 MB; it loads 4.2 MB in all).
BUDGET = {"plain": 1_100_000, "math": 2_500_000, "widgets": 4_500_000}

PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if p.relative_to(SITE).parts[0] not in {"_static", "_sources", "vendor", "lite"}
    and p.name != "index.html"  # a redirect to the root page; checked on its own below
) if SITE.is_dir() else []


@pytest.fixture(scope="module")
def server():
    yield from serve(SITE)


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


# Pages are visited at a phone's width. Every check here holds at any width, and a phone is
# where a page can scroll sideways; opening each page at 1280 px and then laying it out again at
# 390 px cost 1-2 s a chapter. The wide screen is read by tests/test_site_readers.py (the
# sidebar, search) and tests/test_site_figures.py (figures at 1366 px).
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def reader(browser):
    """One browser profile for the page visits, as a reader has: the theme's files and the
    fonts come from its cache after the first page (each page still reports every file it
    loads, cached or not, to the byte budget)."""
    context = browser.new_context(viewport=PHONE)
    yield context
    context.close()


class Visit:
    """One page load, with everything that went wrong on the way."""

    def __init__(self, reader, base, path):
        self.page = reader.new_page()
        self.errors, self.blocked, self.missing = [], [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.missing.append(r.url))

        self.page.route("**/*", only_local(base, self.blocked))
        self.page.goto(base + path, wait_until="load")
        typeset(self.page)
        quiet(self.page)

    def count(self, selector):
        return self.page.locator(selector).count()

    def bytes_loaded(self):
        return self.page.evaluate(
            """() => performance.getEntriesByType('navigation')[0].decodedBodySize +
                   performance.getEntriesByType('resource').reduce((n, e) => n + e.decodedBodySize, 0)"""
        )


@pytest.fixture
def visit(reader, server):
    visits = []

    def open_page(path):
        visits.append(Visit(reader, server, path))
        return visits[-1]

    yield open_page
    for v in visits:
        v.page.close()


def test_the_book_has_its_pages():
    assert "intro.html" in PAGES
    assert any(p.startswith("chapters/") for p in PAGES)


def test_notes_for_jupyter_readers_stay_out_of_the_book():
    # The chapters' notes (tests/test_notebooks.py) are for JupyterLab; cells tagged remove-cell
    note = JUPYTER_NOTE.strip("*")
    shown = [p for p in PAGES if note in (SITE / p).read_text(encoding="utf-8")]
    assert PAGES and not shown, shown


def test_readers_do_not_see_the_notebooks_test_comments():
    # '# nbval-ignore-output: why' lines (tests/test_notebooks.py) are for the book's maintainers:
    # not on the chapters' pages, nor found by the search (the instructors' page explains nbval)
    chapters = [p for p in PAGES if p.startswith(("chapters/", "solutions/", "exercises/"))]
    shown = [p for p in chapters if "# nbval-" in (SITE / p).read_text(encoding="utf-8")]
    assert chapters and not shown, shown
    index = json.loads(re.search(r"Search\.setIndex\((.*)\)\s*$",
                                 (SITE / "searchindex.js").read_text(encoding="utf-8"), re.S).group(1))
    found = index["terms"].get("nbval", [])
    found = [index["docnames"][k] for k in (found if isinstance(found, list) else [found])]
    assert not [d for d in found if d.startswith(("chapters/", "solutions/", "exercises/"))], found


def test_every_page_gives_its_viewport_once():
    # Sphinx's layout, docutils and the theme each wrote one (book/ext/byhand_readers.py)
    viewports = {}
    for path in PAGES:
        metas = re.findall(r"<meta\b[^>]*>", (SITE / path).read_text(encoding="utf-8"))
        viewports[path] = [re.search(r"""content=["']([^"']*)""", m).group(1) for m in metas
                           if re.search(r"""name=["']viewport["']""", m)]
    wrong = {p: v for p, v in viewports.items() if v != ["width=device-width, initial-scale=1.0"]}
    assert PAGES and not wrong, wrong


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

    # Every widget rendered from its stored state (the widget manager runs once the page has
    # loaded: book/js/widgets-after-load.js), before anything else is counted.
    views, rendered = widgets_drawn(
        page.page, ".jupyter-widgets, .widget-container, .widget-inline-hbox")
    assert rendered == views, f"{views - rendered} of {views} widgets did not render"

    # Every formula is MathML, written when the book was built (book/ext/byhand_math.py): each
    # Sphinx math element holds one <math>, no TeX is left, and the page runs no MathJax.
    math = page.count("span.math, div.math")
    assert page.count("span.math > math, div.math > math") == math
    assert page.count("math merror") == 0, "a formula is an error"
    assert page.count('script[src*="vendor/mathjax/"]') == 0, "the page loads MathJax"
    # Screen readers read the same MathML that is drawn: none is hidden from them.
    assert page.count('math[aria-hidden="true"], [aria-hidden="true"] math') == 0
    if math:  # drawn in the book's math font, served by the site and loaded
        assert page.page.evaluate("""async () => {
            await document.fonts.ready;
            const family = getComputedStyle(document.querySelector("math")).fontFamily;
            return family.startsWith('"STIX Two Math"') &&
                   [...document.fonts].some(f => f.family.includes("STIX Two Math") &&
                                                 f.status === "loaded");
        }"""), "the formulas are not drawn in STIX Two Math"

    for label in page.page.locator(".widget-label").all_inner_texts():
        assert "\\(" not in label and "$" not in label, f"untypeset TeX in a widget label: {label!r}"

    kind = "widgets" if views else "math" if math else "plain"
    loaded = page.bytes_loaded()
    assert loaded <= BUDGET[kind], f"{path} loads {loaded:,} bytes; a {kind} page may load {BUDGET[kind]:,}"
    solutions_stay_hidden_until_clicked(page)

    # On a phone the page itself never scrolls sideways: wide content scrolls in its own box
    # (every page here; tests/test_site_readers.py reads a sample of pages at 360 px in full,
    # and a page resized to a phone's width after loading).
    assert page.page.viewport_size == PHONE
    if page.page.evaluate("() => Boolean(window.byhandReaders)"):  # it lays out wide boxes
        page.page.wait_for_function(
            "() => Number(document.documentElement.dataset.byhandReaders || 0) > 0",
            timeout=10000)
    width, scroll_width = page.page.evaluate(
        "() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]")
    assert scroll_width <= width, f"{path} scrolls sideways at 390 px: {scroll_width} > {width}"


def solutions_stay_hidden_until_clicked(page):
    """In-text solutions are folded: hidden until the reader clicks (checked on every page that
    has them, during the same visit as the checks above: a page load costs seconds)."""
    solutions = page.page.locator("details.solution, div.solution.dropdown, .solution.toggle")
    if solutions.count() == 0:
        return 0
    first = solutions.first
    body = first.locator(".solution-content, section, p").last
    assert not body.is_visible(), "a solution is visible before the reader asks for it"
    first.locator("summary, .toggle-button, button").first.click()
    body.wait_for(state="visible", timeout=5000)
    return solutions.count()


def test_every_chapter_has_folded_solutions():
    """What solutions_stay_hidden_until_clicked looks for is there: no page skips it silently."""
    for path in (p for p in PAGES if p.startswith("chapters/")):
        html = (SITE / path).read_text(encoding="utf-8")
        assert re.search(r'class="[^"]*solution', html), f"{path} has no folded solution"


def test_overflow_explorer_responds_to_its_slider(visit):
    page = visit("chapters/02_logsumexp.html")
    explorer = page.page.locator(".byhand-explorer").first
    explorer.wait_for(timeout=15000)
    explorer.scroll_into_view_if_needed()  # rendered once near the screen (content-visibility)
    views = explorer.locator(".widget-html-content")

    def shown():
        return " | ".join(t for t in views.all_inner_texts() if t.strip())

    try:  # the widget manager draws the explorer once the page has loaded
        page.page.wait_for_function(
            "(el) => [...el.querySelectorAll('.widget-html-content')].some(e => e.innerText.trim())",
            arg=explorer.element_handle(), timeout=15000)
    except PlaywrightTimeout:
        pass  # the assertion below says so
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


# --- Running the notebooks elsewhere: launch buttons and downloads -----------------------------

REPOSITORY = "backprop-by-hand/backprop-by-hand"
NOTEBOOK_PAGES = [p for p in PAGES if p.split("/")[0] in {"chapters", "exercises", "solutions"}]
LOGO = {"JupyterLite": "JupyterLite logo", "Binder": "Binder logo", "Colab": "Colab logo"}


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def launch_links(html, page_url):
    """The page's launch links by service, and its download link, as absolute URLs.

    Read from the HTML as served: the theme's tooltips later take the links' `title` away, so the
    launch links are known by their logos.
    """
    from bs4 import BeautifulSoup, SoupStrainer

    soup = BeautifulSoup(html, "html.parser", parse_only=SoupStrainer("a"))  # links alone: fast
    links = {}
    for service, alt in LOGO.items():
        found = [img.find_parent("a") for img in soup.find_all("img", alt=alt)]
        assert len(found) == 1, f"expected one {service} launch link, found {len(found)}"
        links[service] = urllib.parse.urljoin(page_url, found[0]["href"])
    (download,) = soup.select("a.btn-download-source-button")
    links["download"] = urllib.parse.urljoin(page_url, download["href"])
    return links


@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_launch_buttons_open_this_pages_notebook(server, path):
    notebook = path.removesuffix(".html") + ".ipynb"
    folder = notebook.rsplit("/", 1)[0]
    source = json.loads((ROOT / notebook).read_text(encoding="utf-8"))
    links = launch_links(fetch(server + path).decode(), server + path)

    # JupyterLite: this site's own lite/ folder, opening this page's notebook.
    assert links["JupyterLite"] == f"{server}lite/lab/index.html?path={notebook}"
    assert b"<html" in fetch(links["JupyterLite"]).lower(), "the lite app is not served"
    lite_copy = json.loads(fetch(f"{server}lite/files/{notebook}"))
    lite_cells = [c["source"] for c in lite_copy["cells"]]
    assert all(c["source"] in lite_cells for c in source["cells"]), "the lite copy is out of date"
    listing = json.loads(fetch(f"{server}lite/api/contents/{folder}/all.json"))
    assert {item["path"]: item["type"] for item in listing["content"]}.get(notebook) == "notebook", (
        f"{notebook} is not in the lite site's contents listing")

    # Binder and Colab: the same notebook in the repository.
    assert links["Binder"] == f"https://mybinder.org/v2/gh/{REPOSITORY}/main?urlpath=lab/tree/{notebook}"
    assert links["Colab"] == f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/{notebook}"

    # Download: the page's source notebook, as stored in the repository.
    assert links["download"].endswith(".ipynb"), f"the download menu offers {links['download']}"
    assert json.loads(fetch(links["download"])) == source


def test_launch_button_opens_the_chapter_in_jupyterlite(browser, server):
    """From a chapter page in the browser, the JupyterLite button's link opens that notebook.

    The lite app boots from this site alone. Its kernel would load Pyodide from the CDN, which
    this test blocks: that one request (made by the kernel's worker) is expected, and no other
    may leave the site. Whether the kernel then runs is for a browser with a network (README).
    """
    notebook = "chapters/02_logsumexp.ipynb"
    context = browser.new_context()
    blocked, missing = [], []

    context.route("**/*", only_local(server, blocked))
    page = context.new_page()
    page.on("response", lambda r: r.status >= 400 and missing.append(r.url))
    try:
        page.goto(server + notebook.replace(".ipynb", ".html"))
        button = page.locator(f'a:has(img[alt="{LOGO["JupyterLite"]}"])')
        href = button.evaluate("a => a.href")
        assert href == f"{server}lite/lab/index.html?path={notebook}"
        # Leaving this block waits for the kernel's worker to ask for Pyodide, the request the
        # checks below expect (no fixed sleep: under load it may come late).
        with page.expect_request(lambda r: r.url.endswith("/pyodide.mjs"), timeout=60000):
            page.goto(href)
            # The app first shows an empty notebook, its one code cell blank, and fills it in
            # when the file has loaded (1-2 s later; longer under load): wait for the first code
            # cell to have a source, not merely for a cell.
            first_code = page.locator(".jp-Notebook .jp-CodeCell").first
            first_code.locator(".cm-content").filter(has_text=re.compile(r"\S")).wait_for(
                timeout=60000)
            tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
            assert "02_logsumexp.ipynb" in tab.all_inner_texts()
            assert "piplite.install" in first_code.inner_text(), (
                "the install cell is not the first code cell")
    finally:
        context.close()
    assert missing == [], f"files the lite app asked for and did not get: {missing}"
    assert all(url.endswith("/pyodide.mjs") for url in blocked), f"requests to other hosts: {blocked}"
