"""Checks that teach: one function per exercise task, `check.<task>(candidate)`.

A check calls your function on many inputs (random ones, extreme ones, batches, every float
dtype), compares with the book's reference, and either prints one line saying what passed or
raises CheckFailed: which input, what was expected, what came back, and which section of the
book to reread. In Jupyter the message is shown alone, without a traceback.

One module per chapter, `chNN_topic.py`, found here by its name; every task it lists in its
`__all__` is re-exported, so `check.<task>` works without editing this file.

The derivation checks of `byhand.derive` (`check.derive_softmax_jacobian_entry(answer)`: a
formula in a string, checked by SymPy) are re-exported too; they raise the same CheckFailed.

`check.hint("<task>")` prints a task's next hint (levels kept beside each check, in its
`@task(hints=...)`); `check.<task>(fn, seed=k)` runs the check on fresh inputs drawn from k.
"""

import importlib
import pkgutil

from .core import CheckFailed, hint  # noqa: F401  (check.hint: not in __all__, not a task)

__all__ = ["CheckFailed"]
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _info.name.startswith("ch"):  # ch01_jacobians, ch02_logsumexp, ...
        _module = importlib.import_module(f"{__name__}.{_info.name}")
        for _name in _module.__all__:
            if _name in globals():
                raise ImportError(f"byhand.check: two chapters define the task {_name!r}")
            globals()[_name] = getattr(_module, _name)
            __all__.append(_name)

from byhand import derive as _derive  # noqa: E402  (after the chapters: their names come first)

for _task in _derive.TASKS:
    if _task.check_name in globals():
        raise ImportError(f"byhand.check: {_task.check_name!r} is both a chapter's task and a "
                          "derivation task")
    globals()[_task.check_name] = getattr(_derive, _task.check_name)
    __all__.append(_task.check_name)
