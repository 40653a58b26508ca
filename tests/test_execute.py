"""tools/execute.py: re-executing an unchanged notebook changes only its volatile outputs.

A small notebook, built here, stands in for a chapter: an explorer (sliders jslinked to Stacks,
as the chapters' explorers are), text printed in several writes, text printed around a displayed
object, and a timing cell tagged `nbval-ignore-output`. It is executed twice, as `make execute`
runs it; the two files may differ only in the outputs of the tagged cell. (It is built in the
test, not stored under tests/, so that nbval does not collect it as a notebook to compare.)
"""

import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
VOLATILE = "nbval-ignore-output"

CELLS = [
    # Two parameters: nested Stacks, two jslinks, shared layout and style models.
    "from byhand.explore import explore\n"
    "explore(lambda t, kind: f'<b>{kind} {t}</b>', t=[1, 2, 3], kind=['a', 'b'])",
    # Five writes, each flushed: five stream messages from the kernel.
    "import sys\n"
    "for i in range(5):\n"
    "    print(i, end=' ')\n"
    "    sys.stdout.flush()",
    # Text on either side of a displayed object must stay on its side.
    "from IPython.display import HTML, display\n"
    "print('before', flush=True)\n"
    "display(HTML('<i>between</i>'))\n"
    "print('after')",
    # Different on every run, and tagged so.
    "import time\n"
    "print(time.perf_counter_ns())",
]


def fixture_notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.cells[-1].metadata["tags"] = [VOLATILE]
    for n, cell in enumerate(notebook.cells):
        cell.id = f"cell-{n}"  # fixed ids: nbformat would draw random ones
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3", "language": "python", "name": "python3"}
    return notebook


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The notebook's file after a first and after a second `tools/execute.py` run."""
    path = tmp_path_factory.mktemp("execute") / "fixture.ipynb"
    nbformat.write(fixture_notebook(), path)
    texts = []
    for _ in range(2):
        subprocess.run([sys.executable, "tools/execute.py", str(path)], cwd=ROOT, check=True,
                       capture_output=True)
        texts.append(path.read_text(encoding="utf-8"))
    return texts


def without_volatile_outputs(text):
    notebook = json.loads(text)
    for cell in notebook["cells"]:
        if VOLATILE in cell["metadata"].get("tags", []):
            cell["outputs"] = []
    return json.dumps(notebook, indent=1, sort_keys=True).splitlines()


def test_executing_twice_changes_only_volatile_outputs(runs):
    first, second = runs
    assert first != second, "the timing cell should differ between runs: is it still executed?"
    diff = list(difflib.unified_diff(
        without_volatile_outputs(first), without_volatile_outputs(second), lineterm="", n=1))
    assert diff == [], "re-executing changed more than volatile outputs:\n" + "\n".join(diff[:40])


def test_streams_are_merged_only_where_consecutive(runs):
    cells = nbformat.reads(runs[0], as_version=4).cells  # text as one string, not lines
    writes = cells[1]["outputs"]
    assert [(o["output_type"], o["name"], o["text"]) for o in writes] == [
        ("stream", "stdout", "0 1 2 3 4 ")], "five writes are not stored as one output"
    around = cells[2]["outputs"]
    assert [o["output_type"] for o in around] == ["stream", "display_data", "stream"]
    assert (around[0]["text"], around[2]["text"]) == ("before\n", "after\n")


def test_every_widget_reference_names_a_stored_model(runs):
    """What the HTML manager needs to render the page: every id it is given resolves."""
    notebook = json.loads(runs[0])
    state = notebook["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert {m["model_name"] for m in state.values()} >= {"StackModel", "LinkModel", "VBoxModel"}
    assert all(re.fullmatch(r"[0-9a-f]{32}", model_id) for model_id in state)
    views = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for o in notebook["cells"][0]["outputs"] if "data" in o]
    references = re.findall(r"IPY_MODEL_([^\"]*)", json.dumps(state))
    assert views and references
    missing = {i for i in views + references if i not in state}
    assert not missing, f"ids named but not in the widget state: {missing}"
