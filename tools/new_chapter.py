"""Scaffold a new chapter: a stub that builds and passes the tests, for a person to fill in.

    .venv/bin/python tools/new_chapter.py 11 layernorm "Layer normalization"

Writes the chapter and solutions notebooks, byhand/nn/<topic>.py (a placeholder layer Y = X * gamma),
byhand/check/chNN_<topic>.py (three tasks: a solutions notebook needs three to six) and both test
files; adds two placeholder derivation tasks (byhand/derive/tasks.py, CHAPTER_LABELS in
byhand/derive/task.py, VERIFY in tests/test_derive_references.py, PLACES in
tools/derivation_cells.py), the chapter to _toc.yml, intro.md and the rules card, its module to
byhand/nn/__init__.py (its catalogue registers itself: tests/catalogue.py); then runs
tools/derivation_cells.py, tools/execute.py and tools/make_exercises.py. A malformed or taken NN
or topic is refused (exit code 2). What is left to write: CONTRIBUTING.md, "Adding a chapter".
"""

import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

NN = '''"""Chapter @N@: @TITLE@. A stub from tools/new_chapter.py: the placeholder layer Y = X * gamma
(column d of X times gamma[d]) stands where the chapter's own layer goes."""

import numpy as np

__all__ = ["@T@_forward", "@T@_backward"]


def @T@_forward(X, gamma):
    """X (N, D), gamma (D,) -> out (N, D), and the cache for the backward pass."""
    out = X * gamma                          # (N, D): gamma broadcast along the rows
    return out, (X, gamma)


def @T@_backward(dout, cache):
    """dout (N, D) -> dX (N, D), dgamma (D,): each shaped like what it is taken with respect to."""
    X, gamma = cache
    dX = dout * gamma                        # (N, D)
    dgamma = np.sum(dout * X, axis=0)        # (D,): gamma is shared by the N rows
    return dX, dgamma
'''

CHECKS = '''"""Checks for chapter @N@, @TITLE@: a stub from tools/new_chapter.py, three tasks on the
placeholder layer of byhand/nn/@T@.py, to be replaced by the chapter's own (chapter 7's are a model)."""

import numpy as np

from ..nn.@T@ import @T@_backward, @T@_forward
from .core import CheckFailed, call, describe, dims, expect_array, fresh_rng, passed, task

__all__ = ["@T@_output", "@T@_dx", "@T@_dgamma"]
HINT = "reread chapter @N@, section @N@.1 'The derivation'."


def _check(name, reference, mistakes, hints, constant):
    """A task: candidate(X, gamma) or candidate(dout, X, gamma) against reference, three batches."""
    def checked(candidate):
        rng = fresh_rng(constant)
        for shape, dtype in ((dims(rng, 4, 3), np.float64), (dims(rng, 1, 5), np.float64),
                             ((3, 2), np.float32)):
            X, dout, g = (rng.normal(size=s).astype(dtype) for s in (shape, shape, shape[1:]))
            args = (X, g) if name.endswith("output") else (dout, X, g)
            shown, got, want = ", ".join(map(describe, args)), call(candidate, *args, hint=HINT), reference(*args)
            for wrong, message in mistakes(*args):
                if (isinstance(got, np.ndarray) and got.shape == wrong.shape
                        and np.allclose(got, wrong, rtol=1e-5) and not np.allclose(want, wrong)):
                    raise CheckFailed(f"{message}\\n  input: {shown}", HINT)
            expect_array(got, want, inputs=shown, hint=HINT, rtol=1e-5 if dtype == np.float32 else 1e-10)
        passed(name, "3 batches (float64 and float32), against byhand.nn.@T@")
    checked.__name__ = checked.__qualname__ = name
    return task(checked, hints=("Reread chapter @N@, section @N@.1 'The derivation': " + hints[0], hints[1]))


@T@_output = _check(
    "@T@_output", lambda X, g: @T@_forward(X, g)[0],
    lambda X, g: [(X, "that is X itself: each column is multiplied by its gamma"),
                  (X + g, "you added gamma: the layer multiplies by it")],
    ("every column of X is multiplied by its own entry of gamma.", "Broadcasting pairs gamma, one "
     "entry per column, with every row of X as it is; the result has the shape and dtype of X."), 1)
@T@_dx = _check(
    "@T@_dx", lambda d, X, g: @T@_backward(d, (X, g))[0],
    lambda d, X, g: [(d, "that is dout unchanged: the local derivative gamma is missing"),
                     (d * X, "that is dout times X: dX takes gamma, dgamma takes X")],
    ("each output entry depends on one entry of X, through one gamma.", "The derivative of an output "
     "entry with respect to its input entry is the gamma of its column; the upstream gradient times "
     "it, entry by entry, is the answer."), 2)
@T@_dgamma = _check(
    "@T@_dgamma", lambda d, X, g: @T@_backward(d, (X, g))[1],
    lambda d, X, g: [(d * X, "not summed over the batch: gamma is shared by all N rows"),
                     (np.mean(d * X, axis=0), "a mean instead of a sum over the rows")],
    ("gamma is used in every row, so its gradient gathers a share from each row.", "Take the upstream "
     "gradient times X, entry by entry, and add up the rows: one number per column, shaped like gamma."), 3)
'''

TEST_NN = '''"""Tests for byhand.nn.@T@ (a stub from tools/new_chapter.py)."""

import inspect
import json
from pathlib import Path

import numpy as np

from byhand import nn
from byhand.gradcheck import gradcheck
from byhand.nn import @T@_backward, @T@_forward

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "@STEM@.ipynb"


def test_the_chapter_shows_the_exported_functions_verbatim():
    cells = json.loads(CHAPTER.read_text())["cells"]
    shown = "\\n".join("".join(c["source"]) for c in cells if "reference" in c["metadata"].get("tags", []))
    assert nn.@T@.__all__ == ["@T@_forward", "@T@_backward"]
    for f in (@T@_forward, @T@_backward):
        assert getattr(nn, f.__name__) is f and inspect.getsource(f).strip() in shown, f.__name__


def test_values_against_a_loop_and_gradients_against_centered_differences():
    rng = np.random.default_rng(0)
    X, gamma, dout = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(5, 3))
    out, cache = @T@_forward(X, gamma)
    np.testing.assert_allclose(out, [[X[n, d] * gamma[d] for d in range(3)] for n in range(5)])
    dX, dgamma = @T@_backward(dout, cache)
    assert dX.shape == X.shape and dgamma.shape == gamma.shape
    gradcheck(lambda v: @T@_forward(v, gamma)[0], X, dX, upstream=dout)
    gradcheck(lambda g: @T@_forward(X, g)[0], gamma, dgamma, upstream=dout)
'''

TEST_CHECKS = '''"""The chapter @N@ checks (a stub from tools/new_chapter.py): right answers pass, classic wrong
answers fail with a message naming the problem."""

import numpy as np

from byhand import check
from byhand.nn import @T@_backward, @T@_forward
from catalogue import catalogue

RIGHT = [
    (check.@T@_output, lambda X, gamma: @T@_forward(X, gamma)[0]),
    (check.@T@_output, lambda X, gamma: np.einsum("nd,d->nd", X, gamma)),
    (check.@T@_dx, lambda dout, X, gamma: @T@_backward(dout, (X, gamma))[0]),
    (check.@T@_dx, lambda dout, X, gamma: np.einsum("nd,d->nd", dout, gamma)),
    (check.@T@_dgamma, lambda dout, X, gamma: @T@_backward(dout, (X, gamma))[1]),
    (check.@T@_dgamma, lambda dout, X, gamma: np.einsum("nd,nd->d", dout, X)),
]
WRONG = [
    (check.@T@_output, lambda X, gamma: X.copy(), "X itself"),
    (check.@T@_output, lambda X, gamma: X + gamma, "you added gamma"),
    (check.@T@_output, lambda X, gamma: (X * gamma).astype(np.float64), "wrong dtype"),
    (check.@T@_dx, lambda dout, X, gamma: dout.copy(), "dout unchanged"),
    (check.@T@_dx, lambda dout, X, gamma: dout * X, "dX takes gamma"),
    (check.@T@_dx, lambda dout, X, gamma: dout / gamma, "a wrong value"),
    (check.@T@_dgamma, lambda dout, X, gamma: dout * X, "not summed over the batch"),
    (check.@T@_dgamma, lambda dout, X, gamma: np.mean(dout * X, axis=0), "a mean instead"),
    (check.@T@_dgamma, lambda dout, X, gamma: np.sum(dout * X, axis=1), "wrong shape"),
]
test_right_answers_pass, test_wrong_answers_are_named = catalogue(RIGHT, WRONG, chapter=@N@)
'''

DERIVE = r'''

# ---------------------------------------------------------------- chapter @N@: @TITLE@
# Placeholders from tools/new_chapter.py, for the placeholder layer Y = X * gamma.

task(name="@T@_input_gradient", chapter=@N@, section="@N@.1 'The derivation'",
     asks="dx = ∂L/∂x for one entry y = g x of the layer, given dout = ∂L/∂y",
     asks_latex=r"\frac{\partial L}{\partial x},\ y = g x,\ \mathrm{dout} = \frac{\partial L}{\partial y}",
     symbols={"x": "the input", "g": "the entry of γ of its column", "dout": "the upstream gradient"},
     model=Model([V("x"), V("g"), V("dout")], sizes=SCALAR), latex_names={"dout": r"\mathrm{dout}"},
     reference="dout*g", also_right=["g*dout", "dout*(g + x) - dout*x"],
     slips=[Slip("dout*x", "dout times x is the gradient for g; for x the local derivative is g"),
            Slip("g", "dout is missing: the local derivative times the upstream gradient"),
            Slip("dout", "the local derivative g is missing"),
            Slip("dout/g", "divided by g: the derivative of g x with respect to x is g")])

task(name="@T@_gamma_gradient", chapter=@N@, section="@N@.1 'The derivation'",
     asks="dg = ∂L/∂g for two rows y1 = g x1, y2 = g x2 sharing g, given d1 = ∂L/∂y1, d2 = ∂L/∂y2",
     asks_latex=r"\frac{\partial L}{\partial g},\ y_1 = g x_1,\ y_2 = g x_2",
     symbols={"x1": "row 1's input", "x2": "row 2's input", "g": "the shared parameter",
              "d1": "∂L/∂y1", "d2": "∂L/∂y2"},
     model=Model([V("x1"), V("x2"), V("g"), V("d1"), V("d2")], sizes=SCALAR),
     reference="d1*x1 + d2*x2", also_right=["x1*d1 + x2*d2", "d2*x2 + d1*x1"],
     slips=[Slip("d1*g + d2*g", "g in place of x: the derivative of g x with respect to g is x"),
            Slip("d1*x1", "only the first row: g serves both rows, so their shares add"),
            Slip("(d1*x1 + d2*x2)/2", "a mean instead of a sum: each use of g adds its share"),
            Slip("d1*x2 + d2*x1", "the rows crossed: each upstream gradient goes with its own x")])
'''

PROOF = '''def @T@_gradients(name):  # chapter @N@'s placeholders (tools/new_chapter.py)
    x, x1, x2, g, dout, d1, d2 = sympy.symbols("x x1 x2 g dout d1 d2", real=True)
    env = {"x": x, "x1": x1, "x2": x2, "g": g, "dout": dout, "d1": d1, "d2": d2}
    if name.endswith("input_gradient"):
        return [(reference(name, env), sympy.diff(dout * g * x, x))]
    return [(reference(name, env), sympy.diff(d1 * g * x1 + d2 * g * x2, g))]


VERIFY = {
    "@T@_input_gradient": @T@_gradients, "@T@_gamma_gradient": @T@_gradients,'''

TASKS = [  # (check, function, arguments, statement, starter comment, solution)
    ("output", "out", "X, gamma", "the layer's output for X (N, D) and gamma (D,)",
     "# Return an array of X's shape and dtype.", "return X * gamma"),
    ("dx", "grad_x", "dout, X, gamma", "dL/dX, given the upstream gradient dout (N, D)",
     "# Return an array of X's shape and dtype: the gradient with respect to X.", "return dout * gamma"),
    ("dgamma", "grad_gamma", "dout, X, gamma", "dL/dgamma, given dout (N, D)",
     "# Return an array of gamma's shape (D,) and dtype.", "return np.sum(dout * X, axis=0)"),
]

CHAPTER = [  # markdown starts with "(" or "#"; None is the reference cell, the module's functions
    "(ch-@LABEL@)=\n# @N@. @TITLE@\n\n**To write:** the motivation, two sentences with a number or a "
    "picture. This stub's layer is a placeholder, $Y = X \\odot \\gamma$, in `byhand/nn/@T@.py`.",
    "import numpy as np\nimport sympy as sp\n\nfrom byhand.gradcheck import gradcheck\n"
    "from byhand.verify import verify\n\nrng = np.random.default_rng(0)",
    "## @N@.1 The derivation\n\n**To write.** $\\bar X_{nd} = \\bar Y_{nd}\\,\\gamma_d$, and $\\gamma$ "
    "serves all $N$ rows: $\\bar\\gamma_d = \\sum_n \\bar Y_{nd} X_{nd}$. SymPy on one column of two rows:",
    'x1, x2, g, v1, v2 = sp.symbols("x1 x2 gamma v1 v2", real=True)\n'
    "L = v1 * x1 * g + v2 * x2 * g                      # <dY, Y> for one column, two rows\n"
    'verify(sp.diff(L, x1), v1 * g, "dX = dY * gamma")\n'
    'verify(sp.diff(L, g), v1 * x1 + v2 * x2, "dgamma = sum over the rows of dY * X")',
    "## @N@.2 Implementation\n\nThe reference implementation, exactly as `byhand.nn.@T@` runs it:",
    None,
    "## @N@.3 Gradient check\n\nCentered differences in float64 against both gradients:",
    "X_check, gamma_check = rng.normal(size=(4, 3)), rng.normal(size=3)   # (N, D), (D,)\n"
    "dout_check = rng.normal(size=(4, 3))                                  # (N, D)\n"
    "dX, dgamma = @T@_backward(dout_check, @T@_forward(X_check, gamma_check)[1])\n"
    "report = gradcheck(lambda v: @T@_forward(v, gamma_check)[0], X_check, dX, upstream=dout_check)\n"
    "report = gradcheck(lambda g: @T@_forward(X_check, g)[0], gamma_check, dgamma, upstream=dout_check)\n"
    'print("@T@: gradient checks passed, relative error < 1e-7")',
    "## @N@.4 Exercises\n\n```{exercise}\n:label: ex-@LABEL@-shapes\n\nWhat are the shapes of $\\bar X$ "
    "and $\\bar\\gamma$?\n```\n\n```{solution} ex-@LABEL@-shapes\n:class: dropdown\n\n$(N, D)$ and $(D)$, "
    "those of $X$ and $\\gamma$.\n```\n\nThe exercise notebook: [@N@. Exercises: @TITLE@](../exercises/@STEM@.ipynb).",
    "## Summary\n\n- **To write:** what the chapter showed, in a few lines.",
]

SOLUTIONS = [
    "(sol-@LABEL@)=\n# @N@. Solutions: @TITLE@\n\nThree tasks on chapter @N@, [@N@. @TITLE@](../chapters/@STEM@.ipynb): "
    "the placeholder layer's output and its two gradients. **To write:** the chapter's own tasks.",
    "```{note}\nThese are the worked solutions. Try the exercises first: [@N@. Exercises: @TITLE@](../exercises/@STEM@.ipynb).\n```",
    "**How this notebook works.** Write each task's function in the cell below it, replacing `raise "
    "NotImplementedError()`, then run the check cell under it: it says what passed, or what went wrong.",
]
RULES = ("\n## @TITLE@\n\n| | |\n|---|---|\n| Forward | $Y = X \\odot \\gamma$ (a placeholder) |\n"
         "| VJP | $\\bar X = \\bar Y \\odot \\gamma$, $\\bar\\gamma = \\sum_n \\bar Y_{n,:} \\odot X_{n,:}$ |\n"
         "| Shapes | $(N, D) \\to (N, D)$; $\\gamma$ $(D)$ |\n| Code | `@T@_forward`, `@T@_backward` |\n"
         "| Derived in | {ref}`ch-@LABEL@` |\n\n## Elementary operations")


def refuse(message):
    sys.exit(print(f"new_chapter.py: {message}", file=sys.stderr) or 2)


def after_last(text, pattern, addition):
    end = list(re.finditer(pattern, text, re.M))[-1].end()
    return text[:end] + addition + text[end:]


def nbgrader(grade_id, check):
    return {"nbgrader": {"grade": check, "grade_id": grade_id, "locked": check, "schema_version": 3,
                         "solution": not check, "task": False, **({"points": 1} if check else {})}}


def main(argv):
    if len(argv) != 3:
        refuse('usage: tools/new_chapter.py NN topic "Title", e.g. 11 layernorm "Layer normalization"')
    n, topic, title = argv
    taken = {int(p.name[:2]): p.name for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")}
    if not re.fullmatch(r"\d\d", n) or n == "00":
        refuse(f"the chapter number must be two digits, 01 to 99: {n!r}")
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", topic):
        refuse(f"the topic must be a lowercase Python name (letters, digits, _): {topic!r}")
    if not title.strip() or "\n" in title:
        refuse("the title must be one non-empty line")
    if int(n) in taken:
        refuse(f"chapter {n} exists: chapters/{taken[int(n)]}")
    if int(n) < max(taken, default=0):
        refuse(f"chapter {n} would come before chapter {max(taken)}: new chapters go at the end")
    stem, label = f"{n}_{topic}", topic.replace("_", "-")
    files = {NN: f"byhand/nn/{topic}.py", CHECKS: f"byhand/check/ch{stem}.py",
             TEST_NN: f"tests/test_nn_{topic}.py", TEST_CHECKS: f"tests/test_checks_{topic}.py"}
    existing = [p.relative_to(ROOT).as_posix() for p in ROOT.glob(f"*/[0-9][0-9]_{topic}.ipynb")]
    existing += [path for path in files.values() if (ROOT / path).exists()]
    existing += [f"{topic}_{name} in {p.relative_to(ROOT)}" for p in (ROOT / "byhand").rglob("*.py")
                 for name in ("forward", "backward", "output", "dx", "dgamma", "input_gradient",
                              "gamma_gradient")
                 if re.search(rf"^(def )?{topic}_{name}\b", p.read_text(), re.M)]
    if existing:
        refuse(f"the topic {topic!r} is taken: {', '.join(existing)}")

    def fill(text):
        return (text.replace("@STEM@", stem).replace("@N@", str(int(n))).replace("@T@", topic)
                .replace("@TITLE@", title).replace("@LABEL@", label))

    def edit(path, change):
        (ROOT / path).write_text(change((ROOT / path).read_text()))
        print("edited", path)

    for template, path in files.items():
        (ROOT / path).write_text(fill(template))
        print("wrote", path)
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    reference = code(fill(NN.split("\n\n\n", 1)[1].strip()), metadata={"tags": ["reference"]})
    chapter = [reference if c is None else md(fill(c)) if c[0] in "(#" else code(fill(c)) for c in CHAPTER]
    solution = [md(fill(SOLUTIONS[0])), md(fill(SOLUTIONS[1]), metadata={"tags": ["solution-only"]}),
                md(fill(SOLUTIONS[2])), code("import numpy as np\n\nfrom byhand import check")]
    for k, (check, function, args, statement, comment, answer) in enumerate(TASKS, 1):
        function = f"{topic}_{function}"
        solution += [
            md(f"## Task {k}: `{function}`\n\nWrite `{function}({args})` returning {statement}."),
            code(f'def {function}({args}):\n    """{statement}."""\n    {comment}\n'
                 f"    ### BEGIN SOLUTION\n    {answer}\n    ### END SOLUTION",
                 metadata={**nbgrader(f"task-{k}-{label}-{check}", False), "tags": ["hide-input"]}),
            code(f"check.{topic}_{check}({function})", metadata=nbgrader(f"task-{k}-check", True))]
    kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    for folder, cells in (("chapters", chapter), ("solutions", solution)):
        notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernelspec})
        nbformat.write(notebook, ROOT / folder / f"{stem}.ipynb")
        print("wrote", f"{folder}/{stem}.ipynb")
    for folder in ("chapters", "exercises", "solutions"):
        edit("_toc.yml", lambda s: after_last(s, rf"^ *- file: {folder}/.*$", f"\n      - file: {folder}/{stem}"))
    edit("intro.md", lambda s: after_last(s, r"^\d+\. \{doc\}`chapters/.*(\n {2,}\S.*)*$", f"\n{int(n)}. "
                                          f"{{doc}}`chapters/{stem}`: to write, one line on what it does."))
    edit("appendices/rules.md", lambda s: s.replace("\n## Elementary operations", fill(RULES), 1))
    edit("byhand/nn/__init__.py",
         lambda s: s.rstrip("\n") + f"\nfrom .{topic} import *  # noqa: F401,F403  chapter {int(n)}\n")
    edit("byhand/derive/tasks.py", lambda s: s.replace(
        "\n\nBY_NAME = {", fill(DERIVE).rstrip("\n") + "\n\nBY_NAME = {", 1))
    edit("byhand/derive/task.py", lambda s: re.sub(r"(CHAPTER_LABELS = \{[^}]*)\}",
                                                    rf'\1, {int(n)}: "ch-{label}"}}', s, count=1))
    edit("tests/test_derive_references.py", lambda s: s.replace("\nVERIFY = {", "\n" + fill(PROOF), 1))
    edit("tools/derivation_cells.py", lambda s: s.replace("PLACES = {", fill(
        'PLACES = {\n    "@STEM@": [("@T@_input_gradient", "task-2-@LABEL@-dx"),\n'
        '                  ("@T@_gamma_gradient", "task-3-@LABEL@-dgamma")],'), 1))
    for command in (["tools/derivation_cells.py"], ["tools/execute.py", f"chapters/{stem}.ipynb",
                    f"solutions/{stem}.ipynb"], ["tools/make_exercises.py"]):
        subprocess.run([sys.executable, *command], cwd=ROOT, check=True)
    print(f"\nChapter {int(n)} is a stub. What is left to write: CONTRIBUTING.md, 'Adding a chapter'.")


if __name__ == "__main__":
    main(sys.argv[1:])
