"""Checks that teach: one function per exercise task, `check.<task>(candidate)`.

A check calls your function on many inputs (random ones, extreme ones, batches, every float
dtype), compares with the book's reference, and either prints one line saying what passed or
raises CheckFailed: which input, what was expected, what came back, and which section of the
book to reread. In Jupyter the message is shown alone, without a traceback.

One module per chapter; every task is re-exported here.
"""

from . import (ch01_jacobians, ch02_logsumexp, ch03_softmax, ch04_log_softmax,
               ch05_cross_entropy, ch06_linear, ch07_activations, ch08_residual)
from .core import CheckFailed

_CHAPTERS = [ch01_jacobians, ch02_logsumexp, ch03_softmax, ch04_log_softmax,
             ch05_cross_entropy, ch06_linear, ch07_activations, ch08_residual]
__all__ = ["CheckFailed"]
for _module in _CHAPTERS:
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
