"""The book's formulas are typeset when it is built (book/ext/byhand_math.py, MathJax in Node):
the output is MathJax's, with the MathML copy screen readers read; a TeX error or an unknown
macro is reported, not left as red text; every kind of formula on a written page is replaced,
the widget labels' TeX included. (tests/test_site.py checks the built pages in Chromium.)"""

import json
import logging
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "ext"))
import byhand_math  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (byhand_math.MATHJAX / "node-main.js").exists(),
    reason="needs Node.js and MathJax laid out by `make book` (tools/fetch_assets.py)",
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = SimpleNamespace(outdir=tmp_path_factory.mktemp("html"), byhand_typesetter=None)
    yield app
    if app.byhand_typesetter is not None:
        app.byhand_typesetter.close()


def test_a_formula_becomes_mathjax_output_with_its_mathml(app):
    [(html, error)] = byhand_math.typesetter(app).typeset([(r"\frac{\partial L}{\partial x}", True)]).values()
    assert error is None
    assert html.startswith('<mjx-container class="MathJax" jax="CHTML" display="true"')
    assert "<mjx-assistive-mml" in html and "<mfrac>" in html and "<mi>L</mi>" in html
    assert "mjx-c1D43F" in html                       # L drawn from the TeX fonts (U+1D43F)


def test_tex_errors_and_unknown_macros_are_reported(app):
    done = byhand_math.typesetter(app).typeset([(r"\frac{a}{b", False), (r"\softmaxx(z)", False)])
    assert done[(r"\frac{a}{b", False)][1] == "Missing close brace"
    assert done[(r"\softmaxx(z)", False)][1] == r"Undefined control sequence \softmaxx"


def test_the_style_sheet_has_every_glyph_and_finds_the_served_fonts(app):
    css = byhand_math.typesetter(app).css
    assert 'mjx-c.mjx-c1D43F.TEX-I::before' in css    # a glyph no formula above needed first
    assert f'url("{byhand_math.FONT_URL}/MathJax_Main-Regular.woff")' in css


PAGE = r"""<html><head><link rel="stylesheet" href="_static/byhand-math.css"></head><body>
<h2>About <span class="math notranslate nohighlight">\(\frac{\partial L}{\partial x}\)</span></h2>
<p>Inline <span class="math notranslate nohighlight">\(a &lt; b\)</span> and display:</p>
<div class="math notranslate nohighlight">
\[\sum_i e^{x_i}\]</div>
<div class="output text_latex math notranslate nohighlight">
\[\begin{split}\displaystyle x\end{split}\]</div>
<script type="application/vnd.jupyter.widget-state+json">{"state": {"m1": {"state":
 {"description": "scale \\(s\\)"}}, "m2": {"state": {"description": "plain"}}}}</script>
</body></html>"""


def test_a_written_page_has_every_formula_replaced_and_its_labels_typeset(app):
    page = Path(app.outdir) / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    byhand_math.typeset_file(app, page)
    text = page.read_text(encoding="utf-8")
    before_scripts = text.split("<script")[0]
    assert before_scripts.count("<mjx-container") == 4 and "\\(" not in before_scripts
    assert '<div class="output text_latex math notranslate nohighlight"><mjx-container' in text
    assert "<mo>&lt;</mo>" in text                    # the entity read as TeX's <, written back
    table = json.loads(text.split('id="byhand-widget-math">')[1].split("</script>")[0])
    assert list(table) == ["s"] and table["s"].startswith("<mjx-container")


def test_a_tex_error_on_a_page_is_a_warning(app, caplog):
    page = Path(app.outdir) / "broken.html"
    page.write_text('<link href="byhand-math.css"><span class="math notranslate nohighlight">'
                    r"\(\frac{1}{2\)</span>", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        byhand_math.typeset_file(app, page)
    assert any("broken.html: TeX error in $\\frac{1}{2$: Missing close brace" in r.getMessage()
               for r in caplog.records)


def test_a_formula_in_another_form_is_a_warning_not_left_silently(app, caplog):
    page = Path(app.outdir) / "odd.html"
    page.write_text('<link href="byhand-math.css"><span class="math notranslate nohighlight">'
                    "$x$</span>", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        byhand_math.typeset_file(app, page)
    assert any("odd.html: 1 formulas are not in a form" in r.getMessage() for r in caplog.records)


def test_a_page_typeset_by_an_earlier_build_is_left_as_it_is(app, caplog):
    page = Path(app.outdir) / "again.html"
    page.write_text(PAGE, encoding="utf-8")
    byhand_math.typeset_file(app, page)
    once = page.read_text(encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        byhand_math.typeset_file(app, page)
    assert page.read_text(encoding="utf-8") == once
    assert not caplog.records
