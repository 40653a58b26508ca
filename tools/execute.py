"""Execute notebooks in place, storing outputs and widget state (what the book renders).

    python tools/execute.py chapters/02_logsumexp.ipynb [more.ipynb ...]

Run from the repository root, each notebook with its own folder as working directory, the same
way nbval runs it in `make test`, so the stored outputs are the ones nbval will compare.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path):
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps from older runs
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True, record_timing=False,  # no timestamps: clean diffs
    )
    client.execute()
    if not _has_widgets(notebook):
        notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    print(f"executed {path}")


def _has_widgets(notebook):
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return bool(state.get("state"))


if __name__ == "__main__":
    for name in sys.argv[1:]:
        execute(name)
