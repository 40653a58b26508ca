"""Small fixes to the HTML the book's tools write, for readers of every kind.

Each page's body (and its meta tags) is edited as a string, at `html-page-context`, before the
theme wraps it:

- myst-nb labels every hidden-cell `<summary>` "Toggle hidden content" while its visible text
  says "Show code cell source": a screen reader announces one thing, a speech-input user has to
  say another (axe-core: label-content-name-mismatch). The visible text is the better name, so
  the `aria-label` goes.
- On the solution pages the hidden cells are the solutions: their toggles read "Show solution" /
  "Hide solution" instead of myst-nb's "Show code cell source" (myst-nb's `code_prompt_show` is
  global or per notebook; the notebooks stay as they are).
- Sphinx's layout writes a `<meta name="viewport">` tag, and docutils writes a second one among
  the page's meta tags (the theme wrote a third; book/_templates/layout.html leaves it out): a
  page says it once. Every viewport tag among the meta tags goes, so one a page set itself
  (MyST's `html_meta`) would go too; the book sets none.
- docutils marks the references' citation list `role="list"` but its entries
  `role="doc-biblioentry"`, so assistive technology sees a list without items (axe-core:
  aria-required-children): the entries become list items.

Before that, when a page's document is about to be written (`doctree-resolved`): a code cell
whose output nbval does not compare says why in its first line, a comment for the book's
maintainers (`# nbval-ignore-output: timings of this run`, tests/test_notebooks.py). The web
book leaves that line out of the cell's code, so that neither the page nor the search index has
it; the notebooks keep it. Only code cells' source blocks are edited, nothing written in the
prose.

And, at html-page-context, the page's scripts:

- The scripts Sphinx and its extensions add to a page's head are deferred: they act on the page
  once it has been read (each waits for DOMContentLoaded, or runs at once when the page is no
  longer loading), so the browser need not stop reading the page to fetch and run each of them
  first; the page is drawn that much sooner (bench/pages.py: the first screen's math 0.1 s
  earlier, side by side). documentation_options.js stays in place: an inline script after it sets
  its `pagename`. The search page keeps all its scripts as they are: its template loads the search
  scripts, which use the others, after them.

Two more edits, made to the written site once the build has finished, make pages lighter to load
(bench/pages.py measures both):

- Code is highlighted as one `<span>` per token, and more than half of them (names, punctuation,
  white space) are drawn in the highlighting style's own text colour, in both colour schemes:
  those spans are dropped, leaving their text (about 40,000 of the site's 74,000 spans; chapter
  5: 3,900 of its 15,000 elements), which readers.css draws in that colour (the theme would give
  it its body-text colour). Which token classes that is comes from the site's pygments.css
  itself, so a highlighting style that colours names keeps their spans.
- pydata-sphinx-theme 0.17 gives every code block and output that scrolls a tab stop in the
  page's `load` event, reading the size of each: that lays out the whole page, 340 ms of a
  chapter's load at full speed and over a second on a phone. readers.js does the same for the
  same boxes (and for display math), after the page has loaded; the theme's pass is taken out of
  its script. A theme whose script no longer has that pass fails the build here, so that the
  edit is looked at again.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.builders.html._assets import _JavaScript
from sphinx.errors import ExtensionError

from byhand_math import SKIP  # the site's folders that are not the book's pages

HIDDEN_SUMMARY = '<summary aria-label="Toggle hidden content">'
SOLUTION_PROMPTS = {
    ">Show code cell source<": ">Show solution<",
    ">Hide code cell source<": ">Hide solution<",
}


VIEWPORT_TAG = re.compile(r'<meta name="viewport"[^>]*>\n?')
NBVAL_REASON = re.compile(r"# nbval-[a-z-]+:[^\n]*\n")  # a code cell's first line, for nbval


def drop_nbval_reasons(app, doctree, docname):
    for block in doctree.findall(nodes.literal_block):
        parent = block.parent
        if not (isinstance(parent, nodes.container) and "cell_input" in parent["classes"]):
            continue
        code = block.astext()
        reason = NBVAL_REASON.match(code)
        if reason:
            block.children = [nodes.Text(code[reason.end():])]
            block.rawsource = code[reason.end():]


def edit_body(app, pagename, templatename, context, doctree):
    if context.get("metatags"):
        context["metatags"] = VIEWPORT_TAG.sub("", context["metatags"])
    body = context.get("body")
    if not body:
        return
    body = body.replace(HIDDEN_SUMMARY, "<summary>")
    if pagename.startswith("solutions/"):
        for old, new in SOLUTION_PROMPTS.items():
            body = body.replace(old, new)
    if 'class="citation-list"' in body:
        body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    context["body"] = body


# Scripts that run as the page is read: an inline script after this one uses what it defines.
IN_ORDER = {"documentation_options.js"}


def defer_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if pagename == "search" or not isinstance(scripts, list):
        return
    context["script_files"] = [deferred(js) for js in scripts]


def deferred(js):
    """The script `js`, loaded with `defer` if it is a file read in order with the page."""
    attributes = getattr(js, "attributes", None)
    filename = str(getattr(js, "filename", "") or "")
    if (attributes is None or not filename or "body" in attributes
            or filename.rsplit("/", 1)[-1] in IN_ORDER
            or {"defer", "async"} & set(attributes) or attributes.get("type") == "module"):
        return js
    return _JavaScript(js.filename, priority=js.priority, **attributes, defer="defer")


HIGHLIGHT_BLOCK = re.compile(r'(<div class="highlight[^"]*"><pre>)(.*?)(</pre>)', re.S)
THEME_RULE = re.compile(r'html\[data-theme="(light|dark)"\] \.highlight(?: \.([\w-]+))? \{([^}]*)\}')


def plain_token_classes(pygments_css):
    """The token classes whose only style, in both colour schemes, is the highlighting style's
    text colour (that of `.highlight`): their spans draw what their text does without them, given
    readers.css's rule that a code block's `pre` takes that colour."""
    base, rules = {}, {}
    for scheme, token, body in THEME_RULE.findall(pygments_css):
        declarations = frozenset(d.strip().replace(" ", "").lower()
                                 for d in body.split(";") if d.strip())
        if not token:
            colour = [d for d in declarations if d.startswith("color:")]
            base[scheme] = frozenset(colour)
        else:
            rules.setdefault(token, {}).setdefault(scheme, set()).update(declarations)
    if set(base) != {"light", "dark"} or not all(base.values()):
        raise ExtensionError("byhand_readers: pygments.css has no text colour for `.highlight` "
                             "in both colour schemes; has the theme's stylesheet changed?")
    return {token for token, by_scheme in rules.items()
            if set(by_scheme) == {"light", "dark"}
            and all(by_scheme[s] == base[s] for s in ("light", "dark"))}


def drop_plain_spans(text, classes):
    """The page's code blocks without the spans of `classes` (their text stays)."""
    if not classes:
        return text
    span = re.compile(r'<span class="(?:%s)">([^<]*)</span>' % "|".join(map(re.escape, sorted(classes))))
    return HIGHLIGHT_BLOCK.sub(lambda m: m.group(1) + span.sub(r"\1", m.group(2)) + m.group(3), text)


THEME_SCRIPT = Path("_static") / "scripts" / "pydata-sphinx-theme.js"
# The end of the theme's script: run the tab-stop pass now, or when the page has loaded.
THEME_LOAD_PASS = re.compile(
    r',"complete"===document\.readyState\?(\w+)\(\):window\.addEventListener\("load",\1\)(\}\)\(\);)')
THEME_EDITED = "/* byhand: the tab-stop pass at load is readers.js's (book/ext/byhand_readers.py) */"


def without_load_pass(script):
    if THEME_EDITED in script:
        return script
    script, found = THEME_LOAD_PASS.subn(r"\2", script)
    if found != 1:
        raise ExtensionError(
            f"byhand_readers: {THEME_SCRIPT} no longer ends with its tab-stop pass at `load`; "
            "has pydata-sphinx-theme changed? See this module's docstring.")
    return script + "\n" + THEME_EDITED + "\n"


def lighten_site(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    script = outdir / THEME_SCRIPT
    if script.exists():
        script.write_text(without_load_pass(script.read_text(encoding="utf-8")), encoding="utf-8")
    css = outdir / "_static" / "pygments.css"
    classes = plain_token_classes(css.read_text(encoding="utf-8")) if css.exists() else set()
    for path in outdir.rglob("*.html"):
        if path.relative_to(outdir).parts[0] in SKIP:
            continue
        text = path.read_text(encoding="utf-8")
        lighter = drop_plain_spans(text, classes)
        if lighter != text:
            path.write_text(lighter, encoding="utf-8")


def setup(app):
    # At each writing, not only when a notebook is read again (the doctrees are cached)
    app.connect("doctree-resolved", drop_nbval_reasons)
    app.connect("html-page-context", edit_body, priority=400)
    # After every extension has added its scripts (byhand_math's page hook runs at 600).
    app.connect("html-page-context", defer_scripts, priority=900)
    # After the theme has written pygments.css (build-finished, priority 500).
    app.connect("build-finished", lighten_site, priority=700)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
