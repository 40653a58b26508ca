"""Chapter 2, section 2.5: one row per NumPy inner loop, the speed trick that
logsumexp, softmax and log_softmax share. It changes how NumPy loops, never a result."""

from contextlib import contextmanager

import numpy as np

__all__ = ["row_buffer"]


@contextmanager
def row_buffer(x):
    """Inside the block, NumPy's inner loops take one row of x at a time.

    Rows run along the last axis, where NumPy's innermost loop runs. A row of
    128 to 4096 entries gets a buffer of its own length (rounded up to 16, as
    NumPy requires), so that one value per row is subtracted or divided
    without a copy of it repeated along the buffer. Shorter rows gain nothing,
    and longer ones never share a buffer anyway. Whether it pays depends on the
    NumPy version and the CPU: with NumPy 2.4 on the machine of
    bench/results/softmax.txt it bought nothing measurable (chapter 2 says so).
    On exit, even after an error, the caller's buffer size is back.
    """
    n = np.shape(x)[-1] if np.ndim(x) else 0       # the length of a row
    before = np.getbufsize()
    if 128 <= n <= 4096:
        np.setbufsize(16 * -(-n // 16))             # n rounded up to 16
    try:
        yield
    finally:
        np.setbufsize(before)
