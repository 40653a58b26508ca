import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from ipywidgets.widgets import widget as widget_module  # noqa: E402
from ipywidgets.widgets import widget_link  # noqa: E402

from byhand.explore import BAR_STYLE, MAX_VIEWS, VIEW_BOX, bar, explore  # noqa: E402


def links_between(source, target):
    return [
        w for w in widget_module._instances.values()
        if isinstance(w, widget_link.Link) and w.source == (source, "index")
        and w.target == (target, "selected_index")
    ]


def test_every_combination_is_precomputed_in_order():
    seen = []

    def render(scale, dtype):
        seen.append((scale, dtype))
        return f"<b>{scale}/{dtype}</b>"

    explorer = explore(render, scale=[1, 10, 100], dtype=["float32", "float64"])
    assert len(seen) == 6
    slider, toggles, outer = explorer.children
    assert isinstance(slider, widgets.SelectionSlider)
    assert isinstance(toggles, widgets.ToggleButtons)
    assert "byhand-explorer" in explorer._dom_classes
    for i, scale in enumerate([1, 10, 100]):
        for j, dtype in enumerate(["float32", "float64"]):
            assert outer.children[i].children[j].value == f"{VIEW_BOX}<b>{scale}/{dtype}</b></div>"


def test_controls_are_linked_in_the_browser_to_every_stack_of_their_level():
    slider, toggles, outer = explore(lambda a, b: f"{a}{b}", a=[1, 2], b=["x", "y", "z"]).children
    assert links_between(slider, outer)
    for inner in outer.children:
        assert links_between(toggles, inner)
    assert outer.selected_index == 0 and slider.index == 0


def test_labels_are_used_and_dollar_math_becomes_mathjax_delimiters():
    slider, _ = explore(lambda s: str(s), labels={"s": "scale $s$ of $x$"}, s=[1, 2]).children
    assert slider.description == r"scale \(s\) of \(x\)"


def test_figures_become_embedded_png_and_widgets_pass_through():
    def render(kind):
        if kind == "figure":
            fig, ax = plt.subplots(figsize=(2, 1))
            ax.plot([0, 1], [0, 1])
            return fig
        return widgets.Label("as is")

    _, stack = explore(render, kind=["figure", "widget"]).children
    assert stack.children[0].value.startswith(
        VIEW_BOX + '<img style="max-width:100%;height:auto" alt="explorer view" '
        'src="data:image/png;base64,')
    assert stack.children[1].value == "as is"


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({}, "at least one parameter"),
        ({"a": []}, "non-empty list"),
        ({"a": "abc"}, "non-empty list"),
        ({"a": [1, 1.0]}, "print alike"),
        ({"a": list(range(MAX_VIEWS + 1))}, "combinations"),
    ],
)
def test_bad_parameters_get_a_clear_message(parameters, message):
    with pytest.raises(ValueError, match=message):
        explore(lambda **kw: "", **parameters)


def test_a_render_that_returns_something_else_is_named():
    with pytest.raises(TypeError, match="render returned int"):
        explore(lambda a: 42, a=[1])


def test_views_share_one_layout_and_style_to_keep_pages_light():
    _, stack = explore(lambda a: f"<i>{a}</i>", a=[1, 2, 3]).children
    views = stack.children
    assert len({id(v.layout) for v in views}) == 1 and len({id(v.style) for v in views}) == 1


# --- Fitting a phone, and styled without <style> (JupyterLab drops <style> from markdown) --------

def test_sliders_take_the_width_available_so_the_readout_stays_inside():
    slider, _ = explore(lambda s: str(s), s=[1, 2]).children
    assert slider.layout.width == "100%" and slider.layout.max_width == "28em"
    assert slider.readout


def test_toggle_buttons_are_as_wide_as_their_text():
    toggles, _ = explore(lambda d: d, d=["float16", "float32", "float64"]).children
    assert toggles.style.button_width == "auto"
    assert toggles.layout.max_width == "100%"


def test_every_html_view_scrolls_in_a_box_of_its_own_and_fills_the_width():
    def render(kind):
        if kind == "html-widget":
            return widgets.HTML("<table><tr><td>1</table>")
        return "<table><tr><th>a<td>1</table>"

    explorer = explore(render, kind=["string", "html-widget"])
    _, stack = explorer.children
    for view in stack.children:
        assert view.value.startswith(VIEW_BOX) and view.value.endswith("</div>")
        assert 'white-space:nowrap' in view.value  # wide tables scroll rather than wrap
        assert "<td>" not in view.value and '<td style="padding:1px 12px 1px 0">1' in view.value
        assert view.layout.width == "100%"
    assert stack.layout.width == "100%" and explorer.layout.max_width == "100%"
    assert "overflow-x:auto" in VIEW_BOX and 'tabindex="0"' in VIEW_BOX


def test_a_view_given_twice_is_boxed_once():
    shown = widgets.HTML("<p>same</p>")
    _, stack = explore(lambda a: shown, a=[1, 2]).children
    assert stack.children[0].value.count(VIEW_BOX) == 1


def test_bars_are_styled_inline_and_no_view_needs_a_style_element():
    def render(p):
        return f'<table><tr><td>{p}<td><i style="width:{int(120 * p)}px"></i><td>{bar(p)}</table>'

    _, stack = explore(render, p=[0.25, 1.0]).children
    for view, p in zip(stack.children, [0.25, 1.0]):
        assert view.value.count(BAR_STYLE) == 2
        assert f"{BAR_STYLE};width:{int(120 * p)}px" in view.value
        assert "<style" not in view.value
    assert bar(2) == f'<i style="{BAR_STYLE};width:120px"></i>'
    assert bar(-1) == f'<i style="{BAR_STYLE};width:0px"></i>'
