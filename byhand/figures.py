"""The book's one figure style: `figures.use()` once, in a chapter's set-up cell.

    import matplotlib.pyplot as plt
    from byhand import figures
    figures.use()

It sets Matplotlib's rcParams (sizes, fonts, colors, grid, layout) and asks the notebook for PNGs
at twice the resolution (Jupyter's "retina" format): a figure of 6 x 3.4 inches at 100 dpi is
stored as a 1200-pixel PNG that the page shows 600 CSS pixels wide, sharp on high-density screens.
Not SVG: nbval would compare its text, and that text changes with the Matplotlib version.

A call, not an import side effect: the set-up cell shows where the style comes from, importing
`byhand` changes nothing, and a reader can leave the line out to see Matplotlib's defaults.

Sizes are in points of the figure as the book prints it: at 100 dpi, 1 pt is 1.39 CSS pixels, so
the smallest text (tick labels, legends, annotations; `SMALLEST`) is >= 12.5 px on a desktop
page. A figure is at most `MAX_WIDTH` inches wide, so the desktop column never shrinks it.
"""

import matplotlib as mpl

SMALLEST = 9  # pt: tick labels, legends, annotations never go below this (tests/test_figures.py)
MAX_WIDTH = 7.2  # inches (720 CSS px at 100 dpi): fits the book's column at full size
SIZE = (6.0, 3.4)  # inches: the default figure

# Okabe and Ito's palette, distinguishable with the common color-vision deficiencies:
# blue, orange, bluish green, vermilion, reddish purple, sky blue, black ("C0" ... "C6").
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]

STYLE = {
    "figure.figsize": SIZE,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.constrained_layout.use": True,  # no clipped labels, no fig.tight_layout() calls
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "figure.titlesize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "legend.framealpha": 0.9,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "axes.grid": True,
    "axes.grid.which": "major",
    "axes.axisbelow": True,
    "grid.color": "0.88",
    "grid.linewidth": 0.7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "image.interpolation": "nearest",
}


def use():
    """Apply the book's figure style, and 2x PNGs when running in a notebook."""
    mpl.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python, or a kernel without matplotlib-inline: style only
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")
