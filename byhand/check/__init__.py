"""Checks that teach: one function per exercise task, `check.<task>(candidate)`.

A check calls your function on many inputs (random ones, extreme ones, batches, every float
dtype), compares with the book's reference, and either prints one line saying what passed or
raises CheckFailed: which input, what was expected, what came back, and which section of the
book to reread. In Jupyter the message is shown alone, without a traceback.
"""

from .core import CheckFailed
from .jacobians import numerical_jacobian, vjp_linear, vjp_tanh, vjp_two_layers
from .logsumexp import logsumexp_masked, logsumexp_rows, logsumexp_vector, softmax_via_logsumexp

__all__ = [
    "CheckFailed",
    "numerical_jacobian", "vjp_tanh", "vjp_linear", "vjp_two_layers",
    "logsumexp_vector", "logsumexp_rows", "logsumexp_masked", "softmax_via_logsumexp",
]
