"""The derivation checks (byhand.derive): right forms pass, slips are named, code is never run.

For every task: the reference and its other correct forms pass (symbolically, not only on
numbers); every classic mistake in its catalog fails with its own explanation, a counterexample
or a shape message, and the chapter to reread; malformed strings, code injection among them, are
refused before anything is evaluated. The reference answers themselves are checked against
SymPy's own differentiation of each task's definition (tests/test_derive_references.py).
"""

import ast
import builtins
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import sympy

from byhand import derive
from byhand.derive import TASKS, judge
from byhand.failure import CheckFailed

ROOT = Path(__file__).resolve().parent.parent
RIGHT = [(task, form) for task in TASKS for form in [task.reference, *task.also_right]]
SLIPS = [(task, slip) for task in TASKS for slip in task.slips]


def ids(pairs):
    return [f"{task.name}-{k}" for k, (task, _) in enumerate(pairs)]


# ---------------------------------------------------------------- the catalog

def test_every_chapter_has_two_tasks_and_there_are_twenty():
    chapters = [task.chapter for task in TASKS]
    assert len(TASKS) >= 20
    assert all(chapters.count(c) >= 2 for c in range(1, 11)), chapters


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_every_task_has_three_right_forms_and_four_slips(task):
    assert len({task.reference, *task.also_right}) >= 3
    assert len(task.slips) >= 4
    assert task.check_name.startswith("derive_")
    assert getattr(derive, task.check_name).task is task
    assert task.check_name in task.statement() and task.asks_latex in task.statement()


# ---------------------------------------------------------------- right answers

@pytest.mark.parametrize("task, form", RIGHT, ids=ids(RIGHT))
def test_right_forms_pass_symbolically(task, form):
    verdict = judge(task, form)
    assert verdict.symbolic  # not on numbers alone
    assert verdict.points >= 7
    assert well_formed(verdict.latex), verdict.latex


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_a_right_answer_gets_one_line_with_the_formula_as_understood(task, capsys):
    getattr(derive, task.check_name)(task.reference)
    out = capsys.readouterr().out
    assert all(len(line) <= 88 for line in out.splitlines()), out  # the book's code column
    line = " ".join(part.strip() for part in out.splitlines())  # one verdict, folded
    assert line.startswith(f"✓ {task.check_name}: {judge(task, task.reference).text} is "), line
    assert line.endswith("(SymPy reduced the difference to 0)"), line


def test_sympy_expressions_are_accepted():
    s_i, s_j = sympy.symbols("s_i s_j")
    i, j = sympy.symbols("i j")
    judge(derive.tasks.BY_NAME["softmax_jacobian_entry"],
          s_i * (sympy.KroneckerDelta(i, j) - s_j))
    W, v = sympy.MatrixSymbol("W", 3, 2), sympy.MatrixSymbol("v", 3, 1)
    judge(derive.tasks.BY_NAME["vjp_linear_input"], W.T * v)
    x = sympy.Symbol("x")
    judge(derive.tasks.BY_NAME["sigmoid_derivative"], sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2)


def test_an_answer_right_only_on_the_constraint_surface_passes():
    # s_i - s_i^2 equals s_i(1 - s_i) anywhere; the softmax VJP written with Σ_j s_j = 1 used
    # (v·Σs - <v, s>) is right only where the probabilities sum to 1, as a softmax's do.
    judge(derive.tasks.BY_NAME["softmax_vjp"], "s*(v*sum(s) - s^T*v)")
    # and for targets that need not sum to 1, p - t is wrong, off that surface
    with pytest.raises(CheckFailed, match="assumes the targets sum to 1"):
        judge(derive.tasks.BY_NAME["cross_entropy_any_targets"], "p - t")


# ---------------------------------------------------------------- wrong answers

@pytest.mark.parametrize("task, slip", SLIPS, ids=ids(SLIPS))
def test_every_slip_fails_with_its_own_explanation(task, slip):
    with pytest.raises(CheckFailed) as failure:
        getattr(derive, task.check_name)(slip.answer)
    message = str(failure.value)
    assert f"classic mistake: {slip.mistake}" in message, message
    assert "understood as: " in message, message
    assert f"Hint: reread chapter {slip.chapter or task.chapter}" in message, message
    assert "counterexample: at " in message or "shape" in message, message
    assert well_formed(failure.value.latex), failure.value.latex


GENERIC = [  # wrong answers outside the catalogs: the mistake any task can have is still named
    ("softmax_jacobian_entry", "-s_i*(delta_ij - s_j)", "the sign is flipped"),
    ("softmax_jacobian_entry", "s_i*(1 - s_i)", "right for i = j, wrong for i ≠ j"),
    ("log_softmax_jacobian_entry", "delta_ij*(1 - s_j)", "right for i = j, wrong for i ≠ j"),
    ("linear_dW", "2*X^T*dA", "off by a constant factor: yours is 2 times"),
    ("softmax_cross_entropy_batch", "(P - T)/N^2", "an extra factor 1/N"),
    ("linear_db", "X^T*dA", "its shape is wrong"),
    ("vjp_linear_input", "W^T*v + 1", "counterexample: at W = "),
    ("sigmoid_derivative", "sigma(1 - sigma)", "is read as the function sigma applied"),
    ("softmax_jacobian", "diag(s)^2", "the power of a 3×3 matrix is ambiguous"),
    ("logsumexp_gradient", "exp(x_i)/S^3", "counterexample: at i = 1, x = (0.5, -1, 2)"),
    ("cross_entropy_gradient_p", "-t/p + 1/(s - s)", "unknown name 's'"),
    ("relu_backward", "relu(dout)", "a ReLU of the gradient"),
    ("residual_input_gradient", "g + V^T*(m*g) + I", "adds the identity matrix"),
    # wrong by less than 30 digits show: SymPy finds the constant, or 100 digits do
    ("softmax_jacobian_entry", "s_i*(delta_ij - s_j) + 10^(-40)",
     "differs from the right one by the constant 1.00000E-40"),
    ("softmax_jacobian_entry", "s_i*(delta_ij - s_j) + 10^(-40)*sin(s_i)",
     "too little to show in 30 digits, but not 0"),
    # or SymPy proves the difference is not 0: a nonzero rational function, or a known sign
    ("softmax_jacobian_entry", "s_i*(delta_ij - s_j) + 10^(-40)*exp(s_i)", "which is not 0"),
    ("sigmoid_derivative", "s*(1 - s) + 10^(-64)*10^(-64)*x", "which is not 0"),
    ("sigmoid_derivative", "s*(1 - s) + exp(-x^2 - 1000)", "which is not 0"),
    # points are not all multiples of 2^-30 (and numbers inside functions are bounded)
    ("tanh_backward", "dout*(1 - tau^2) + sin(2^33*pi*x)", "numbers inside a function are at most"),
    ("tanh_backward", "dout*(1 - tau^2) + sin(2^19*pi*x)*x^2", "counterexample: at "),
    # the ones vector is ones(K), not 1
    ("cross_entropy_any_targets", "(1^T*t)*p - t", "a number has no transpose"),
    # an answer that rebuilds a size from ones(N) meets a size set it cannot know
    ("softmax_cross_entropy_batch",
     "(P - T)/sum(ones(N)) + (sum(ones(N)) - 2)*(sum(ones(N)) - 3)*P", "counterexample: at sizes"),
    ("softmax_vjp", "s*(v - s^T*v) + (sum(v/v) - 3)*(sum(v/v) - 4)*v", "counterexample: at sizes"),
    # a wrong threshold: no random point falls between 0 and 0.1, so the switch is probed
    ("relu_backward", "dout*(x > 0.1)", "counterexample: at x = 0.09995"),
    ("relu_backward", "dout*(x > 1e-9)", "counterexample: at x = 5e-10"),
    ("sigmoid_derivative", "s*(1 - s)*(x < 5)", "counterexample: at x = 5.0003"),
    ("sigmoid_derivative", "s*(1 - s)*((x < 5) + (x > 5.00001))", "at x = 5.000005"),
    # past a wrong cut-off the truth is tiny (about 4e-26), not 0
    ("tanh_backward", "dout*(1 - tau^2)*(abs(x) < 30)", "counterexample: at x = -30.001"),
    ("relu_backward", "dout*(x > 0)*(sin(x) < 0.99)", "cannot be checked: it switches where"),
    # a size used as a number could vanish at the sizes checked: checked at one more set
    ("softmax_cross_entropy_batch", "(P - T)/N + (N - 2)*(N - 3)*P",
     "counterexample: at sizes N = "),
    ("softmax_cross_entropy_batch", "(P - T)/N + (N*P - 2*P)*(N - 3)",
     "counterexample: at sizes N = "),
    ("linear_dW", "X^T*dA*(1 + (D - 3)*(D - 2))", "counterexample: at sizes N = "),
]


@pytest.mark.parametrize("name, answer, words", GENERIC, ids=[g[0] for g in GENERIC])
def test_other_wrong_answers_are_explained(name, answer, words):
    with pytest.raises(CheckFailed) as failure:
        judge(derive.tasks.BY_NAME[name], answer)
    assert words in str(failure.value), str(failure.value)


def test_a_formula_built_to_vanish_at_the_checked_points_still_fails():
    # s(1 - s) plus a polynomial that is 0 at every point the numbers use: SymPy cannot
    # reduce it, the 30-digit values agree, and only fresh points (seeded by the answer's own
    # text, so unknown when it was written) can show that it is wrong
    task = derive.tasks.BY_NAME["sigmoid_derivative"]
    judge_ = derive.equivalence.Judge(task, task.reference)
    judge_.tree = task.parse(task.reference)
    x = next(s for s in judge_.build_groups()[0][2]["x"].free_symbols)
    roots = [point[x] for group in judge_.build_groups() for point in group[4]]
    vanishing = "*".join(f"(x - {sympy.Rational(r)})" for r in roots)
    assert len(roots) >= 7
    with pytest.raises(CheckFailed, match="counterexample: at x = "):
        judge(task, f"s*(1 - s) + {vanishing}")


@pytest.mark.parametrize("name, answer, slip", [
    # at square sizes N = K, so (P - T)/K is the right answer there: no slip may be named
    ("softmax_cross_entropy_batch", "(P - T)*eye(N)/K", None),
    # the first mask case is all ones, where a missing mask is the right answer
    ("residual_input_gradient", "g + V^T*g + I", None),
    ("linear_dX", "W^T*dA", "the factors in the wrong order"),
])
def test_after_a_shape_error_only_an_unambiguous_slip_is_named(name, answer, slip):
    with pytest.raises(CheckFailed) as failure:
        judge(derive.tasks.BY_NAME[name], answer)
    message = str(failure.value)
    assert "shape" in message, message
    if slip:
        assert f"classic mistake: {slip}" in message, message
    else:
        assert "classic mistake" not in message, message


def test_a_counterexample_shows_the_point_and_both_values():
    with pytest.raises(CheckFailed) as failure:
        judge(derive.tasks.BY_NAME["softmax_jacobian_entry"], "s_i*(delta_ij + s_j)")
    message = str(failure.value)
    # the readable point: s = (1/5, 3/10, 1/2), i = j = 1: yours 0.2(1 + 0.2), right 0.2(1 - 0.2)
    assert "at i = 1, j = 1, s = (0.2, 0.3, 0.5)" in message, message
    assert "your formula gives 0.24, the right value is 0.16" in message, message


# ---------------------------------------------------------------- malformed, and never run

MALFORMED = [
    ("__import__('os').system('x')", "underscore"),
    ("().__class__", "attribute access"),
    ("lambda: 1", "Python keyword"),
    ("'a'", "quotes"),
    ("(1 + 2", "never closed"),
    ("1 + 2)", "no matching '('"),
    ("x_zz + 1", "unknown name 'x_zz'"),
    ("exp()", "a term is missing"),
    ("[1, 2]", "square brackets"),
    ("import os", "Python keyword"),
    ("1 +", "ends too early"),
    ("a = 1", "makes an equation"),
]
INJECTIONS = ["setattr(__import__('sys'), 'derive_was_run', 1)",
              "exec('import sys; sys.derive_was_run = 1')",
              "sys.modules.__setitem__('derive_was_run', 1)"]


@pytest.fixture
def no_evaluation(monkeypatch):
    """Record every call of eval, exec, compile, sympify and parse_expr made from here on."""
    calls = []

    def recorder(name, original):
        def record(*args, **kwargs):
            calls.append((name, args[:1]))
            return original(*args, **kwargs)
        return record

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, recorder(name, getattr(builtins, name)))
    monkeypatch.setattr(sympy, "sympify", recorder("sympify", sympy.sympify))
    monkeypatch.setattr(sympy, "parse_expr", recorder("parse_expr", sympy.parse_expr))
    from sympy.parsing import sympy_parser
    monkeypatch.setattr(sympy_parser, "parse_expr",
                        recorder("parse_expr", sympy_parser.parse_expr))
    return calls


MALFORMED_CASES = [(task, text, words) for task in TASKS for text, words in MALFORMED]


@pytest.mark.parametrize("task, text, words", MALFORMED_CASES,
                         ids=[f"{t.name}-{k}" for k, (t, _, _) in enumerate(MALFORMED_CASES)])
def test_malformed_strings_are_refused_before_any_evaluation(task, text, words, no_evaluation):
    with pytest.raises(CheckFailed) as failure:
        getattr(derive, task.check_name)(text)
    message = str(failure.value)
    assert message.startswith("could not read your formula: "), message
    assert words in message, message
    assert no_evaluation == []


@pytest.mark.parametrize("text", INJECTIONS)
def test_code_is_never_run(text, no_evaluation):
    for task in TASKS:
        with pytest.raises(CheckFailed, match="could not read your formula"):
            judge(task, text)
    assert not hasattr(sys, "derive_was_run") and "derive_was_run" not in sys.modules
    assert no_evaluation == []


def test_a_valid_answer_is_never_handed_to_an_evaluator(no_evaluation):
    answers = ["s*(v - s^T*v)", "s*(1 - s)*v"]  # one right, one wrong
    for answer in answers:
        try:
            judge(derive.tasks.BY_NAME["softmax_vjp"], answer)
        except CheckFailed:
            pass
    texts = [str(args[0]) for name, args in no_evaluation if args]
    assert not any(answer in text for answer in answers for text in texts)
    assert not [name for name, _ in no_evaluation if name == "parse_expr"]


def test_other_kinds_of_answer_are_refused_with_a_reason():
    task = derive.tasks.BY_NAME["softmax_vjp"]
    with pytest.raises(CheckFailed, match="not answered yet") as failure:
        judge(task, "   ")
    # the task's own symbols, not another task's example
    assert "symbols s, v" in str(failure.value) and "delta" not in str(failure.value)
    with pytest.raises(CheckFailed, match="expected your formula as a string"):
        judge(task, ["s", "v"])
    with pytest.raises(CheckFailed, match="explicit SymPy Matrix"):
        judge(task, sympy.Matrix([1, 2, 3]))
    with pytest.raises(CheckFailed, match="characters; the limit is"):
        judge(task, "s + " * 200 + "s")


# ---------------------------------------------------------------- what the package imports

ALLOWED_IMPORTS = {"sympy", "mpmath", "byhand"}


def test_the_checker_imports_only_the_standard_library_sympy_and_mpmath():
    # byhand.progress records a pass: standard library only at its top level (it reads the
    # task list from byhand.check only inside chapters(), which a check never calls)
    progress = ROOT / "byhand" / "progress.py"
    for node in ast.parse(progress.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert all(n.split(".")[0] in sys.stdlib_module_names for n in names), names
    for path in sorted((ROOT / "byhand" / "derive").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "IPython":  # only inside a function, when a kernel shows the ✓
                    continue
                assert top in sys.stdlib_module_names or top in ALLOWED_IMPORTS, (path, name)
                if top == "byhand":
                    assert name in ("byhand.failure", "byhand.progress"), (path, name)
    code = ("import sys, byhand.derive as d; d.derive_square_node('2*x*ybar'); "
            "print(sorted(m for m in ('numpy', 'IPython', 'ipywidgets', 'scipy') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip().endswith("[]"), result.stdout


# ---------------------------------------------------------------- verdicts and display

def test_an_equivalence_sympy_cannot_decide_passes_on_numbers_and_says_so(capsys):
    # sqrt(s_3^2) = s_3 needs s_3 = 1 - s_1 - s_2 > 0, which SymPy's assumptions cannot derive
    derive.derive_softmax_jacobian_entry("sqrt(s_i^2)*(delta_ij - s_j)")
    line = " ".join(part.strip() for part in capsys.readouterr().out.splitlines())  # unfolded
    assert "SymPy could not reduce the difference to 0" in line, line
    assert "equal to 30 digits at " in line, line


def test_cancellation_in_floating_point_does_not_fail_a_right_answer():
    # (x_i + L)^30 (x_i - L)^30 - (x_i^2 - L^2)^30 is 0, but about 1e14 - 1e14 in 30-digit
    # floats; the exact rational points and SymPy's adaptive evalf get it right
    verdict = judge(derive.tasks.BY_NAME["logsumexp_gradient"],
                    "exp(x_i)/S + (x_i + L)^30*(x_i - L)^30 - (x_i^2 - L^2)^30")
    assert not verdict.symbolic  # a power of a sum this high is not expanded: numbers decide


def test_formulas_that_would_never_finish_are_refused():
    task = derive.tasks.BY_NAME["softmax_jacobian_entry"]
    with pytest.raises(CheckFailed, match="the exponent 100000 is too large"):
        judge(task, "(s_i + s_j)^100000")
    with pytest.raises(CheckFailed, match="the number 1e100 is too large"):
        judge(task, "1e100*s_i")


# Strings that once hung the checker, filled the memory or overflowed the stack, and the words of
# the message that now refuses each one. They run in a subprocess with a generous timeout, so a
# regression fails the test instead of hanging it; no time is asserted.
HOSTILE = [
    ("1e99999999", "the number 1e99999999 is too large"),
    ("1e-99999999", "the number 1e-99999999 is too small"),
    ("1e999999999999", "the number 1e999999999999 is too large"),
    ("9" * 300, "too many digits"),
    ("(((((64^64)^64)^64)^64)^64)", "nested more than 3 deep"),
    ("x" + "^x" * 20, "nested more than 3 deep"),
    ("64^64*x", "the power 64^64 is too large or too small to check"),
    ("exp(1000)^64", "is too large or too small to check"),
    ("sum(ones(10^5))", "ones(100000) is too large"),
    ("sum(ones(100000000))", "ones(100000000) is too large"),
    ("sum(eye(3000))", "eye(3000) is too large"),
    ("sum(eye(20000))", "eye(20000) is too large"),
    ("exp(exp(exp(exp(100))))", "nested more than 3 deep"),
    ("exp(exp(exp(1e12)))", "holds the number 1000000000000"),
    ("exp(exp(2000000000*x))", "numbers inside a function are at most"),
    ("h^2 + sin(10737418240*pi*h)*x", "numbers inside a function are at most"),
    ("log(" * 11 + "x" + ")" * 11, "functions nested more than 4 deep"),
    ("h^2*(h^64 - 1e-30*h^63 + h^2 > 1e-30)", "cannot be checked: it switches where"),
    ("cosh(exp(1001))", "is too large to check"),
    ("-" * 399 + "x", "nested more than 40 deep"),
    ("(" * 190 + "x" + ")" * 190, "nested more than 40 deep"),
    ("sin(" * 79 + "x" + ")" * 79, "nested more than 40 deep"),
    ("(1e12*x)^(1e12*x)", "a power whose exponent is not a number"),
    ("x" + "+x" * 199, "counterexample"),  # long but flat: judged as usual
]


def test_hostile_strings_are_refused_with_a_reason():
    script = f"""
import json, sys
from byhand.derive import BY_NAME, judge
from byhand.failure import CheckFailed
for text, _ in {HOSTILE!r}:
    try:
        judge(BY_NAME["centered_difference_error"], text)
        outcome = "passed"
    except CheckFailed as failure:
        outcome = str(failure)
    except BaseException as error:
        outcome = f"escaped: {{type(error).__name__}}: {{error}}"
    print(json.dumps(outcome), flush=True)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outcomes) == len(HOSTILE)
    for (text, words), message in zip(HOSTILE, outcomes):
        assert words in message, (text[:40], message)
        assert "escaped" not in message and len(message) < 1500, (text[:40], message)


def test_a_literal_with_many_digits_is_summarized_in_the_message():
    with pytest.raises(CheckFailed) as failure:
        judge(derive.tasks.BY_NAME["centered_difference_error"], "1" * 116 + "*x")
    reason = str(failure.value).splitlines()[2]  # after the formula as understood
    assert reason.strip().startswith("the number 111111111111… (116 characters) has too many "
                                     "digits"), reason


def well_formed(latex):
    depth = 0
    for c in latex:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    # a double superscript (x^{a}^{b}) is an error in LaTeX
    return depth == 0 and not re.search(r"\^\{[^{}]*\}\^", latex)


def test_in_jupyter_the_formula_is_typeset(monkeypatch, capsys):
    shown = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: object()
    display = types.ModuleType("IPython.display")
    display.Math = lambda latex: ("Math", latex)
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    derive.derive_softmax_vjp("s*(v - s^T*v)")
    assert shown == [("Math", r"J^\top v = \frac{\partial L}{\partial x} = "
                              r"s \odot \left(v - s^{\top} \, v\right)")]
    with pytest.raises(CheckFailed):
        derive.derive_softmax_vjp("s*(1 - s)*v")
    assert shown[-1] == ("Math", r"\text{understood as: } s \odot \left(1 - s\right) \odot v")


# ---------------------------------------------------------------- where to reread

def chapter_headings(chapter):
    path = next((ROOT / "chapters").glob(f"{chapter:02d}_*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return {plain(line.lstrip("#")) for cell in cells if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines() if line.startswith("#")}


def plain(title):
    """A heading without its math markup: '$p - t$' and 'p − t' compare equal."""
    return title.replace("$", "").replace("−", "-").strip()


def test_every_section_to_reread_is_a_heading_of_its_chapter():
    for task in TASKS:
        for chapter, section in [(task.chapter, task.section)] + [
                (slip.chapter or task.chapter, slip.section) for slip in task.slips
                if slip.section]:
            number, title = re.fullmatch(r"(\d+\.\d+) '(.+)'( \(.*\))?", section).groups()[:2]
            assert number.startswith(f"{chapter}."), (task.name, section)
            assert plain(f"{number} {title}") in chapter_headings(chapter), (task.name, section)


def test_byhand_check_re_exports_every_derivation_check(capsys):
    from byhand import check
    for task in TASKS:
        assert task.check_name in check.__all__
        assert getattr(check, task.check_name) is getattr(derive, task.check_name)
    check.derive_softmax_jacobian_entry("s_i*(delta_ij - s_j)")
    assert capsys.readouterr().out.startswith("✓ derive_softmax_jacobian_entry")
    with pytest.raises(check.CheckFailed, match="not answered yet"):
        check.derive_softmax_jacobian_entry("")
