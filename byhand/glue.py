"""Put a computed value into the book's prose: `glue("name", value)` in a code cell, then
{glue:text}`name` (or {glue:text}`name:.2f`) in a Markdown cell of the same notebook.

MyST-NB reads values glued this way from the stored outputs when it builds the page, so a number
in a sentence is the number the cell computed, and nbval checks on every `make test` that the
cell still computes it. MyST-NB's own `myst_nb.glue` does the same but cannot be imported where
the book's notebooks also run (JupyterLite, Colab); this is the same ten lines on IPython alone.
"""

from IPython.core.formatters import format_display_data
from IPython.display import display

HIDDEN = "application/papermill.record/"  # MyST-NB's prefix for glued data not shown in the cell


def glue(name, value, show=False):
    """Store `value` under `name` for the page's {glue:text} roles; show it in the cell if asked."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # np.float64(0.65) -> 0.65: MyST-NB formats the plain number
    bundle, metadata = format_display_data(value)
    prefix = "" if show else HIDDEN
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    display({prefix + mime: data for mime, data in bundle.items()}, raw=True, metadata=metadata)
