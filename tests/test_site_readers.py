"""The built web book as phone, dark-mode, keyboard and screen-reader users get it.

Every page is opened at 360×800 (a narrow phone: the explorers must fit 360 px; tests/test_site.py
visits every page at 390 px) in Chromium, from a local server with every other request blocked,
with the system set to light, then switched to dark and back (the page follows the system), and
checked as a reader would see it:
- the page never scrolls sideways, and nothing is cut off at the right edge: wide formulas,
  tables, code and outputs scroll inside their own box;
- every explorer's controls and readouts, and the box its views scroll in, are on the screen;
- every box that scrolls (code, outputs, formulas, tables) can be reached with the keyboard;
- the page follows the system's colour scheme, and in dark mode nothing is a pale slab
  (explorers) or dimmed (figures);
- zero serious or critical accessibility violations (axe-core's WCAG 2.1 A and AA rules): on one
  page of each kind in `make test` (AXE_SAMPLE), on every page with BYHAND_AXE_EVERY_PAGE=1
  (`make a11y`); in dark mode on a chapter and a solution (DARK_AXE_PAGES);
- the ☰ button opens the table of contents on every page; on one page of each kind
  (NAVIGATE_SAMPLE) a chapter link in it leads to that chapter; the in-page contents button
  opens the page's contents.
A few site-wide things are checked once: the ☰ button on a wide screen, search snippets, the
front page's contents.

The site is BYHAND_SITE (default `_build/html`; `make book` builds it). axe-core comes from npm,
pinned, via tools/fetch_assets.py into `_build/test-assets/` (the site never serves it).
"""

import os
import re
from pathlib import Path

import pytest
from browser import chromium, evaluate_bounded, only_local, serve, typeset, widgets_drawn

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BYHAND_SITE") or ROOT / "_build" / "html").resolve()
AXE = ROOT / "_build" / "test-assets" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1366, "height": 900}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if p.relative_to(SITE).parts[0] not in {"_static", "_sources", "vendor", "lite"}
    and p.name != "index.html"
) if SITE.is_dir() else []
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]


@pytest.fixture(scope="module")
def server():
    yield from serve(SITE, "intro.html")


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: run `python tools/fetch_assets.py` (`make book` does)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def contexts(browser, server):
    """One browser context per colour scheme, phone-sized, that reaches only the local server."""
    made = {}

    def context(scheme):
        if scheme not in made:
            ctx = browser.new_context(viewport=PHONE, color_scheme=scheme)
            blocked = []

            ctx.route("**/*", only_local(server, blocked))
            ctx.blocked = blocked
            made[scheme] = ctx
        return made[scheme]

    yield context
    for ctx in made.values():
        ctx.close()


def settle(page):
    """Wait until the math fonts have loaded, the widgets have rendered and readers.js has run
    after both."""
    typeset(page)
    views, drawn = widgets_drawn(page)
    assert drawn == views, f"{views - drawn} of {views} widgets were not drawn in 20 s"
    # Sections below the screen are not rendered until a reader scrolls near them (readers.css:
    # content-visibility), and their text has no innerText until then: the checks read each
    # section as it is once scrolled to.
    page.evaluate("""() => document.querySelectorAll('.bd-article > section > section')
                           .forEach(s => { s.style.contentVisibility = 'visible'; })""")
    # readers.js runs (debounced) after every change to the page; wait for a run after this point.
    if not page.evaluate("() => Boolean(window.byhandReaders)"):
        return  # a site without it: the checks below say what is missing
    # ...having run by itself once the page had loaded (its tab stops are the only ones: the
    # theme's own pass at `load` is taken out, book/ext/byhand_readers.py)
    page.wait_for_function("() => Number(document.documentElement.dataset.byhandReaders || 0) >= 1",
                           timeout=10000)
    runs = page.evaluate("() => Number(document.documentElement.dataset.byhandReaders || 0)")
    page.evaluate("() => window.dispatchEvent(new Event('resize'))")
    page.wait_for_function(
        "(n) => Number(document.documentElement.dataset.byhandReaders || 0) > n", arg=runs,
        timeout=10000,
    )


def open_page(context, server, path):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.goto(server + path, wait_until="load")
    settle(page)
    page.errors = errors
    return page


# Elements that stick out of the viewport on the right and are not inside a box that scrolls:
# either the page scrolls sideways, or they are cut off.
CUT_OFF = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('.bd-main *')) {
    const b = el.getBoundingClientRect();
    if (b.width === 0 || b.height === 0 || b.right <= vw + 1) continue;
    if (el.closest('.visually-hidden, .sr-only, dialog')) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    let box = el.parentElement;
    for (; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') break;
    }
    const scrolls = box && box !== document.body && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
    if (scrolls && box.getBoundingClientRect().right <= vw + 1) continue;  // scrolls in its own box
    if (out.some(o => o.el.contains(el))) continue;  // report the outermost only
    out.push({el, text: `${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]} ` +
      `"${(el.innerText || el.textContent || '').trim().slice(0, 40)}" right=${Math.round(b.right)}`});
  }
  return out.map(o => o.text).slice(0, 8);
}"""

# Explorer parts that must be on the screen: labels, sliders, readouts, buttons, the view's box.
EXPLORER_PARTS = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  const parts = '.widget-label, .slider-container, .widget-readout, .widget-toggle-button, .byhand-view';
  document.querySelectorAll('.byhand-explorer').forEach((ex, i) => {
    ex.querySelectorAll(parts).forEach(el => {
      const b = el.getBoundingClientRect();
      if (b.width === 0 || b.height === 0) return;  // a view not shown
      if (b.left < -1 || b.right > vw + 1)
        out.push(`explorer ${i + 1}: ${el.className.split(' ')[0]} "${el.innerText.trim().slice(0, 20)}" ` +
                 `at x=${Math.round(b.left)}..${Math.round(b.right)} (screen: 0..${vw})`);
    });
  });
  return {explorers: document.querySelectorAll('.byhand-explorer').length, out};
}"""

# Boxes that scroll (their content is wider or taller than they are) which a keyboard cannot reach:
# no tab stop of their own and nothing focusable inside to scroll them to.
UNREACHABLE_SCROLLERS = """() => {
  const focusable = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])';
  const out = [];
  for (const el of document.querySelectorAll('.bd-article *')) {
    const style = getComputedStyle(el);
    const x = ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const y = ['auto', 'scroll'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
    if (!(x || y) || el.tabIndex >= 0 || el.querySelector(focusable)) continue;
    out.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]} ` +
             `"${(el.innerText || el.textContent || '').trim().slice(0, 30)}"`);
  }
  return out.slice(0, 8);
}"""

# Luminance (0 black .. 1 white) of what is painted behind an element: the first opaque background
# among it and its ancestors.
LUMINANCE = """(selector) => [...document.querySelectorAll(selector)].slice(0, 20).map(el => {
  for (let e = el; e; e = e.parentElement) {
    const m = getComputedStyle(e).backgroundColor.match(/[\\d.]+/g).map(Number);
    if (m.length < 4 || m[3] > 0.5) return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255;
  }
  return 1;
})"""

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations'], selectors: false, iframes: false});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}, ${v.nodes.length}): ${v.help}; e.g. ${v.nodes[0].html.slice(0, 160)}`);
}"""

# axe-core takes 5-40 s on a chapter page (most of the time of this file): `make test` runs it
# on one page of each kind, and on every page with BYHAND_AXE_EVERY_PAGE=1 (`make a11y`).
AXE_EVERY_PAGE = os.environ.get("BYHAND_AXE_EVERY_PAGE") == "1"
AXE_SAMPLE = {
    "intro.html", "chapters/04_log_softmax.html", "exercises/03_softmax.html",
    "solutions/06_linear.html", "appendices/rules.html", "search.html",
}
NAVIGATE_SAMPLE = {"intro.html", "chapters/02_logsumexp.html", "exercises/03_softmax.html",
                   "solutions/06_linear.html", "appendices/rules.html"}

# Pages checked by axe in dark mode too: a chapter with math, code, outputs and an explorer, and
# a solution page. The colour rules are the only ones whose outcome can change with the scheme,
# and axe takes 5-40 s on a chapter page: every page twice would double this file's time
# (`make a11y` checks every page in light mode).
DARK_AXE_PAGES = [p for p in PAGES if p in {
    "chapters/02_logsumexp.html", "solutions/02_logsumexp.html",
}]


# A button the checks above clicked keeps the pointer and the focus, so its tooltip may be on
# screen, fading (its contrast mid-fade is not what a reader sees): pointer and focus move away,
# and the tooltip goes, before axe runs.
NO_TOOLTIP = """async () => {
  if (document.activeElement) document.activeElement.blur();
  for (let i = 0; i < 40 && document.querySelector('.tooltip'); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}"""


def axe_problems(page, axe_source):
    page.mouse.move(0, 0)
    evaluate_bounded(page, NO_TOOLTIP, what="hiding a tooltip")
    page.add_script_tag(content=axe_source)
    return [f"axe: {v}" for v in evaluate_bounded(page, AXE_RUN, WCAG, "axe-core")]


def sidebar_checks(page, path, server, navigate):
    """The ☰ button opens the table of contents; a chapter link in it leads there."""
    problems = []
    secondary = page.locator(".secondary-toggle:visible")
    if secondary.count() and page.locator("#pst-secondary-sidebar .page-toc, "
                                          "#pst-secondary-sidebar nav").count():
        secondary.first.click(timeout=5000)
        try:
            page.wait_for_selector("#pst-secondary-sidebar-modal[open]", timeout=3000)
        except Exception:
            problems.append("the in-page contents button does not open the page's contents")
        else:
            page.keyboard.press("Escape")
            page.wait_for_selector("#pst-secondary-sidebar-modal:not([open])", state="attached", timeout=3000)
    toggle = page.locator(".primary-toggle:visible")
    if toggle.count() != 1:
        return problems + [f"expected one visible ☰ button, found {toggle.count()}"]
    toggle.click(timeout=5000)
    try:
        page.wait_for_selector("#pst-primary-sidebar-modal[open]", timeout=3000)
    except Exception:
        return problems + ["the ☰ button does not open the table of contents"]
    links = page.locator("#pst-primary-sidebar-modal a.reference.internal")
    hrefs = links.evaluate_all("as => as.map(a => a.href.split('#')[0])")
    other = next((i for i, href in enumerate(hrefs)
                  if "/chapters/" in href and href != server + path and links.nth(i).is_visible()),
                 None)
    if other is None:
        return problems + ["the open table of contents shows no link to another chapter"]
    target = links.nth(other)
    box = target.bounding_box()
    if box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 1:
        problems.append("the table of contents does not fit the screen")
    if not navigate:
        page.keyboard.press("Escape")
        page.wait_for_selector("#pst-primary-sidebar-modal:not([open])", state="attached",
                               timeout=3000)
        return problems
    if navigate:
        href = target.evaluate("a => a.href")
        target.click()
        try:
            page.wait_for_url(href, wait_until="commit", timeout=10000)
        except Exception:
            problems.append(f"following {href} from the table of contents did not navigate")
    return problems


def what_is_seen(page, path, scheme):
    """Problems a reader sees in the page as shown now, in the colour scheme `scheme`."""
    problems = []
    width, scroll_width = page.evaluate(
        "() => [window.innerWidth, document.documentElement.scrollWidth]")
    if scroll_width > width:
        problems.append(f"the page scrolls sideways: {scroll_width} px wide on a {width}-px screen")
    cut = page.evaluate(CUT_OFF)
    if cut:
        problems.append(f"content beyond the right edge, not in a scrolling box: {cut}")
    problems += page.evaluate(EXPLORER_PARTS)["out"]
    # The links to the previous and next pages clip what does not fit them (overflow hidden,
    # the theme's): a long title must not push its arrow, or itself, out of the link.
    clipped = page.evaluate("""() => [...document.querySelectorAll('.prev-next-area a')]
        .filter(a => a.scrollWidth > a.clientWidth + 1 || [...a.querySelectorAll('i, p')].some(e => {
            const box = a.getBoundingClientRect(), r = e.getBoundingClientRect();
            return r.left < box.left - 1 || r.right > box.right + 1; }))
        .map(a => a.innerText.replace(/\\s+/g, ' ').trim())""")
    if clipped:
        problems.append(f"previous/next links cut off: {clipped}")
    # Code is drawn in its highlighting style's text colour (the spans that only set it are
    # dropped when the book is built: book/ext/byhand_readers.py).
    recoloured = page.evaluate("""() => [...document.querySelectorAll('.bd-article div.highlight > pre')]
        .filter(pre => getComputedStyle(pre).color !== getComputedStyle(pre.parentElement).color)
        .map(pre => `${getComputedStyle(pre).color} in ${getComputedStyle(pre.parentElement).color}`)""")
    if recoloured:
        problems.append(f"{len(recoloured)} code blocks not in their highlighting colour: {recoloured[:2]}")
    unreachable = page.evaluate(UNREACHABLE_SCROLLERS)
    if unreachable:
        problems.append(f"boxes that scroll, without a tab stop: {unreachable}")

    theme = page.evaluate("() => document.documentElement.dataset.theme")
    if theme != scheme:
        return problems + [f"the system asks for {scheme}; the page shows {theme}"]
    (page_bg,) = page.evaluate(LUMINANCE, ".bd-article") or [None]
    if page_bg is not None and (page_bg > 0.3 if scheme == "dark" else page_bg < 0.7):
        problems.append(f"a {scheme} page with a background of luminance {page_bg:.2f}")
    if scheme == "dark":
        slabs = [x for x in page.evaluate(LUMINANCE, ".byhand-explorer .byhand-view, "
                                          ".byhand-explorer .widget-html-content") if x > 0.3]
        if slabs:
            problems.append(f"{len(slabs)} explorer views on a light background in dark mode")
        dimmed = page.evaluate("""() => [...document.querySelectorAll('.bd-article img')]
            .filter(i => i.getBoundingClientRect().width > 0 && getComputedStyle(i).filter !== 'none')
            .map(i => i.alt || i.src.slice(-30))""")
        if dimmed:
            problems.append(f"figures dimmed in dark mode: {dimmed[:3]}")
    return [f"[{scheme}] {p}" for p in problems]


def switch_scheme(page, scheme):
    """The reader's system switches to `scheme`; the page (default_mode auto) follows it."""
    page.emulate_media(color_scheme=scheme)
    page.wait_for_function("(s) => document.documentElement.dataset.theme === s", arg=scheme,
                           timeout=5000)
    settle(page)


# The full reading of a page at 360 px (light, dark, sidebars, explorers, cut-off elements) takes
# 5-25 s a page on two busy cores: `make test` reads one page of each kind and the chapters
# with the widest tables and explorers; `make a11y` (BYHAND_AXE_EVERY_PAGE=1) reads every page,
# the mistakes appendix (the longest page, 25 s) included. That no page scrolls sideways at
# 390 px is checked on every page in make test, by tests/test_site.py, in the same visit as its
# other checks; that no code or printed line is wider than the code column, on every notebook
# by tests/test_notebooks.py; the figures at 390 px by tests/test_site_figures.py (chapters 2,
# 9 and 10).
PHONE_SAMPLE = {
    "intro.html", "chapters/01_jacobians.html", "chapters/02_logsumexp.html",
    "chapters/04_log_softmax.html", "exercises/03_softmax.html", "solutions/06_linear.html",
    "appendices/rules.html", "search.html",
    "chapters/08_residual.html",  # the longest "next" title: at 360 px it cut off the arrow
} | AXE_SAMPLE | NAVIGATE_SAMPLE
PHONE_PAGES = PAGES if AXE_EVERY_PAGE else [p for p in PAGES if p in PHONE_SAMPLE]


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_page_reads_well_on_a_phone(contexts, server, axe_source, path):
    """Loaded with the system in light mode, then switched to dark and back (one load per page:
    the page follows the system's setting live; test_dark_pages_pass_axe loads pages in dark)."""
    context = contexts("light")
    page = open_page(context, server, path)
    problems = []
    try:
        problems += what_is_seen(page, path, "light")
        if path.startswith("solutions/"):
            prompts = set(page.locator("details.hide > summary").all_inner_texts())
            if prompts and prompts != {"Show solution"}:
                problems.append(f"solution toggles read {prompts}, not 'Show solution'")
        switch_scheme(page, "dark")
        problems += what_is_seen(page, path, "dark")
        problems += [f"[dark] {p}" for p in sidebar_checks(page, path, server, navigate=False)]
        switch_scheme(page, "light")
        if AXE_EVERY_PAGE or path in AXE_SAMPLE:
            problems += axe_problems(page, axe_source)
        # Following a link loads and typesets a second page: on one page of each kind (the
        # table of contents is the same template everywhere; the ☰ button opens it on every page)
        problems += sidebar_checks(page, path, server, navigate=path in NAVIGATE_SAMPLE)
        problems += page.errors
    finally:
        page.close()
    assert not problems, f"{path} ({PHONE['width']} px):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", DARK_AXE_PAGES)
def test_dark_pages_pass_axe(contexts, server, axe_source, path):
    page = open_page(contexts("dark"), server, path)
    try:
        problems = what_is_seen(page, path, "dark")  # loaded with the system in dark mode
        problems += axe_problems(page, axe_source)
    finally:
        page.close()
    assert not problems, f"{path} (dark, {PHONE['width']} px):\n  " + "\n  ".join(problems)


def test_the_sidebar_button_collapses_the_sidebar_on_a_wide_screen(contexts, server):
    page = open_page(contexts("light"), server, "chapters/02_logsumexp.html")
    try:
        page.set_viewport_size(DESKTOP)
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        page.locator(".primary-toggle:visible").click()
        sidebar.wait_for(state="hidden", timeout=3000)
        page.locator(".primary-toggle:visible").click()
        sidebar.wait_for(state="visible", timeout=3000)
    finally:
        page.close()


def test_search_snippets_show_formulas_as_text_and_the_icon_clears_the_typed_text(contexts, server):
    page = contexts("light").new_page()
    try:
        page.set_viewport_size(DESKTOP)
        page.goto(server + "search.html?q=logsumexp", wait_until="load")
        page.wait_for_selector("#search-results ul.search li p.context", timeout=20000)
        snippets = page.locator("#search-results ul.search li p.context").all_inner_texts()
        assert snippets
        tex = [s for s in snippets if re.search(r"\\[()\[\]]|\\[A-Za-z]+", s)]
        assert not tex, f"search snippets with raw TeX: {tex[:2]}"
        # the first typed letter starts to the right of the magnifier
        field = page.locator(".bd-search input[name=q]:visible").first
        icon = page.locator(".bd-search:has(input:visible) .fa-magnifying-glass").first
        text_left = field.evaluate(
            "i => i.getBoundingClientRect().left + parseFloat(getComputedStyle(i).paddingLeft)")
        icon_box = icon.bounding_box()
        assert text_left >= icon_box["x"] + icon_box["width"], (
            f"the search icon (x {icon_box['x']:.0f}..{icon_box['x'] + icon_box['width']:.0f}) "
            f"covers the first typed letter (x {text_left:.0f})")
    finally:
        page.close()


def test_the_front_page_lists_every_chapter():
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((SITE / "intro.html").read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article") or soup
    linked = {a["href"].split("#")[0] for a in article.select("a.reference.internal[href]")}
    missing = [c for c in CHAPTERS if c not in linked]
    assert CHAPTERS and not missing, f"the front page's contents leave out {missing}"


def test_the_axe_sample_names_pages_that_exist():
    # a renamed page must not drop silently out of the accessibility sample
    missing = sorted((AXE_SAMPLE | NAVIGATE_SAMPLE | PHONE_SAMPLE) - set(PAGES))
    assert PAGES and not missing, f"the samples name pages the book does not have: {missing}"
    assert len(DARK_AXE_PAGES) == 2
