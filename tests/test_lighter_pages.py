"""The two edits book/ext/byhand_readers.py makes to the written site to make pages lighter to
load: code without the spans that draw nothing of their own, and the theme's script without its
layout of the whole page at `load`. (That every box that scrolls still gets a tab stop, now from
readers.js alone, is checked in the browser by tests/test_site_readers.py.)"""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "ext"))
import byhand_readers  # noqa: E402
import pydata_sphinx_theme  # noqa: E402
from sphinx.errors import ExtensionError  # noqa: E402

SITE = ROOT / "_build" / "html"
THEME_SCRIPT = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" /
                "static" / "scripts" / "pydata-sphinx-theme.js")

CSS = """
html[data-theme="light"] .highlight pre { line-height: 125%; }
html[data-theme="light"] .highlight { background: #fefefe; color: #080808 }
html[data-theme="light"] .highlight .n { color: #080808 } /* Name */
html[data-theme="light"] .highlight .k { color: #6730C5 } /* Keyword */
html[data-theme="light"] .highlight .p { color: #080808 } /* Punctuation */
html[data-theme="light"] .highlight .w { color: #080808 } /* Text.Whitespace */
html[data-theme="light"] .highlight .gh { color: #080808; font-weight: bold } /* Generic.Heading */
html[data-theme="dark"] .highlight { background: #2b2b2b; color: #F8F8F2 }
html[data-theme="dark"] .highlight .n { color: #F8F8F2 } /* Name */
html[data-theme="dark"] .highlight .k { color: #DCC6E0 } /* Keyword */
html[data-theme="dark"] .highlight .p { color: #ABE338 } /* Punctuation */
html[data-theme="dark"] .highlight .gh { color: #F8F8F2; font-weight: bold } /* Generic.Heading */
"""


def test_only_classes_drawn_in_the_blocks_own_colour_in_both_schemes_are_plain():
    # .k is coloured, .p only in dark, .w has no dark rule, .gh is also bold
    assert byhand_readers.plain_token_classes(CSS) == {"n"}


def test_a_stylesheet_without_the_blocks_colour_is_refused():
    with pytest.raises(ExtensionError, match="no text colour"):
        byhand_readers.plain_token_classes(CSS.replace("color: #F8F8F2 }\n", "}\n", 1))


def test_plain_spans_leave_their_text_and_only_inside_code_blocks():
    page = ('<p><span class="n">prose</span></p>'
            '<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>'
            '<span class="n">x</span><span class="w"> </span><span class="o">=</span>'
            '<span class="w"> </span><span class="n">np</span><span class="o">.</span>'
            '<span class="n">exp</span><span class="p">(</span><span class="mi">1</span>'
            '<span class="p">)</span>\n</pre></div></div>')
    lighter = byhand_readers.drop_plain_spans(page, {"n", "p", "w"})
    assert lighter == ('<p><span class="n">prose</span></p>'
                       '<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>'
                       'x <span class="o">=</span> np<span class="o">.</span>exp('
                       '<span class="mi">1</span>)\n</pre></div></div>')
    assert re.sub("<[^>]+>", "", lighter) == re.sub("<[^>]+>", "", page)
    assert byhand_readers.drop_plain_spans(page, set()) == page


def test_the_theme_script_loses_its_load_pass_once_and_only_that():
    script = THEME_SCRIPT.read_text(encoding="utf-8")
    assert 'window.addEventListener("load"' in script
    edited = byhand_readers.without_load_pass(script)
    assert 'window.addEventListener("load"' not in edited
    assert byhand_readers.without_load_pass(edited) == edited  # a second build leaves it
    # everything else stays: the script minus the removed call, plus the note at its end
    removed = byhand_readers.THEME_LOAD_PASS.search(script)
    assert edited.replace("\n" + byhand_readers.THEME_EDITED + "\n", "") == (
        script[:removed.start()] + removed.group(2) + script[removed.end():])
    with pytest.raises(ExtensionError, match="has pydata-sphinx-theme changed"):
        byhand_readers.without_load_pass(script.replace('addEventListener("load"', 'x("load"'))


@pytest.mark.skipif(not (SITE / "index.html").exists(), reason="no built book: `make book`")
def test_the_built_site_has_both_edits():
    script = (SITE / "_static" / "scripts" / "pydata-sphinx-theme.js").read_text(encoding="utf-8")
    assert byhand_readers.THEME_EDITED in script
    plain = byhand_readers.plain_token_classes(
        (SITE / "_static" / "pygments.css").read_text(encoding="utf-8"))
    assert {"n", "p"} <= plain  # names and punctuation: most of a code block's tokens
    page = (SITE / "chapters" / "05_cross_entropy.html").read_text(encoding="utf-8")
    spans = re.findall(r'<span class="([\w-]+)">', "".join(
        m.group(2) for m in byhand_readers.HIGHLIGHT_BLOCK.finditer(page)))
    assert spans and not plain & set(spans)


def test_head_scripts_are_deferred_except_those_read_in_order():
    from sphinx.builders.html._assets import _JavaScript
    scripts = [
        _JavaScript("_static/documentation_options.js", priority=200),
        _JavaScript("_static/doctools.js", priority=200),
        _JavaScript(None, body="let toggleHintShow = 'Click to show';"),
        _JavaScript("_static/copybutton.js", priority=500, id="copy"),
        _JavaScript("_static/already.js", defer="defer"),
        _JavaScript("_static/other.js", **{"async": "async"}),
    ]
    context = {"script_files": list(scripts)}
    byhand_readers.defer_scripts(None, "chapters/01_jacobians", "page.html", context, None)
    after = context["script_files"]
    assert [js.attributes.get("defer") for js in after] == [None, "defer", None, "defer", "defer", None]
    assert after[0] is scripts[0] and after[2] is scripts[2] and after[5] is scripts[5]
    assert after[3].attributes["id"] == "copy" and after[3].priority == 500
    assert [js.filename for js in after] == [js.filename for js in scripts]  # same order
    search = {"script_files": list(scripts)}
    byhand_readers.defer_scripts(None, "search", "search.html", search, None)
    assert search["script_files"] == scripts
