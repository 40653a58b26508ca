"""Checks for the exercises of chapter 10: MNIST in NumPy."""

import numpy as np

from ..data import IDXError, load_mnist, read_idx
from ..nn.activations import relu_backward, relu_forward
from ..nn.cross_entropy import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from ..nn.linear import linear_backward, linear_forward
from .core import (CheckFailed, call, describe, dims, expect_array, fresh_rng, passed, run,
                   seeded, task)

__all__ = ["parse_idx", "mlp_forward", "accuracy", "train_step", "train_mlp"]

HINT_DATA = "reread chapter 10, section 10.1 'The data', and the IDX layout in the task."
HINT_NET = "reread chapter 10, section 10.2 'The network, assembled from the book's layers'."
HINT_STEP = "reread chapter 10, section 10.5 'Training' (momentum in PyTorch's form)."
HINT_SGD = "reread chapter 10, section 10.4 'One example at a time, or a mini-batch'."
HINT_TRAIN = ("reread chapter 10, section 10.5 'Training': He initialization, batches of 128, "
              "momentum 0.9, a few epochs, a step size that decays.")
TRAIN_SECONDS = 300
TARGET = 0.97


# ---------------------------------------------------------------- task 1: the IDX format

def _idx(array, code):
    dtype = {0x08: ">u1", 0x0C: ">i4"}[code]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + np.asarray(array, dtype).tobytes()


@task(hints=(
    "Reread chapter 10, section 10.1 'The data', and the IDX layout in the task: two zero "
    "bytes, a type code, the number of dimensions, then one big-endian 4-byte size per "
    "dimension, then the values.",
    "Refuse the file (ValueError) when the first two bytes are not zero or the type code is "
    "unknown; read the sizes as big-endian unsigned 32-bit numbers; refuse it when its length "
    "is not the header plus the number of values times their size; then read the values in "
    "the big-endian type the code names and give them the shape from the header.",
))
def parse_idx(candidate):
    """candidate(data: bytes) -> the array an IDX file holds; ValueError for a damaged one."""
    rng = fresh_rng(10)
    cases = [
        ("a 3-D file of unsigned bytes (images), shape (3, 4, 5)",
         rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8), 0x08),
        ("a 1-D file of unsigned bytes (labels), shape (7,)",
         rng.integers(0, 10, size=7, dtype=np.uint8), 0x08),
        ("a 2-D file of big-endian int32, shape (2, 3)",
         np.array([[1, -2, 300], [70000, 5, -6]], dtype=np.int32), 0x0C),
        ("a file with 300 images of 2 x 2 (sizes above 255 need all 4 bytes)",
         rng.integers(0, 256, size=(300, 2, 2), dtype=np.uint8), 0x08),
    ]
    if seeded() is not None:
        shape = dims(rng, 2, 3, 4, low=1, high=6)[:int(rng.integers(1, 4))]
        cases.append((f"a fresh file of unsigned bytes, shape {shape} (seed {seeded()})",
                      rng.integers(0, 256, size=shape, dtype=np.uint8), 0x08))
        shape = dims(rng, 3, 2, low=1, high=5)
        cases.append((f"a fresh file of big-endian int32, shape {shape} (seed {seeded()})",
                      rng.integers(-2**31, 2**31, size=shape).astype(np.int32), 0x0C))
    for name, expected, code in cases:
        data = _idx(expected, code)
        try:
            got = call(candidate, data, hint=HINT_DATA)
        except CheckFailed as failure:
            if "reshape" in failure.message or "buffer" in failure.message:
                raise CheckFailed(
                    f"on {name}: {failure.message}\n  The sizes after the magic number are "
                    "big-endian uint32 ('>u4'): read little-endian, a size of 3 becomes "
                    "50331648.", HINT_DATA) from None
            raise CheckFailed(f"on {name}: {failure.message}", failure.hint) from None
        values = np.frombuffer(data, np.uint8)
        if isinstance(got, np.ndarray) and got.size == expected.size and code == 0x08:
            for offset in (0, 4, 8, 12):
                if offset != 4 + 4 * expected.ndim and np.array_equal(
                        got.ravel(), values[offset:offset + expected.size]):
                    raise CheckFailed(
                        f"on {name}: the values start at byte {offset}; they start after the "
                        f"header of 4 + 4 x ndim = {4 + 4 * expected.ndim} bytes", HINT_DATA)
        if isinstance(got, np.ndarray) and got.shape == (expected.size,) != expected.shape:
            raise CheckFailed(f"on {name}: returned a flat array of shape {got.shape}; reshape "
                              f"it to the sizes in the header, {expected.shape}", HINT_DATA)
        if (isinstance(got, np.ndarray) and code == 0x0C and got.shape == expected.shape
                and np.array_equal(got.astype(np.int64),
                                   expected.byteswap().astype(np.int64))):
            raise CheckFailed(f"on {name}: the values come out byte-swapped: IDX stores "
                              "them big-endian ('>i4'), not in the machine's order", HINT_DATA)
        if isinstance(got, np.ndarray) and got.dtype != expected.dtype and np.array_equal(
                got, expected):
            raise CheckFailed(f"on {name}: the values are right but the dtype is {got.dtype}; "
                              f"type code {code:#04x} means {expected.dtype}", HINT_DATA)
        expect_array(got, expected, inputs=f"{name} ({len(data)} bytes)", hint=HINT_DATA,
                     rtol=0)
    good = _idx(rng.integers(0, 256, size=(2, 3, 3), dtype=np.uint8), 0x08)
    damaged = [
        ("a truncated file (its last byte missing)", good[:-1]),
        ("a file with a byte too many", good + b"\x00"),
        ("a bad magic number (first bytes 'PK', a zip file)", b"PK" + good[2:]),
        ("an unknown type code 0x07", good[:2] + b"\x07" + good[3:]),
    ]
    refused = object()

    def attempt(data):  # the expected outcome, ValueError, becomes a value; the rest is run's
        try:
            return candidate(data)
        except (ValueError, IDXError):
            return refused

    for name, data in damaged:
        try:
            got = run(attempt, [data], shown=describe(data), hint=HINT_DATA)
        except CheckFailed as failure:
            raise CheckFailed(f"on {name}: {failure.message.splitlines()[0]}; raise ValueError "
                              "for a damaged file", HINT_DATA) from None
        if got is refused:
            continue
        raise CheckFailed(f"on {name}: returned {describe(got)} instead of raising ValueError: "
                          "check the magic number and that the file size is 4 + 4 x ndim + "
                          "the number of values", HINT_DATA)
    passed("parse_idx", f"{len(cases)} files (uint8, int32, 1-D to 3-D), 4 damaged ones "
           "refused")


# ---------------------------------------------------------------- task 2: the forward pass

def reference_forward(params, X):
    """Logits of the MLP [W1, b1, ..., WL, bL]: linear, ReLU, ..., linear (no ReLU last)."""
    Z = X
    for l in range(0, len(params), 2):
        Z, _ = linear_forward(Z, params[l], params[l + 1])
        if l + 2 < len(params):
            Z, _ = relu_forward(Z)
    return Z


def _net(sizes, seed, dtype=np.float64):
    r = fresh_rng(seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [(r.normal(size=(a, b)) * np.sqrt(2 / a)).astype(dtype),
                   r.normal(size=b).astype(dtype) * 0.5]
    return params


def _is(got, value, rtol=1e-6):
    if isinstance(got, np.generic):
        got = np.asarray(got)
    if not isinstance(got, np.ndarray) or got.shape != np.shape(value):
        return False
    try:
        return bool(np.allclose(got.astype(np.float64), value, rtol=rtol, atol=1e-9))
    except (TypeError, ValueError):
        return False


@task(hints=(
    "Reread chapter 10, section 10.2 'The network, assembled from the book's layers': the "
    "parameters come in pairs, a weight matrix and a bias, one pair per layer.",
    "Start from X and go through the pairs in order: a linear layer each time, followed by a "
    "ReLU for every layer except the last. The last layer's output is the logits, with no "
    "ReLU and no softmax.",
))
def mlp_forward(candidate):
    """candidate(params, X) -> the logits (N, K) of an MLP with ReLU between layers."""
    rng = fresh_rng(11)
    cases = [
        ("three layers 6-5-4-3 on a batch of 7", (6, 5, 4, 3), 7, np.float64),
        ("two layers 4-8-2 on a batch of 1", (4, 8, 2), 1, np.float64),
        ("one layer 5-3 (a linear model: no ReLU at all)", (5, 3), 4, np.float64),
        ("four layers 3-6-6-6-4", (3, 6, 6, 6, 4), 5, np.float64),
        ("float32, 784-32-16-10 on a batch of 9", (784, 32, 16, 10), 9, np.float32),
    ]
    if seeded() is not None:
        sizes = dims(rng, 5, 4, 3, 2, low=1, high=9)[:int(rng.integers(2, 5))]
        n = dims(rng, 4)[0]
        cases.append((f"a fresh network {'-'.join(map(str, sizes))} on a batch of {n} (seed "
                      f"{seeded()})", sizes, n, np.float64))
    for name, sizes, n, dtype in cases:
        params = _net(sizes, len(sizes) + n, dtype)
        X = rng.normal(size=(n, sizes[0])).astype(dtype)
        got = call(candidate, params, X, hint=HINT_NET)
        expected = reference_forward(params, X)
        if _is(got, np.maximum(expected, 0)) and not _is(got, expected):
            raise CheckFailed(f"on {name}: your logits went through a ReLU too; the last layer "
                              "has none (logits may be negative)", HINT_NET)
        if _is(got, np.exp(expected) / np.exp(expected).sum(axis=1, keepdims=True), 1e-4):
            raise CheckFailed(f"on {name}: you returned probabilities (a softmax); return the "
                              "logits: the softmax belongs to the loss", HINT_NET)
        no_bias = reference_forward([p if i % 2 == 0 else 0 * p for i, p in enumerate(params)],
                                    X)
        if _is(got, no_bias):
            raise CheckFailed(f"on {name}: the biases are missing (A = Z W + b)", HINT_NET)
        expect_array(got, expected, inputs=f"{name}: {describe(X)}", hint=HINT_NET,
                     rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    passed("mlp_forward", f"{len(cases)} networks of 1 to 4 layers, float32 and float64")


# ---------------------------------------------------------------- task 3: accuracy

def _a_number(got, where, hint, what="one number"):
    """Raise unless got is a Python or NumPy number (or a 0-d array)."""
    if got is None:
        raise CheckFailed(f"{where}: your function returned None: did it forget `return`?", hint)
    if isinstance(got, (list, tuple)):
        raise CheckFailed(f"{where}: your function returned a {type(got).__name__}; return "
                          f"{what}", hint)
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise CheckFailed(f"{where}: your function returned {describe(got)}, not an array or "
                          f"a number; return {what}", hint)


@task(hints=(
    "Reread chapter 10, section 10.2: the prediction for an example is the class with the "
    "largest logit.",
    "Take the index of the largest logit in each row (over the classes, not over the batch), "
    "compare with the labels, and return the fraction of matches as one number in [0, 1].",
))
def accuracy(candidate):
    """candidate(logits, labels) -> the fraction of rows whose largest logit is the label."""
    rng = fresh_rng(12)
    cases = []
    logits = rng.normal(size=(20, 20))         # square first: an axis mix-up runs
    labels = np.where(np.arange(20) < 14, np.argmax(logits, axis=1), rng.integers(0, 20, 20))
    cases.append(("20 rows of 20 logits", logits, labels))
    for n, k in ((50, 10), (7, 3), (1, 4)):
        logits = rng.normal(size=(n, k))
        labels = rng.integers(0, k, size=n)
        cases.append((f"{n} rows of {k} logits", logits, labels))
    logits = rng.normal(size=(20, 10))
    cases.append(("20 rows, every prediction right", logits, np.argmax(logits, axis=1)))
    cases.append(("20 rows, every prediction wrong", logits, (np.argmax(logits, axis=1) + 1) % 10))
    for name, logits, labels in cases:
        got = call(candidate, logits, labels, hint=HINT_NET)
        expected = float(np.mean(np.argmax(logits, axis=1) == labels))
        if isinstance(got, np.ndarray) and got.ndim == 1:
            raise CheckFailed(f"on {name}: returned an array of shape {got.shape}; return one "
                              "number, the fraction of right answers", HINT_NET)
        _a_number(got, f"on {name}", HINT_NET)
        value = float(got)
        if np.isclose(value, 100 * expected) and expected not in (0.0,):
            if not np.isclose(value, expected):
                raise CheckFailed(f"on {name}: {value} looks like a percentage; return a "
                                  f"fraction in [0, 1], here {expected}", HINT_NET)
        if np.isclose(value, expected * len(labels)) and not np.isclose(value, expected):
            raise CheckFailed(f"on {name}: {value} is the number of right answers; divide by "
                              f"the number of examples, {len(labels)}", HINT_NET)
        if logits.shape[0] == logits.shape[1]:
            by_column = float(np.mean(np.argmax(logits, axis=0) == labels))
            if np.isclose(value, by_column) and not np.isclose(value, expected):
                raise CheckFailed(f"on {name}: you took the argmax over axis 0 (over the batch); "
                                  "each row is an example: argmax over axis 1", HINT_NET)
        if not np.isclose(value, expected, rtol=1e-12, atol=1e-12):
            raise CheckFailed(f"on {name}: expected {expected}, got {value}", HINT_NET)
    passed("accuracy", f"{len(cases)} batches, including square ones and all right / all wrong")


# ---------------------------------------------------------------- task 4: a training step

def reference_loss_and_gradients(params, X, y, relu_mask=True):
    """Mean cross-entropy of the MLP on (X, y) and its gradients (any depth).

    relu_mask=False builds a classic mistake: the backward pass skips the ReLUs' masks.
    """
    caches, Z = [], X
    for l in range(0, len(params), 2):
        Z, cache = linear_forward(Z, params[l], params[l + 1])
        caches.append(cache)
        if l + 2 < len(params):
            Z, cache = relu_forward(Z)
            caches.append(cache)
    loss, ce = softmax_cross_entropy_forward(Z, y)
    d = softmax_cross_entropy_backward(1.0, ce)
    grads = [None] * len(params)
    for l in reversed(range(0, len(params), 2)):
        if l + 2 < len(params):
            mask_cache = caches.pop()
            d = relu_backward(d, mask_cache) if relu_mask else d
        d, grads[l], grads[l + 1] = linear_backward(d, caches.pop())
    return loss, grads


def reference_step(params, velocities, X, y, lr, momentum):
    loss, grads = reference_loss_and_gradients(params, X, y)
    for p, v, g in zip(params, velocities, grads):
        v *= momentum
        v += g
        p -= lr * v
    return loss


@task(hints=(
    "Reread chapter 10, section 10.5 'Training' (momentum in PyTorch's form) and section "
    "10.4 'One example at a time, or a mini-batch': a forward pass that keeps the caches, the "
    "mean loss, a backward pass, then the update.",
    "Run the layers forward keeping every cache, take the softmax cross-entropy loss and its "
    "gradient, go back through the caches in reverse order to get one gradient per parameter. "
    "Then, in place, scale each velocity by the momentum and add its gradient; move each "
    "parameter by minus lr times its velocity. Return the loss computed before the update.",
))
def train_step(candidate):
    """candidate(params, velocities, X, y, lr, momentum) -> loss; updates both lists in place."""
    rng = fresh_rng(13)
    cases = [("a 6-5-4-3 network, a batch of 8", (6, 5, 4, 3), 8),
             ("a 5-7-3 network, a batch of 1", (5, 7, 3), 1),
             ("a 4-3 network (no hidden layer), a batch of 6", (4, 3), 6)]
    for name, sizes, n in cases:
        params = _net(sizes, 20 + n)
        velocities = [rng.normal(size=p.shape) * 0.1 * (n != 8) for p in params]  # 0 first
        X = rng.normal(size=(n, sizes[0]))
        y = rng.integers(0, sizes[-1], size=n)
        mine_p, mine_v = [p.copy() for p in params], [v.copy() for v in velocities]
        start_p = [p.copy() for p in params]
        for step in range(2):                     # two steps: the velocity must carry over
            before_p, before_v = [p.copy() for p in mine_p], [v.copy() for v in mine_v]
            expected_loss = reference_step(mine_p, mine_v, X, y, 0.1, 0.9)
            got = call(candidate, params, velocities, X, y, 0.1, 0.9, hint=HINT_STEP)
            where = f"on {name}, step {step + 1}"
            _a_number(got, where, HINT_STEP, "the loss of the batch")
            if not isinstance(params, list) or len(params) != len(mine_p):
                raise CheckFailed(f"{where}: the list params was replaced or resized; update "
                                  "its arrays in place", HINT_STEP)
            if step == 0 and all(np.array_equal(p, s) for p, s in zip(params, start_p)):
                raise CheckFailed(f"{where}: params did not change; update each array in "
                                  "place (p -= ...), since the caller keeps the list", HINT_STEP)
            got_loss = float(got)
            if np.isclose(got_loss, n * expected_loss) and n > 1:
                raise CheckFailed(f"{where}: the loss is the sum over the batch; use the mean",
                                  HINT_SGD)
            if np.isclose(got_loss, -expected_loss, rtol=1e-8):
                raise CheckFailed(f"{where}: the loss has the wrong sign: the cross-entropy "
                                  "-mean log p_y is >= 0", HINT_STEP)
            if not np.isclose(got_loss, expected_loss, rtol=1e-8):
                raise CheckFailed(f"{where}: the loss {got_loss:.8g} should be {expected_loss:.8g}"
                                  " (computed before the update)", HINT_STEP)
            if not all(_is(v, want, 1e-8) for v, want in zip(velocities, mine_v)):
                raise CheckFailed(f"{where}: {_velocity_mistake(velocities, before_p, before_v, X, y)}",
                                  HINT_STEP)
            for i, (p, v, want_p, was_p) in enumerate(zip(params, velocities, mine_p, before_p)):
                what = f"{'W' if i % 2 == 0 else 'b'}{i // 2 + 1}"
                if not _is(p, want_p, 1e-8):
                    uphill = _is(p, was_p + 0.1 * v, 1e-8)
                    raise CheckFailed(f"{where}: {what} is not p - lr * v after the update "
                                      "(v already updated)" + (": it moved uphill, p + lr * v"
                                                               if uphill else ""), HINT_STEP)
    passed("train_step", f"{len(cases)} networks of 1 to 3 layers, two steps each, in place")


def _velocity_mistake(velocities, params, old_v, X, y, lr=0.1, momentum=0.9):
    """Name the mistake that the velocities after one step show (params, old_v: before it)."""
    _, g = reference_loss_and_gradients(params, X, y)
    _, unmasked = reference_loss_and_gradients(params, X, y, relu_mask=False)
    n = len(y)
    mistakes = [
        ([-gi for gi in g], "the gradient has the wrong sign (t - p instead of p - t, the "
         "gradient of the log-likelihood): a step along it climbs the loss"),
        ([n * gi for gi in g], f"the gradient is N = {n} times too large: the 1/N of the mean "
         "loss is missing (dlogits = (p - t) / N)"),
        ([-lr * gi for gi in g], "that is the classic momentum form, v <- momentum * v - lr * g, "
         "p <- p + v; this task uses PyTorch's: v <- momentum * v + g, then p <- p - lr * v"),
        ([lr * gi for gi in g], "the velocity holds lr * g; this task uses PyTorch's form, "
         "v <- momentum * v + g, then p <- p - lr * v"),
        (unmasked, "the ReLU's mask is missing in the backward pass: multiply the gradient by "
         "(A > 0) of each hidden layer before going back through its weights"),
    ]
    for step, message in mistakes:
        if all(_is(v, momentum * v0 + s, 1e-6) for v, v0, s in zip(velocities, old_v, step)):
            return message
    if all(_is(v, gi, 1e-6) for v, gi in zip(velocities, g)):
        return "the velocity is the gradient alone: the momentum term momentum * v is missing"
    wrong = next(i for i, (v, v0, gi) in enumerate(zip(velocities, old_v, g))
                 if not _is(v, momentum * v0 + gi, 1e-8))
    what = f"{'W' if wrong % 2 == 0 else 'b'}{wrong // 2 + 1}"
    return (f"the velocity of {what} is not momentum * v + g (g the gradient of the mean loss "
            "of the batch)")


# ---------------------------------------------------------------- task 5: train your own

_DATA = {}


def _mnist():
    if not _DATA:
        X_train, y_train, X_test, y_test = load_mnist(progress=False)
        _DATA["train"] = (X_train.reshape(-1, 784).astype(np.float32) / np.float32(255),
                          y_train.astype(np.int64))
        _DATA["test"] = (X_test.reshape(-1, 784).astype(np.float32) / np.float32(255),
                         y_test.astype(np.int64))
    return _DATA["train"], _DATA["test"]


def _call_slow(candidate, X, y, seconds):
    """Like core.call, with a longer time limit: training takes seconds, not milliseconds."""
    return run(candidate, [X.copy(), y.copy()], seconds=seconds,
               shown=f"the {len(X):,} training images", hint=HINT_TRAIN,
               too_slow="fewer epochs or larger batches")


@task(hints=(
    "Reread chapter 10, section 10.5 'Training': He initialization, batches of 128, momentum "
    "0.9, a few epochs, a step size that decays.",
    "Initialize each weight matrix with normal draws scaled by the square root of 2 over its "
    "fan-in and the biases at zero; then for a few epochs shuffle the training set, cut it "
    "into batches and call your train_step on each, with a step size that shrinks over time.",
))
def train_mlp(candidate):
    """candidate(X_train, y_train) -> params [W1, b1, ...] reaching >= 97% test accuracy."""
    (X, y), (X_test, y_test) = _mnist()
    if seeded() is not None:  # the same images, in an order the candidate has never seen
        order = fresh_rng(14).permutation(len(X))
        X, y = X[order], y[order]
    params = _call_slow(candidate, X, y, TRAIN_SECONDS)
    if not isinstance(params, (list, tuple)) or len(params) < 2 or len(params) % 2:
        if params is None:
            raise CheckFailed("your function returned None: did it forget `return`?",
                              HINT_TRAIN)
        what = (f"a list of {len(params)} items" if isinstance(params, (list, tuple))
                else f"{describe(params)}, not an array nor a list of arrays")
        raise CheckFailed(f"returned {what}; return the list [W1, b1, W2, b2, ...] of your "
                          "trained parameters", HINT_TRAIN)
    width = 784
    for i, p in enumerate(params):
        kind = "W" if i % 2 == 0 else "b"
        if not isinstance(p, np.ndarray):
            raise CheckFailed(f"{kind}{i // 2 + 1} is {type(p).__name__}, not an array",
                              HINT_TRAIN)
        if kind == "W" and (p.ndim != 2 or p.shape[0] != width):
            raise CheckFailed(f"W{i // 2 + 1} has shape {p.shape}; it should be ({width}, ...): "
                              "weights are (fan_in, fan_out), A = Z W + b", HINT_TRAIN)
        if kind == "W":
            width = p.shape[1]
        elif p.shape != (width,):
            raise CheckFailed(f"b{i // 2 + 1} has shape {p.shape}, expected ({width},)",
                              HINT_TRAIN)
        if not np.all(np.isfinite(p)):
            raise CheckFailed(f"{kind}{i // 2 + 1} contains NaN or inf: training diverged "
                              "(a step size too large for the loss, or a summed loss?)",
                              HINT_TRAIN)
    if width != 10:
        raise CheckFailed(f"the last layer has {width} outputs; MNIST has 10 classes",
                          HINT_TRAIN)
    logits = reference_forward(list(params), X_test)
    acc = float(np.mean(np.argmax(logits, axis=1) == y_test))
    if acc < TARGET:
        raise CheckFailed(f"test accuracy {acc:.2%}, below {TARGET:.0%}", HINT_TRAIN)
    passed("train_mlp", f"test accuracy at least {TARGET:.0%} on the 10,000 test digits")
