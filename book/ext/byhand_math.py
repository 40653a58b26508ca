"""Math written as MathML when the book is built, so that it is there when the page is.

Sphinx leaves every formula as TeX (`<span class="math">\\(...\\)</span>`) for MathJax to typeset
in the reader's browser after the page loads: 200-540 formulas a chapter, seconds on a phone.
Here Temml, run in Node once the pages are written (prerender_math.js: the Temml of npm, laid
out by tools/fetch_assets.py), turns every page's formulas into MathML, which replaces the TeX in
the written files: in the text, and wherever the theme repeats a heading (the page's contents,
the navigation). Browsers lay MathML out themselves (MathML Core: Chromium since 109, Firefox,
Safari), and screen readers read it as it is: no script runs, and there is no second, hidden copy.

Why MathML and not MathJax's HTML output, which this file wrote before: a chapter's 400
formulas made some 20,000 extra elements, each glyph a CSS rule, and laying them out was most of
the page's load time (chapter 6 at 4x CPU throttling: load 8.7-11.9 s with them, 4.2-4.5 s as
MathML, measured side by side; bench/pages.py).

- The style sheet (_static/byhand-math.css, linked by pages with math) is Temml's for MathML
  Core browsers, followed by book/ext/byhand_math.css: the book's math font, STIX Two Math (an
  OpenType math font, served from the site's vendor/stix-two-math), and the book's own rules.
- Pages load no MathJax. The TeX in widget labels, which the widget manager renders in the
  browser, is converted here too and stored in the page for book/js/mathjax-hub-shim.js.
- A TeX error or an unknown macro is a build warning (an error under `-W`), where in the
  browser it would have been red text on the page.
- Formulas are cached by their TeX for the length of a build: the book has about 4,300,
  2,300 of them different, shared between one Node process per core (at most PROCESSES):
  every page's formulas are collected first, then converted.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
TEMML = ROOT / "_build" / "build-assets" / "temml"
SCRIPT = Path(__file__).with_name("prerender_math.js")
OWN_CSS = Path(__file__).with_name("byhand_math.css")
CSS_FILE = "byhand-math.css"
# The math font, as the site serves it (book/ext/byhand_math.css names it too).
MATH_FONT = "vendor/stix-two-math/stix-two-math-latin-400-normal.woff2"
# Where the style sheet (in _static/) finds Temml's font (its \\mathscr letters and primes) in
# the site; a page whose MathML uses it asks for it with the page, as for MATH_FONT.
TEMML_FONT = "vendor/temml/Temml.woff2"
TEMML_FONT_URL = "../" + TEMML_FONT
TEMML_FONT_USERS = re.compile(r'<m\w+[^>]*\sclass="[^"]*\b(?:tml-prime|mathscr)\b')
PRELOAD = '<link rel="preload" href="{}" as="font" type="font/woff2" crossorigin>'

# Sphinx's math and myst-nb's LaTeX outputs (class "output text_latex math notranslate ...").
MATH = re.compile(r'<(span|div) class="((?:[\w-]+ )*math notranslate nohighlight)">(.*?)</\1>', re.S)
DELIMITERS = {"span": ("\\(", "\\)"), "div": ("\\[", "\\]")}
WIDGET_STATE = re.compile(
    r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', re.S)
LABEL_MATH = re.compile(r"\\\((.+?)\\\)")
# Where book/js/mathjax-hub-shim.js finds the labels' formulas, typeset.
LABELS_ID = "byhand-widget-math"
# Folders of the site that are not the book's pages.
SKIP = {"_static", "_sources", "_images", "vendor", "lite"}
PROCESSES = 2


class Typesetter:
    """One Node process running Temml for the whole build."""

    def __init__(self):
        node = shutil.which("node")
        if node is None:
            raise ExtensionError(
                "byhand_math: Node.js (`node`) was not found on PATH. The book writes its "
                "formulas as MathML at build time with Temml in Node; install Node.js (which "
                "brings npm), e.g. `apt-get install npm`, then build again.")
        if not (TEMML / "temml.cjs").exists():
            raise ExtensionError(
                f"byhand_math: Temml is not laid out in {TEMML}; `make book` does it "
                "(tools/fetch_assets.py).")
        self.process = subprocess.Popen(
            [node, str(SCRIPT), str(TEMML / "temml.cjs")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self._read()  # {"temml": version}: Temml has loaded

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            raise ExtensionError(f"byhand_math: Temml in Node stopped (exit {code}); "
                                 "its message is above")
        return json.loads(line)

    def send(self, items):
        self.process.stdin.write(json.dumps({"items": items}) + "\n")
        self.process.stdin.flush()

    def receive(self):
        answer = self._read()
        return list(zip(answer["html"], answer["errors"]))

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


class Typesetters:
    """Node processes running Temml side by side, with one cache."""

    def __init__(self, count):
        self.processes = [Typesetter() for _ in range(count)]
        self.cache = {}

    def typeset(self, formulas):
        """{(tex, display): (html, error)} for the given formulas."""
        todo = sorted(set(formulas) - self.cache.keys())
        shares = [todo[i::len(self.processes)] for i in range(len(self.processes))]
        busy = [(process, share) for process, share in zip(self.processes, shares) if share]
        for process, share in busy:  # all sent before any is read: they work at once
            process.send(share)
        for process, share in busy:
            self.cache.update(zip(share, process.receive()))
        return {f: self.cache[f] for f in formulas}

    def close(self):
        for process in self.processes:
            process.close()


def typesetter(app):
    if getattr(app, "byhand_typesetter", None) is None:
        app.byhand_typesetter = Typesetters(max(1, min(PROCESSES, os.cpu_count() or 1)))
    return app.byhand_typesetter


def formula(match):
    """(tex, display) of a formula still in TeX; None if in no form known here; False if it is
    typeset already (a page an earlier build wrote, not written again by this one)."""
    if match.group(3).startswith("<math"):
        return False
    kind, inner = match.group(1), html.unescape(match.group(3)).strip()
    opening, closing = DELIMITERS[kind]
    if not (inner.startswith(opening) and inner.endswith(closing)):
        return None
    return inner[len(opening):-len(closing)], kind == "div"


def note_page(app, pagename, templatename, context, doctree):
    """A page with math links the style sheet and, with its formulas typeset, loads no MathJax."""
    body = context.get("body") or ""
    if "math notranslate nohighlight" not in body:
        return
    app.add_css_file(CSS_FILE)
    # The font is asked for with the page, not once the style sheet and the formulas are read:
    # the first layout of the formulas is then, mostly, their last one.
    font = context["pathto"](MATH_FONT, 1)
    context["metatags"] = context.get("metatags", "") + "\n" + PRELOAD.format(font)
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        scripts[:] = [js for js in scripts if not is_mathjax(js)]


def is_mathjax(js):
    filename = str(getattr(js, "filename", "") or "")
    body = getattr(js, "attributes", {}).get("body", "")
    return "vendor/mathjax/" in filename or body.startswith("window.MathJax")


def page_formulas(text):
    """The formulas of a page still to typeset: {span: formula(match)} and the widget labels'."""
    found = {m.span(): formula(m) for m in MATH.finditer(text)}
    labels = [] if LABELS_ID in text else widget_label_formulas(text)
    return found, labels


def typeset_file(app, path, page=None):
    """Typeset the formulas of one written page: its body, and its headings wherever the theme
    repeats them (the page's contents, the navigation). `page`: its text and page_formulas(text),
    when already read."""
    if page is None:
        text = path.read_text(encoding="utf-8")
        page = (text, *page_formulas(text))
    text, found, labels = page
    if not any(f is not False for f in found.values()) and not labels:  # typeset already
        finished = finish_page(text)
        if finished != text:
            path.write_text(finished, encoding="utf-8")
        return
    where = path.relative_to(app.outdir).as_posix()
    setter = typesetter(app)
    done = setter.typeset([f for f in found.values() if f] + [(tex, False) for tex in labels])
    for (tex, display), (_, error) in done.items():
        if error:
            shown = f"$${tex}$$" if display else f"${tex}$"
            logger.warning(f"{where}: TeX error in {shown}: {error}", type="byhand", subtype="math")

    def replace(match):
        found_formula = found[match.span()]
        if not found_formula:
            return match.group(0)
        kind, classes = match.group(1), match.group(2)
        return f'<{kind} class="{classes}">{done[found_formula][0]}</{kind}>'

    text = finish_page(MATH.sub(replace, text))
    left = sum(1 for f in found.values() if f is None)
    if left:
        logger.warning(f"{where}: {left} formulas are not in a form book/ext/byhand_math.py "
                       "typesets; they would show as TeX", type="byhand", subtype="math")
    if any(found.values()) and CSS_FILE not in text:
        logger.warning(f"{where}: has formulas but does not link {CSS_FILE}",
                       type="byhand", subtype="math")
    if labels:
        table = json.dumps({tex: done[(tex, False)][0] for tex in labels}).replace("</", "<\\/")
        text = text.replace(
            "</body>", f'<script type="application/json" id="{LABELS_ID}">{table}</script>\n</body>', 1)
    path.write_text(text, encoding="utf-8")


# An inline formula is an atomic box, and browsers break lines on either side of it, even
# before the full stop that ends its sentence or after the bracket that opens it. The formula and
# the punctuation touching it are kept on one line.
NOBREAK = '<span class="byhand-nobreak">'
TOUCHING_PUNCTUATION = re.compile(
    r'([(\[“‘]*)'
    r'(<span class="math notranslate nohighlight">(?:(?!</span>).)*</span>)'
    r'([.,;:!?)\]’”\-–]*)', re.S)


def keep_punctuation_with_formulas(text):
    if NOBREAK in text:  # a page an earlier build has finished
        return text

    def wrap(match):
        before, formula, after = match.groups()
        if not (before or after):
            return match.group(0)
        return f'{NOBREAK}{before}{formula}{after}</span>'
    return TOUCHING_PUNCTUATION.sub(wrap, text)


def finish_page(text):
    return keep_punctuation_with_formulas(preload_temml_font(text))


def preload_temml_font(text):
    """The page with a preload of Temml's font next to MATH_FONT's, if its formulas use it."""
    stix = re.search(r'<link rel="preload" href="([^"]*)%s"[^>]*>' % re.escape(MATH_FONT), text)
    if not stix or TEMML_FONT in text[:text.find("</head>")] or not TEMML_FONT_USERS.search(text):
        return text
    temml = PRELOAD.format(stix.group(1) + TEMML_FONT)
    return text[:stix.end()] + "\n" + temml + text[stix.end():]


def widget_label_formulas(text):
    """The TeX in the stored widgets' labels, which the widget manager shows in the browser."""
    tex = set()
    for state in WIDGET_STATE.findall(text):
        for model in json.loads(state).get("state", {}).values():
            description = model.get("state", {}).get("description")
            if isinstance(description, str):
                tex.update(LABEL_MATH.findall(description))
    return sorted(tex)


def typeset_site(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    pages = {}
    for path in sorted(outdir.rglob("*.html")):
        if path.relative_to(outdir).parts[0] not in SKIP:
            text = path.read_text(encoding="utf-8")
            pages[path] = (text, *page_formulas(text))
    todo = set()
    for _, found, labels in pages.values():  # every formula first: the processes share them
        todo.update(f for f in found.values() if f)
        todo.update((tex, False) for tex in labels)
    if todo:
        typesetter(app).typeset(todo)
    for path, page in pages.items():
        typeset_file(app, path, page)
    setter = getattr(app, "byhand_typesetter", None)
    if setter is not None:
        setter.close()
        (outdir / "_static").mkdir(exist_ok=True)
        (outdir / "_static" / CSS_FILE).write_text(style_sheet(), encoding="utf-8")


def style_sheet():
    """Temml's style sheet for MathML Core browsers, its font found in the site, then the book's
    own rules (which come later, so they win where both set something: the font)."""
    temml = (TEMML / "Temml-Local.css").read_text(encoding="utf-8")
    temml, found = re.subn(r"url\('Temml\.woff2'\)", f"url('{TEMML_FONT_URL}')", temml)
    if found != 1:
        raise ExtensionError("byhand_math: Temml-Local.css no longer names Temml.woff2 once; "
                             "has Temml's style sheet changed?")
    return temml + "\n" + OWN_CSS.read_text(encoding="utf-8")


def setup(app):
    # After sphinx.ext.mathjax (priority 500) has added MathJax's scripts to the page.
    app.connect("html-page-context", note_page, priority=600)
    app.connect("build-finished", typeset_site)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
