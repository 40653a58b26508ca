"""The one-row buffer in logsumexp, softmax and log_softmax (chapter 2, section 2.5) changes
how NumPy loops, never what it computes, and never leaks out of the function.

Each function is compared, bit for bit, with the same steps written out plainly and run under
NumPy's default buffer size, on rows just below, at and above the lengths where the buffer is
set (128 ... 4096 entries), along either axis and in every float dtype.
"""

import numpy as np
import pytest

from byhand.nn import log_softmax, logsumexp, softmax


def plain_logsumexp(x, axis):
    work = np.promote_types(x.dtype, np.float32)
    m = np.max(x, axis=axis, keepdims=True).astype(work)
    e = np.exp(np.subtract(x, m, dtype=work))
    return (np.log(np.sum(e, axis=axis)) + np.squeeze(m, axis)).astype(x.dtype)


def plain_softmax(x, axis):
    work = np.promote_types(x.dtype, np.float32)
    e = np.exp(np.subtract(x, np.max(x, axis=axis, keepdims=True), dtype=work))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


def plain_log_softmax(x, axis):
    work = np.promote_types(x.dtype, np.float32)
    z = np.subtract(x, np.max(x, axis=axis, keepdims=True), dtype=work)
    return (z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))).astype(x.dtype)


PAIRS = [(logsumexp, plain_logsumexp), (softmax, plain_softmax),
         (log_softmax, plain_log_softmax)]


@pytest.mark.parametrize("function, plain", PAIRS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [100, 127, 128, 1000, 4096, 4097, 10000])
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_same_bits_as_the_plain_steps(function, plain, n, axis, dtype):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((37, n)) * 10).astype(dtype)     # (37, n): rows of n
    with np.errstate(under="ignore"):
        expected = plain(x, axis)
    assert np.getbufsize() == 8192                             # NumPy's default
    np.testing.assert_array_equal(function(x, axis=axis), expected, strict=True)


@pytest.mark.parametrize("function", [logsumexp, softmax, log_softmax])
def test_the_callers_buffer_size_is_left_alone(function):
    x = np.random.default_rng(0).standard_normal((8, 1000))
    before = np.getbufsize()
    function(x)
    assert np.getbufsize() == before
    with np.errstate():
        np.setbufsize(1 << 16)                                 # a caller's own choice
        function(x)
        assert np.getbufsize() == 1 << 16
        with pytest.raises(ValueError):
            function(np.zeros((1000, 0)))                      # an error inside
        assert np.getbufsize() == 1 << 16
    assert np.getbufsize() == before


@pytest.mark.parametrize("function", [logsumexp, softmax, log_softmax])
def test_a_long_vector_is_fine(function):
    # a row longer than NumPy's largest allowed buffer (10**7): no buffer is set at all
    x = np.linspace(-5, 5, 10**7 + 1, dtype=np.float32)
    assert np.isfinite(function(x)).all()
