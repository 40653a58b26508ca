"""Explorers that work without a kernel: controls linked in the browser to precomputed views.

    explore(render, scale=[1, 10, 100], dtype=["float32", "float64"])

calls `render(scale=..., dtype=...)` once for every combination of the listed values, up front,
and returns a widget: one control per parameter (a slider for numbers, toggle buttons for
anything else) above a nest of `Stack` widgets holding the precomputed views. Each control is
`jslink`ed to the `selected_index` of the stacks at its level, so moving it switches views in the
browser alone. That is what lets the explorer work in the static web book, where no Python runs,
and the same code works live in Jupyter. The price: every combination is rendered and stored, so
keep the grids small (the product of the list lengths is the number of views), and put the
parameter with the fewest values first: each level of the nest adds a Stack per view above it.

`render` returns an HTML string, a matplotlib Figure (embedded as a PNG), or any ipywidget.

Explorers are styled through the widgets and inline styles only, never a `<style>` element
(JupyterLab drops those from markdown cells, so they would work in the web book alone), and they
fit a 360-px-wide phone screen:
- sliders take the width available (at most 28em) and keep their value readout inside it;
- toggle buttons are as wide as their text;
- each HTML view sits in a box that scrolls sideways by itself (and can be focused with the
  keyboard to scroll it) when a table is wider than the screen; a bare `<table>` does not wrap
  its lines; figures shrink to the width available (cell padding is left to the page's style);
- a bar, `bar(fraction)`, is an inline-styled `<i>`; an empty `<i style="width:…px"></i>` in a
  view is drawn as a bar of that width too.
"""

import base64
import io
import math
import numbers
import re

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

MAX_VIEWS = 400  # every view is stored in the page; more than this makes pages heavy

BAR_STYLE = "display:inline-block;height:9px;background:#4c8bbf;vertical-align:middle"
# A view's box: scrolls sideways by itself, and `contain: inline-size` keeps a wide table from
# widening the widgets around it (their flex items would otherwise grow to the table's width).
VIEW_BOX = ('<div class="byhand-view" tabindex="0" '
            'style="overflow-x:auto;max-width:100%;contain:inline-size">')
_INLINE = [
    (re.compile(r"<table>"), '<table style="margin:0;border-collapse:collapse;white-space:nowrap">'),
    (re.compile(r'<i style="width:\s*(\d+(?:\.\d+)?px);?"></i>'),
     lambda m: f'<i style="{BAR_STYLE};width:{m.group(1)}"></i>'),
    (re.compile(r"<img (?![^>]*style=)"), '<img style="max-width:100%;height:auto" '),
    # Cell padding inline too: JupyterLab drops <style> from notebooks, even trusted ones.
    (re.compile(r"<(td|th)>"), r'<\1 style="padding:1px 12px 1px 0">'),
]


def bar(fraction, width=120):
    """An inline bar `fraction` (0..1) of `width` pixels long, for a view's HTML."""
    length = int(round(width * min(max(float(fraction), 0.0), 1.0)))
    return f'<i style="{BAR_STYLE};width:{length}px"></i>'


def _fit(html):
    """A view's HTML, inline-styled and in a box of its own that scrolls sideways (idempotent)."""
    if html.startswith(VIEW_BOX):
        return html
    for pattern, replacement in _INLINE:
        html = pattern.sub(replacement, html)
    return f"{VIEW_BOX}{html}</div>"


def _format(value):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _control(name, values, label):
    options = [(_format(v), v) for v in values]
    if len({text for text, _ in options}) != len(options):
        raise ValueError(f"explore: the values of {name!r} print alike: {[t for t, _ in options]}")
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
    # Jupyter typesets both $..$ and \(..\) in labels; the book's MathJax only \(..\).
    description = re.sub(r"\$(.+?)\$", r"\\(\1\\)", label) if label is not None else name
    if numeric:
        # As wide as the column allows, up to 28em: the readout stays inside on a phone.
        return widgets.SelectionSlider(
            options=options, description=description, continuous_update=True,
            style={"description_width": "initial"},
            layout={"width": "100%", "max_width": "28em"},
        )
    # Buttons as wide as their text, so that a row of them fits a phone's width.
    return widgets.ToggleButtons(
        options=options, description=description,
        style={"description_width": "initial", "button_width": "auto"},
        layout={"max_width": "100%", "flex_flow": "row wrap"},
    )


def _figure_html(figure):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="explorer view" src="data:image/png;base64,{data}"/>'


def _view(result, shared):
    if isinstance(result, (widgets.HTML, widgets.HTMLMath)):
        result.value = _fit(result.value)
        if result.layout.width is None:  # the box needs a width to scroll within
            result.layout.width = "100%"
        return result
    if isinstance(result, widgets.Widget):
        return result
    if hasattr(result, "savefig"):
        return widgets.HTML(_fit(_figure_html(result)), **shared)
    if isinstance(result, str):
        return widgets.HTML(_fit(result), **shared)
    raise TypeError(
        f"explore: render returned {type(result).__name__}; return an HTML string, "
        "a matplotlib Figure or an ipywidget"
    )


def explore(render, labels=None, **parameters):
    """Precompute render(**combination) for every combination of `parameters` and link controls.

    labels: optional {parameter: label shown beside its control}; TeX in $...$ is typeset.
    Each parameter is a non-empty list of values; the first value of each is shown initially.
    """
    labels = labels or {}
    if not parameters:
        raise ValueError("explore: give at least one parameter, e.g. scale=[1, 10, 100]")
    for name, values in parameters.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"explore: {name!r} must be a non-empty list of values")
    views = math.prod(len(v) for v in parameters.values())
    if views > MAX_VIEWS:
        raise ValueError(f"explore: {views} combinations (at most {MAX_VIEWS}); use fewer values")

    names = list(parameters)
    controls = [_control(n, list(parameters[n]), labels.get(n)) for n in names]
    # Every widget has a layout (and an HTML view a style) model of its own unless given one;
    # all views share theirs, which keeps the state stored in the page about 40% smaller.
    # Views and stacks are as wide as the explorer, so that a wide view scrolls inside its box.
    shared = {"layout": widgets.Layout(width="100%"), "style": HTMLStyle()}
    stack_layout = widgets.Layout(width="100%")

    def build(level, chosen):
        if level == len(names):
            return _view(render(**dict(zip(names, chosen))), shared)
        children = [build(level + 1, chosen + (v,)) for v in parameters[names[level]]]
        stack = widgets.Stack(children, selected_index=0, layout=stack_layout)
        widgets.jslink((controls[level], "index"), (stack, "selected_index"))
        return stack

    explorer = widgets.VBox([*controls, build(0, ())], layout={"max_width": "100%"})
    explorer.add_class("byhand-explorer")  # lets tests and styles find it in the page
    return explorer

