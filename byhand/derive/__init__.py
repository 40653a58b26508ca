"""Derivation checks: the student derives a formula by hand, SymPy checks it and names the mistake.

    from byhand.derive import derive_softmax_jacobian_entry
    derive_softmax_jacobian_entry("s_i*(delta_ij - s_j)")   # ✓ ... or CheckFailed saying why

The answer is plain math in a string (or a SymPy expression). It is read by a parser of our own
(`parse.py`) that accepts only the task's symbols, numbers, operators, parentheses and a fixed list
of functions: it is never evaluated as Python. `equivalence.py` decides whether it equals the
reference, symbolically where SymPy can and always backed by 30-digit values at several points,
and builds the counterexample and the name of the classic mistake when it does not. The tasks,
chapter by chapter, are in `tasks.py`.

This package imports only the standard library, SymPy, mpmath (through SymPy),
`byhand.failure` and `byhand.progress` (which records a pass), so it runs under Pyodide (JupyterLite) as well as in Jupyter.
"""

import sys

from byhand.failure import CheckFailed, folded
from byhand.progress import record

from .equivalence import Verdict, judge
from .tasks import BY_NAME, TASKS

__all__ = ["CheckFailed", "TASKS", "judge", "Verdict", "statement"]


def _show(verdict, task):
    """The ✓ line (folded to the code column), and the formula typeset when running under IPython (Jupyter)."""
    how = ("SymPy reduced the difference to 0" if verdict.symbolic else
           f"equal to 30 digits at {verdict.points} points; SymPy could not reduce the "
           "difference to 0")
    print(folded(f"✓ {task.check_name}: {verdict.text} is {task.asks} ({how})"))
    _typeset(f"{task.quantity_latex} = {verdict.latex}")


def _typeset(latex):
    """Display LaTeX when running under IPython (Jupyter); do nothing anywhere else."""
    if "IPython" not in sys.modules:  # not in Jupyter: nothing to typeset, nothing to import
        return
    from IPython import get_ipython
    from IPython.display import Math, display
    if get_ipython() is not None:
        display(Math(latex))


def _make_check(task):
    def check(answer):
        try:
            verdict = judge(task, answer)
        except CheckFailed as failure:
            if getattr(failure, "latex", None):
                _typeset(r"\text{understood as: } " + failure.latex)
            raise
        _show(verdict, task)
        record(task.check_name)

    check.__name__ = check.__qualname__ = task.check_name
    check.__doc__ = task.statement()
    check.task = task
    return check


def statement(name):
    """The Markdown statement of a task (for an exercise notebook), by its check's name."""
    return BY_NAME[name.removeprefix("derive_")].statement()


for _task in TASKS:
    globals()[_task.check_name] = _make_check(_task)
    __all__.append(_task.check_name)
