"""Put the derivation tasks of byhand.derive into the solution notebooks, or refresh them.

    python tools/derivation_cells.py     then: tools/execute.py on the changed notebooks,
                                         and tools/make_exercises.py

Each task becomes three cells, placed right before the code task that implements what it
derives (PLACES below): a Markdown statement (written by `byhand.derive.statement`, so the
notebook says exactly what the check expects, plus a pointer to the section to reread), a code
cell with the reference answer between nbgrader's solution markers (the student version gets
`answer = ""`), and the check cell `check.derive_<name>(answer)`. Running it again replaces the
derivation cells it wrote before (and leaves every other cell as it is), so after a change to a
task's text in byhand/derive/tasks.py it brings the notebooks up to date;
tests/test_exercises.py fails until it has.
"""

import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from byhand.derive import BY_NAME  # noqa: E402

# Where each derivation goes: before the heading of the code task whose solution cell has this
# nbgrader grade_id, in this order.
PLACES = {
    "01_jacobians": [("centered_difference_error", "task-1-numerical-jacobian"),
                     ("vjp_linear_input", "task-3-vjp-linear"),
                     ("vjp_linear_weight", "task-3-vjp-linear"),
                     ("chain_rule_jacobian", "task-4-vjp-two-layers")],
    "02_logsumexp": [("logsumexp_shift", "task-1-logsumexp-vector"),
                     ("logsumexp_gradient", "task-4-softmax")],
    "03_softmax": [("softmax_jacobian_entry", "task-2-softmax-jacobian"),
                   ("softmax_jacobian", "task-2-softmax-jacobian"),
                   ("softmax_vjp", "task-3-softmax-vjp")],
    "04_log_softmax": [("log_softmax_jacobian_entry", "task-3-log-softmax-jacobian"),
                       ("log_softmax_vjp", "task-4-log-softmax-vjp")],
    "05_cross_entropy": [("cross_entropy_gradient_p", "task-2-cross-entropy-grad"),
                         ("softmax_cross_entropy_batch", "task-4-softmax-ce-grad"),
                         ("logistic_loss_derivative", "task-4-softmax-ce-grad"),
                         ("cross_entropy_any_targets", "task-5-smooth-labels")],
    "06_linear": [("linear_dX", "task-2-grad-X"),
                  ("linear_dW", "task-3-grad-W"),
                  ("linear_db", "task-4-grad-b")],
    "07_activations": [("relu_backward", "task-1-relu-vjp"),
                       ("tanh_backward", "task-2-tanh-vjp"),
                       ("sigmoid_derivative", "task-4-sigmoid-vjp")],
    "08_residual": [("residual_input_gradient", "task-2-residual-dx"),
                    ("residual_weight_gradient", "task-3-residual-param-grads"),
                    ("residual_bias_gradient", "task-3-residual-param-grads")],
    "09_graphs": [("square_node", "task-2-mul-grads"),
                  ("matmul_gradient", "task-3-matmul-grads"),
                  ("fanout_gradient", "task-5-backward-pass"),
                  ("reverse_mode_delta", "task-5-backward-pass")],
    "10_mnist": [("mnist_output_weight_gradient", "task-4-train-step"),
                 ("mnist_hidden_gradient", "task-4-train-step")],
}

HEADING = "## Derivation "  # "## Derivation 2: $...$": how this script finds the cells it wrote
HOW = textwrap.fill(
      "**Derivations.** Before some tasks you derive, by hand, the formula the function will "
       "compute. Write the result as a string of plain math, `answer = \"...\"`, and run the "
       "check under it. SymPy accepts it in any equivalent form; otherwise the check shows how "
       "it read your formula, a point where it differs from the right one, and the classic "
       "mistake it matches, with the section to reread. The string is read by the book's own "
       "parser and never run as Python.", width=99)
NUMBERS = {2: "Two", 3: "Three", 4: "Four"}


def reread(task, chapter_link):
    """'Stuck? Reread section 3.4, *The Jacobian, entry by entry*, of [3. Softmax](...).'"""
    number, title = re.match(r"(\d+\.\d+) '(.+?)'", task.section).groups()
    return f"Stuck? Reread section {number}, *{title}*, of {chapter_link}."


def chapter_link(stem):
    """A Markdown link to the chapter's notebook, titled as the chapter is: the web book and
    JupyterLab both follow it (a {doc} role leads nowhere in JupyterLab)."""
    chapter = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4)
    title = next(line for line in chapter.cells[0].source.splitlines() if line.startswith("# "))
    return f"[{title[2:].strip()}](../chapters/{stem}.ipynb)"


def cells_for(task, number, chapter_link):
    grade_id = "derive-" + task.name.replace("_", "-")  # also the cells' ids, for clean diffs
    statement = nbformat.v4.new_markdown_cell(
        f"{HEADING}{number}: ${task.quantity_latex}$\n\n{task.statement()}\n\n"
        f"{reread(task, chapter_link)}", id=grade_id + "-task")
    answer = nbformat.v4.new_code_cell(
        "# Your result, as plain math in a string (the symbols are listed above).\n"
        f'### BEGIN SOLUTION\nanswer = "{task.reference}"\n### END SOLUTION',
        metadata={"nbgrader": {"grade": False, "grade_id": grade_id, "locked": False,
                               "schema_version": 3, "solution": True, "task": False},
                  "tags": ["hide-input"]}, id=grade_id)
    check = nbformat.v4.new_code_cell(
        f"check.{task.check_name}(answer)",
        metadata={"nbgrader": {"grade": True, "grade_id": grade_id + "-check", "locked": True,
                               "points": 1, "schema_version": 3, "solution": False,
                               "task": False}}, id=grade_id + "-check")
    return [statement, answer, check]


def is_derivation_cell(cell):
    return cell.get("id", "").startswith("derive-")


def task_heading(cells, index):
    """The grade_id of the code task whose "## Task" heading is cells[index], else None."""
    if cells[index].cell_type != "markdown" or not cells[index].source.startswith("## Task"):
        return None
    for cell in cells[index + 1:]:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            return cell.metadata["nbgrader"]["grade_id"]
    return None


def update(path, places):
    notebook = nbformat.read(path, as_version=4)
    link = chapter_link(path.name[:-len(".ipynb")])
    old = {c.id: c for c in notebook.cells if is_derivation_cell(c)}
    cells = [c for c in notebook.cells if not is_derivation_cell(c)]
    before = {}
    for name, grade_id in places:
        before.setdefault(grade_id, []).append(BY_NAME[name])
    result, number = [], 0
    for index, cell in enumerate(cells):
        # A code task starts at its "## Task" heading: the derivations go before that.
        grade_id = task_heading(cells, index)
        for task in before.pop(grade_id, []):
            number += 1
            result += cells_for(task, number, link)
        result.append(cell)
    if before:
        sys.exit(f"derivation_cells: {path.name} has no code task {sorted(before)}")
    intro = result[0]
    count = f"{NUMBERS[number]} derivations come before the tasks that implement them."
    intro.source = re.sub(r"\n\n(Two|Three|Four) derivations come before .*\Z", "", intro.source)
    intro.source += "\n\n" + count
    how = next(c for c in result if c.source.startswith("**How this notebook works.**"))
    how.source = re.sub(r"\n\n\*\*Derivations\.\*\*.*\Z", "", how.source, flags=re.S)
    how.source += "\n\n" + HOW
    for cell in result:
        kept = old.get(cell.id)
        if cell.cell_type == "code" and kept is not None and kept.source == cell.source:
            # An unchanged cell keeps its outputs: running the script again changes nothing.
            cell.outputs, cell.execution_count = kept.outputs, kept.execution_count
    notebook.cells = result
    text = nbformat.writes(notebook) + "\n"
    if text != path.read_text():
        nbformat.validate(notebook)
        path.write_text(text)
        print(f"derivation_cells: wrote {path.relative_to(ROOT)}")


def main():
    tasks_placed = [name for places in PLACES.values() for name, _ in places]
    missing = set(BY_NAME) - set(tasks_placed)
    if missing or len(tasks_placed) != len(set(tasks_placed)):
        sys.exit(f"derivation_cells: every task goes in exactly one place; missing {missing}")
    for stem, places in PLACES.items():
        chapters = {BY_NAME[name].chapter for name, _ in places}
        if chapters != {int(stem[:2])}:
            sys.exit(f"derivation_cells: {stem} lists a task of chapter {chapters}")
        update(ROOT / "solutions" / f"{stem}.ipynb", places)


if __name__ == "__main__":
    main()
