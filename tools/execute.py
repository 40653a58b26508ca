"""Execute notebooks in place, storing outputs and widget state (what the book renders).

    python tools/execute.py chapters/02_logsumexp.ipynb [more.ipynb ...]

Run from the repository root, each notebook with its own folder as working directory, the same
way nbval runs it in `make test`, so the stored outputs are the ones nbval will compare.

Re-executing an unchanged notebook rewrites nothing but the outputs of cells that are volatile by
nature (timings, tagged `nbval-ignore-output`), so that a re-run gives a diff a person can review:
- widget model ids, random uuids in the kernel, are renumbered in the order the kernel created the
  models (the same order on every run of the same code), as uuid-shaped hex derived from the
  notebook's folder and name;
- consecutive stream outputs of the same name are merged: how the kernel chunks printed text
  depends on timing, the text does not;
- no timestamps are recorded.
"""

import os
import sys
import uuid
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
REFERENCE = "IPY_MODEL_"  # how one model's state names another
# Any fixed namespace will do; this one keeps the book's ids apart from other uuid5 users.
# The kernels below pass checks: that is the book's output, not the author's progress.
os.environ["BYHAND_PROGRESS"] = "off"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/backprop-by-hand/backprop-by-hand")


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
    merge_streams(notebook)
    renumber_widgets(notebook, f"{path.parent.name}/{path.name}")
    nbformat.write(notebook, path)
    print(f"executed {path}")


def _has_widgets(notebook):
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    return bool(state.get("state"))


def merge_streams(notebook):
    """Join each run of consecutive stream outputs of one name (stdout, stderr) into one output.

    Only consecutive ones: text printed before and after a figure stays on either side of it.
    """
    for cell in notebook.cells:
        merged = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (output.output_type == "stream" and last is not None
                    and last.output_type == "stream" and last.name == output.name):
                last.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def renumber_widgets(notebook, label):
    """Replace the kernel's random widget model ids by ids that depend only on `label` and order.

    The order is that of the stored widget state, which nbclient records as the kernel creates the
    models, then of any other model a view output names. An id changes wherever a model is named:
    the state's keys, views in outputs (also those kept inside an Output widget's state), and
    `IPY_MODEL_<id>` references between models. Ids are random 128-bit hex: no other string in a
    notebook equals one by chance.
    """
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    views = [
        output.data[WIDGET_VIEW]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    ]
    old_ids = dict.fromkeys([*state, *(view["model_id"] for view in views)])
    new = {old: uuid.uuid5(NAMESPACE, f"{label}#{n}").hex for n, old in enumerate(old_ids)}

    def rename(value):
        if isinstance(value, str):
            if value in new:
                return new[value]
            if value.startswith(REFERENCE) and value[len(REFERENCE):] in new:
                return REFERENCE + new[value[len(REFERENCE):]]
            return value
        if isinstance(value, dict):
            return {key: rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        return value

    if state:
        renamed = {new[old]: rename(model) for old, model in state.items()}
        notebook.metadata.widgets[WIDGET_STATE]["state"] = nbformat.from_dict(renamed)
    for view in views:
        view["model_id"] = new[view["model_id"]]


if __name__ == "__main__":
    for name in sys.argv[1:]:
        execute(name)
