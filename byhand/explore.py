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
"""

import base64
import io
import math
import numbers
import re

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

MAX_VIEWS = 400  # every view is stored in the page; more than this makes pages heavy


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
        return widgets.SelectionSlider(
            options=options, description=description, continuous_update=True,
            style={"description_width": "initial"}, layout={"width": "28em"},
        )
    return widgets.ToggleButtons(
        options=options, description=description, style={"description_width": "initial"},
    )


def _figure_html(figure):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="explorer view" src="data:image/png;base64,{data}"/>'


def _view(result, shared):
    if isinstance(result, widgets.Widget):
        return result
    if hasattr(result, "savefig"):
        return widgets.HTML(_figure_html(result), **shared)
    if isinstance(result, str):
        return widgets.HTML(result, **shared)
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
    shared = {"layout": widgets.Layout(), "style": HTMLStyle()}
    stack_layout = widgets.Layout()

    def build(level, chosen):
        if level == len(names):
            return _view(render(**dict(zip(names, chosen))), shared)
        children = [build(level + 1, chosen + (v,)) for v in parameters[names[level]]]
        stack = widgets.Stack(children, selected_index=0, layout=stack_layout)
        widgets.jslink((controls[level], "index"), (stack, "selected_index"))
        return stack

    explorer = widgets.VBox([*controls, build(0, ())])
    explorer.add_class("byhand-explorer")  # lets tests and styles find it in the page
    return explorer

