"""The book's formulas are written as MathML when it is built (book/ext/byhand_math.py, Temml in
Node): browsers lay it out and screen readers read it as it is; a TeX error or an unknown macro
is reported, not left as red text; every kind of formula on a written page is replaced, the
widget labels' TeX included; the style sheet finds the fonts the site serves. (tests/test_site.py
checks the built pages in Chromium, and that the math font has every character they use.)"""

import json
import re
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
    shutil.which("node") is None or not (byhand_math.TEMML / "temml.cjs").exists(),
    reason="needs Node.js and Temml laid out by `make book` (tools/fetch_assets.py)",
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = SimpleNamespace(outdir=tmp_path_factory.mktemp("html"), byhand_typesetter=None)
    yield app
    if app.byhand_typesetter is not None:
        app.byhand_typesetter.close()


def test_a_formula_becomes_mathml(app):
    [(html, error)] = byhand_math.typesetter(app).typeset([(r"\frac{\partial L}{\partial x}", True)]).values()
    assert error is None
    assert html.startswith('<math display="block"') and html.endswith("</math>")
    assert "<mfrac>" in html and "<mi>L</mi>" in html and "<mi>∂</mi>" in html
    assert "mjx" not in html


def test_letter_styles_become_unicode_letters(app):
    # MathML Core (Chromium) ignores mathvariant="bold" and "double-struck": the letters
    # themselves must be the styled ones (U+1D431 bold x, U+211D double-struck R).
    done = byhand_math.typesetter(app).typeset([(r"\mathbf{x} \in \mathbb{R}^N", False)])
    [(html, error)] = done.values()
    assert error is None and "𝐱" in html and "ℝ" in html and "mathvariant" not in html


def test_tex_errors_and_unknown_macros_are_reported(app):
    done = byhand_math.typesetter(app).typeset([(r"\frac{a}{b", False), (r"\softmaxx(z)", False)])
    assert done[(r"\frac{a}{b", False)][1].startswith("Unexpected end of input")
    assert done[(r"\softmaxx(z)", False)][1].startswith(r"Unsupported function name: \softmaxx")


def test_a_caret_in_text_is_an_error_so_labels_avoid_it(app):
    # LaTeX has no ^ in text mode; byhand.verify writes U+02C6 in a label instead (test_verify).
    done = byhand_math.typesetter(app).typeset([(r"\text{tanh^2}", False), ("\\text{tanh\u02c62}", False)])
    assert done[(r"\text{tanh^2}", False)][1] is not None
    assert done[("\\text{tanh\u02c62}", False)][1] is None


def test_the_style_sheet_finds_the_fonts_the_site_serves():
    css = byhand_math.style_sheet()
    static = ROOT / "_build" / "extra" / "_static"       # where the sheet is, as the site has it
    urls = [url for url in re.findall(r"url\([\'\"]?([^\'\")]+)[\'\"]?\)", css)
            if url.endswith(".woff2")]
    assert any("stix-two-math" in url for url in urls) and any("Temml.woff2" in url for url in urls)
    for url in urls:
        assert (static / url).resolve().is_file(), f"{url} is not in the site (_build/extra)"
    assert f'url("../{byhand_math.MATH_FONT}")' in css     # the font pages preload
    # The book's font comes last, so it is the one formulas use.
    assert css.rindex('font-family: "STIX Two Math", math') > css.rindex("Cambria Math")


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
    assert before_scripts.count("<math") == 4 and "\\(" not in before_scripts
    assert '<div class="output text_latex math notranslate nohighlight"><math display="block"' in text
    assert "<mo>&lt;</mo>" in text                    # the entity read as TeX's <, written back
    table = json.loads(text.split('id="byhand-widget-math">')[1].split("</script>")[0])
    assert list(table) == ["s"] and table["s"] == "<math><mi>s</mi></math>"


def test_a_tex_error_on_a_page_is_a_warning(app, caplog):
    page = Path(app.outdir) / "broken.html"
    page.write_text('<link href="byhand-math.css"><span class="math notranslate nohighlight">'
                    r"\(\frac{1}{2\)</span>", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        byhand_math.typeset_file(app, page)
    assert any("broken.html: TeX error in $\\frac{1}{2$: Unexpected end of input" in r.getMessage()
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


def test_a_page_whose_formulas_use_temmls_font_asks_for_it_with_the_page(app):
    head = ('<html><head>\n' + byhand_math.PRELOAD.format("../" + byhand_math.MATH_FONT) +
            '\n<link href="../_static/byhand-math.css"></head><body>')
    primed = Path(app.outdir) / "primed.html"
    primed.write_text(head + '<span class="math notranslate nohighlight">'
                      r"\(f'(x)\)</span></body></html>", encoding="utf-8")
    plain = Path(app.outdir) / "plain.html"
    plain.write_text(head + '<span class="math notranslate nohighlight">'
                     r"\(f(x)\)</span></body></html>", encoding="utf-8")
    for page in (primed, plain):
        byhand_math.typeset_file(app, page)
    temml = byhand_math.PRELOAD.format("../" + byhand_math.TEMML_FONT)
    text = primed.read_text(encoding="utf-8")
    assert byhand_math.TEMML_FONT_USERS.search(text) and 'tml-prime' in text
    assert text.count(temml) == 1 and text.index(temml) < text.index("</head>")
    assert temml not in plain.read_text(encoding="utf-8")
    byhand_math.typeset_file(app, primed)  # a second build adds no second one
    assert primed.read_text(encoding="utf-8").count(temml) == 1


def test_an_inline_formula_keeps_the_punctuation_touching_it_on_its_line():
    formula = '<span class="math notranslate nohighlight"><math><mi>x</mi></math></span>'
    text = f"<p>so {formula}. Then ({formula}) and {formula} is, {formula}-wise</p><div>{formula}</div>"
    kept = byhand_math.keep_punctuation_with_formulas(text)
    nobreak = '<span class="byhand-nobreak">{}</span>'
    assert kept == (f"<p>so {nobreak.format(formula + '.')} Then {nobreak.format('(' + formula + ')')}"
                    f" and {formula} is, {nobreak.format(formula + '-')}wise</p><div>{formula}</div>")
    assert byhand_math.keep_punctuation_with_formulas(kept) == kept  # a second build


# TeX's spacing where a browser lays MathML out otherwise (found by comparing every display
# formula with MathJax's rendering): book/ext/prerender_math.js, texSpacing.
def mathml(app, tex, display=True):
    [(html, error)] = byhand_math.typesetter(app).typeset([(tex, display)]).values()
    assert error is None, error
    return html


def test_operators_in_scripts_have_no_space(app):
    html = mathml(app, r"\sum_{k=1}^{m\times n} x_k = y")
    assert '<mo lspace="0" rspace="0">=</mo><mn>1</mn>' in html
    assert '<mo lspace="0" rspace="0">×</mo>' in html
    assert "<mo>=</mo><mi>y</mi>" in html              # on the baseline: TeX's space stays


def test_an_ellipsis_is_not_spaced_as_an_operator(app):
    assert '<mo lspace="0" rspace="0">…</mo>' in mathml(app, r"1, \ldots, K")


def test_matrix_and_cases_cells_are_in_text_style(app):
    assert '<mtable displaystyle="false">' in mathml(app, r"\displaystyle\left[\begin{matrix}\frac{1}{2}\end{matrix}\right]")
    assert '<mtable displaystyle="false">' in mathml(app, r"\begin{cases} 1 & x > 0 \\ 0 & x < 0 \end{cases}")
    assert 'displaystyle="true"' in mathml(app, r"\begin{aligned} a &= b \end{aligned}")


def test_fences_around_nothing_tall_do_not_stretch(app):
    assert mathml(app, r"\cos{\left(x_{1} \right)}").count('stretchy="false"') == 2
    assert mathml(app, r"\left(\frac{a}{b}\right)").count('stretchy="true"') == 2


def test_a_thin_space_before_an_operator_name_after_a_symbol(app):
    html = mathml(app, r"-\sum_k t_k \log p_k")
    assert '</msub><mspace width="0.1667em"></mspace><mrow><mi>log</mi>' in html
    html = mathml(app, r"= \log x")                    # after an operator: its own space only
    assert '=</mo><mrow><mi>log</mi>' in html


def test_sized_delimiters_and_spaced_relations_get_no_second_space(app):
    html = mathml(app, r"J_g\bigl(f(x)\bigr)")
    assert html.count('minsize="1.2em" maxsize="1.2em" lspace="0" rspace="0"') == 2
    html = mathml(app, r"\text{dx} = \text{dout}")      # Temml spaces the = itself
    assert '<mspace width="0.2778em"></mspace><mo lspace="0" rspace="0">=</mo>' in html


def test_a_large_operator_after_a_relation_adds_no_space_of_its_own(app):
    assert '<mo>=</mo><msub><mo movablelimits="false" lspace="0">∑</mo>' in mathml(app, r"b = \sum_n x_n", False)
    assert 'lspace="0">∑' not in mathml(app, r"a \sum_i b", False)   # after a symbol: TeX's thin space


def test_no_space_before_a_formulas_first_operator_or_after_its_last(app):
    assert '<mo rspace="0">=</mo></mrow>' in mathml(app, "x =", False)
    assert '<mrow><mo lspace="0">=</mo><mi>b</mi>' in mathml(app, "= b", False)
