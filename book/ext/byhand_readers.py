"""Small fixes to the HTML the book's tools write, for readers of every kind.

Each page's body is edited as a string, at `html-page-context`, before the theme wraps it:

- myst-nb labels every hidden-cell `<summary>` "Toggle hidden content" while its visible text
  says "Show code cell source": a screen reader announces one thing, a speech-input user has to
  say another (axe-core: label-content-name-mismatch). The visible text is the better name, so
  the `aria-label` goes.
- On the solution pages the hidden cells are the solutions: their toggles read "Show solution" /
  "Hide solution" instead of myst-nb's "Show code cell source" (myst-nb's `code_prompt_show` is
  global or per notebook; the notebooks stay as they are).
- docutils marks the references' citation list `role="list"` but its entries
  `role="doc-biblioentry"`, so assistive technology sees a list without items (axe-core:
  aria-required-children): the entries become list items.
"""

from __future__ import annotations

HIDDEN_SUMMARY = '<summary aria-label="Toggle hidden content">'
SOLUTION_PROMPTS = {
    ">Show code cell source<": ">Show solution<",
    ">Hide code cell source<": ">Hide solution<",
}


def edit_body(app, pagename, templatename, context, doctree):
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


def setup(app):
    app.connect("html-page-context", edit_body, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
