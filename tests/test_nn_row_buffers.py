"""The one-row buffer (byhand.nn.row_buffers.row_buffer, chapter 2, section 2.5) that
logsumexp, softmax and log_softmax use changes how NumPy loops, never what it computes, and
never leaks out of the block.

The helper itself: the buffer it sets inside the block for each row length, and the caller's
buffer size after the block, also after an error. Each function is compared, bit for bit, with
the same steps written out plainly and run under NumPy's default buffer size, on rows just
below, at and above the lengths where the buffer is set (128 ... 4096 entries), along either
axis and in every float dtype.
"""

import importlib
from contextlib import contextmanager

import numpy as np
import pytest

from byhand.nn import log_softmax, logsumexp, softmax
from byhand.nn.row_buffers import row_buffer


@pytest.mark.parametrize("n, inside", [(1, 8192), (127, 8192), (128, 128), (129, 144),
                                       (1000, 1008), (4096, 4096), (4097, 8192)])
def test_the_buffer_inside_the_block_is_one_row(n, inside):
    assert np.getbufsize() == 8192                             # NumPy's default
    with row_buffer(np.zeros((3, n))):
        assert np.getbufsize() == inside
    assert np.getbufsize() == 8192


def test_rows_are_along_the_last_axis_and_a_scalar_has_none():
    with row_buffer(np.zeros((1000, 10))):
        assert np.getbufsize() == 8192                         # rows of 10: no change
    with row_buffer(np.float32(3)):
        assert np.getbufsize() == 8192


def test_the_callers_size_is_back_after_the_block_and_after_an_error():
    with np.errstate():                                        # restores NumPy's default
        np.setbufsize(1 << 16)
        with row_buffer(np.zeros(1000)):
            assert np.getbufsize() == 1008
        assert np.getbufsize() == 1 << 16
        with pytest.raises(ZeroDivisionError):
            with row_buffer(np.zeros(1000)):
                1 / 0
        assert np.getbufsize() == 1 << 16


@pytest.mark.parametrize("function", [logsumexp, softmax, log_softmax])
def test_each_function_loops_one_row_at_a_time(monkeypatch, function):
    module = importlib.import_module(function.__module__)     # byhand.nn.softmax, ...
    seen = []

    @contextmanager
    def watching(x):
        with row_buffer(x):
            seen.append(np.getbufsize())
            yield

    monkeypatch.setattr(module, "row_buffer", watching)
    function(np.zeros((5, 1000), dtype=np.float32))
    assert seen == [1008]


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
