"""byhand.glue writes the output MyST-NB's glue reader looks for (the same as myst_nb.glue)."""

import nbformat
import pytest
from myst_nb.ext.glue import extract_glue_data_cell
from nbclient import NotebookClient


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from byhand.glue import glue\n"
        "glue('digits', 2)\n"
        "glue('ratio', 0.875, show=True)\n"
        "import numpy as np\n"
        "glue('numpy', np.float64(0.65))\n"
        "from myst_nb import glue as myst_glue\n"
        "myst_glue('digits_myst', 2, display=False)"
    )]
    NotebookClient(notebook, kernel_name="python3").execute()
    return notebook.cells[0]


def test_glued_values_are_what_myst_nb_extracts(executed):
    found = dict(extract_glue_data_cell(executed))
    assert found["digits"]["data"]["text/plain"] == "2"
    assert found["ratio"]["data"]["text/plain"] == "0.875"
    assert found["numpy"]["data"]["text/plain"] == "0.65"  # not 'np.float64(0.65)': {glue:text}`numpy:.1f` works
    # the same record as MyST-NB's own glue, so {glue:text} renders both alike
    assert found["digits"]["data"] == found["digits_myst"]["data"]


def test_hidden_values_are_not_shown_and_shown_ones_are(executed):
    shown = [o for o in executed.outputs if "text/plain" in o.get("data", {})]
    assert [o["data"]["text/plain"] for o in shown] == ["0.875"]
